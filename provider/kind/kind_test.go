package kind

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/devcluster/devcluster/config"
	"github.com/devcluster/devcluster/install"
	"github.com/devcluster/devcluster/internal/problem"
	"github.com/devcluster/devcluster/internal/run/runtest"
	"github.com/devcluster/devcluster/provider"
)

// cluster answers kind's and docker's commands for one running cluster
// "dev" with a worker, as real kind v0.33.0 and docker print them.
func cluster(record string) func(argv []string) runtest.Reply {
	return func(argv []string) runtest.Reply {
		cmd := strings.Join(argv, " ")
		switch {
		case cmd == "kind version":
			return runtest.Reply{Stdout: "kind v0.33.0 go1.26.8 linux/amd64\n"}
		case strings.HasPrefix(cmd, "docker version"):
			return runtest.Reply{Stdout: "28.2.2\n"}
		case cmd == "kind get clusters":
			return runtest.Reply{Stdout: "dev\nother\n"}
		case cmd == "kind get nodes --name dev":
			return runtest.Reply{Stdout: "dev-worker\ndev-control-plane\n"}
		case strings.HasPrefix(cmd, "docker inspect -f"):
			return runtest.Reply{Stdout: "/dev-control-plane running control-plane 172.18.0.2,\n/dev-worker running worker 172.18.0.3,\n"}
		case cmd == "docker cp dev-control-plane:"+recordPath+" -":
			if record == "" {
				return runtest.Reply{ExitCode: 1, Stderr: "Error: No such container:path: dev-control-plane:" + recordPath + "\n"}
			}
			return runtest.Reply{Stdout: runtest.Tar("devcluster-cluster.yaml", record)}
		case strings.HasPrefix(cmd, "docker network inspect kind"):
			return runtest.Reply{Stdout: "fc00:f853:ccd:e793::1 172.18.0.1 \n"}
		}
		return runtest.Reply{}
	}
}

func TestGetReadsTheClusterAndItsRecord(t *testing.T) {
	t.Parallel()
	spec := provider.Spec{Name: "dev", KubernetesVersion: "v1.37.0", Workers: 1}
	f := &runtest.Fake{Handler: cluster(string(GenerateConfig(spec)))}
	k := New(f, WithEnv(func(string) (string, bool) { return "", false }))
	c, err := k.Get(context.Background(), "dev")
	if err != nil {
		t.Fatal(err)
	}
	if c.State != provider.Running || c.IP != "172.18.0.2" || c.HostAddress != "172.18.0.1" || c.Workers != 1 ||
		c.NodeImage != DefaultNodeImage || c.KubernetesVersion != "v1.37.0" || c.Record == nil || c.KubeContext != "kind-dev" ||
		!slices.Equal(c.NodeNames, []string{"dev-control-plane", "dev-worker"}) {
		t.Errorf("Get = %+v", c)
	}
	if d := k.Diff(spec, c); len(d) != 0 {
		t.Errorf("no drift expected: %v", d)
	}
	before := len(f.Calls())
	if ip, err := k.IP(context.Background(), "dev"); err != nil || ip != "172.18.0.2" || len(f.Calls()) != before+1 {
		t.Errorf("IP = %q, %v after %d commands", ip, err, len(f.Calls())-before)
	}
	want := spec
	want.Workers, want.KubernetesVersion = 2, "v1.36.1"
	d := k.Diff(want, c)
	if len(d) != 2 || d[0].Desired != "kindest/node:v1.36.1" || d[1].Field != "workers" || d[1].Existing != "1" || d[1].Desired != "2" {
		t.Errorf("Diff = %v", d)
	}
}

// A kind cluster of the same name that devcluster did not create has no
// record: it is Foreign, and Diff says how to use it as it is.
func TestClusterWithoutRecordIsNotOurs(t *testing.T) {
	t.Parallel()
	k := New(&runtest.Fake{Handler: cluster("")}, WithEnv(func(string) (string, bool) { return "", false }))
	c, err := k.Get(context.Background(), "dev")
	if err != nil {
		t.Fatal(err)
	}
	d := k.Diff(provider.Spec{Name: "dev"}, c)
	if c.Record != nil || !strings.Contains(c.Foreign, "has no "+recordPath) || len(d) != 1 || !strings.Contains(d[0].String(), "provider existing with context kind-dev") {
		t.Errorf("Get = %+v, Diff = %v", c, d)
	}
}

// stopped answers for "dev" with its node containers exited: docker exec
// fails, docker cp still reads the node's files.
func stopped(record string) func(argv []string) runtest.Reply {
	return func(argv []string) runtest.Reply {
		cmd := strings.Join(argv, " ")
		switch {
		case strings.HasPrefix(cmd, "docker inspect -f"):
			return runtest.Reply{Stdout: "/dev-control-plane exited control-plane ,\n/dev-worker exited worker ,\n"}
		case strings.HasPrefix(cmd, "docker exec "):
			return runtest.Reply{ExitCode: 1, Stderr: "Error response from daemon: container 0123 is not running\n"}
		}
		return cluster(record)(argv)
	}
}

// A stopped cluster's record is read from its stopped node (docker cp), so
// its drift is found before anything starts it, and a stopped cluster
// devcluster did not create is known as such.
func TestStoppedClusterIsCompared(t *testing.T) {
	t.Parallel()
	spec := provider.Spec{Name: "dev"}
	k := New(&runtest.Fake{Handler: stopped(string(GenerateConfig(spec)))}, WithEnv(func(string) (string, bool) { return "", false }))
	c, err := k.Get(context.Background(), "dev")
	if err != nil || c.State != provider.Stopped || c.Record == nil || c.Foreign != "" {
		t.Fatalf("Get = %+v, %v", c, err)
	}
	if d := k.Diff(provider.Spec{Name: "dev", Workers: 1}, c); len(d) != 1 || d[0].Field != "workers" {
		t.Errorf("Diff of a stopped cluster = %v", d)
	}
	k = New(&runtest.Fake{Handler: stopped("")}, WithEnv(func(string) (string, bool) { return "", false }))
	if c, err := k.Get(context.Background(), "dev"); err != nil || c.Foreign == "" {
		t.Errorf("a stopped cluster without a record: %+v, %v", c, err)
	}
}

// A record that cannot be read for another reason than its absence (the
// daemon fails) is an error, never taken for a cluster devcluster did not
// create, nor for one it did.
func TestUnreadableRecordIsAnError(t *testing.T) {
	t.Parallel()
	k := New(&runtest.Fake{Handler: func(argv []string) runtest.Reply {
		if argv[0] == "docker" && argv[1] == "cp" {
			return runtest.Reply{ExitCode: 1, Stderr: "Error response from daemon: i/o timeout\n"}
		}
		return cluster("")(argv)
	}}, WithEnv(func(string) (string, bool) { return "", false }))
	if c, err := k.Get(context.Background(), "dev"); err == nil || !strings.Contains(err.Error(), "reading devcluster's record") {
		t.Errorf("Get = %+v, %v", c, err)
	}
}

func TestAbsentCluster(t *testing.T) {
	t.Parallel()
	f := &runtest.Fake{Handler: cluster("")}
	c, err := New(f).Get(context.Background(), "nope")
	if err != nil || c.State != provider.Absent {
		t.Fatalf("Get = %+v, %v", c, err)
	}
	if n := len(f.Calls()); n != 1 {
		t.Errorf("an absent cluster took %d commands: %v", n, f.Calls())
	}
}

func TestCreateRunsKindWithTheGeneratedConfigAndRecordsIt(t *testing.T) {
	t.Parallel()
	var config string
	f := &runtest.Fake{Handler: func(argv []string) runtest.Reply {
		if argv[0] == "kind" && argv[1] == "create" {
			b, err := os.ReadFile(argv[slices.Index(argv, "--config")+1])
			if err != nil {
				t.Error(err)
			}
			config = string(b)
		}
		return runtest.Reply{}
	}}
	var progress []string
	spec := provider.Spec{Name: "dev", Workers: 2, KubernetesVersion: "v1.36.1"}
	if err := New(f).Create(context.Background(), spec, func(l string) { progress = append(progress, l) }); err != nil {
		t.Fatal(err)
	}
	calls := f.Calls()
	if len(calls) != 2 {
		t.Fatalf("calls: %v", calls)
	}
	create := strings.Join(calls[0], " ")
	if !strings.HasPrefix(create, "kind create cluster --name dev --config ") || !strings.HasSuffix(create, " --wait 5m") {
		t.Errorf("create: %s", create)
	}
	if got := strings.Join(calls[1], " "); got != "docker exec -i dev-control-plane cp /dev/stdin "+recordPath {
		t.Errorf("record: %s", got)
	}
	want := `# Generated by devcluster; kind cannot change a cluster, so devcluster compares this with its configuration.
kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
name: dev
nodes:
  - role: control-plane
    image: kindest/node:v1.36.1
  - role: worker
    image: kindest/node:v1.36.1
  - role: worker
    image: kindest/node:v1.36.1
`
	if config != want {
		t.Errorf("config:\n%s\nwant:\n%s", config, want)
	}
}

func TestEnsureInstalledNamesWhatIsMissing(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		reply  func(argv []string) runtest.Reply
		kind   problem.Kind
		substr string
	}{
		{"no kind", func(argv []string) runtest.Reply { return runtest.Reply{NotFound: argv[0] == "kind"} }, problem.Missing, "kind is not installed"},
		// Too old is minikube's problem of the same name: exit code 5,
		// before Docker is asked.
		{"too old", func(argv []string) runtest.Reply {
			if argv[0] == "docker" {
				return runtest.Reply{NotFound: true}
			}
			return runtest.Reply{Stdout: "kind v0.26.0 go1.23.4 linux/amd64\n"}
		}, problem.Missing, "kind is too old: found v0.26.0, devcluster needs v0.27.0 or newer"},
		{"oldest supported, no docker", func(argv []string) runtest.Reply {
			if argv[0] == "docker" {
				return runtest.Reply{NotFound: true}
			}
			return runtest.Reply{Stdout: "0.27.0\n"}
		}, problem.Missing, "Docker is not installed"},
		{"no docker", func(argv []string) runtest.Reply {
			if argv[0] == "docker" {
				return runtest.Reply{NotFound: true}
			}
			return runtest.Reply{Stdout: "kind v0.33.0 go1.26.8 linux/amd64\n"}
		}, problem.Missing, "Docker is not installed"},
		{"docker down", func(argv []string) runtest.Reply {
			if argv[0] == "docker" {
				return runtest.Reply{ExitCode: 1, Stderr: "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?\n"}
			}
			return runtest.Reply{Stdout: "kind v0.33.0 go1.26.8 linux/amd64\n"}
		}, problem.Missing, "Docker is installed but not running"},
	} {
		_, err := New(&runtest.Fake{Handler: tc.reply}).EnsureInstalled(context.Background())
		if problem.KindOf(err) != tc.kind || !strings.Contains(err.Error(), tc.substr) {
			t.Errorf("%s: %v (kind %v)", tc.name, err, problem.KindOf(err))
		}
	}
	v, err := New(&runtest.Fake{Handler: cluster("")}).EnsureInstalled(context.Background())
	if err != nil || v != "v0.33.0" {
		t.Errorf("EnsureInstalled = %q, %v", v, err)
	}
}

func TestParseVersion(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"kind v0.33.0 go1.26.8 linux/amd64\n": "v0.33.0",
		"0.33.0\n":                            "v0.33.0",
		"":                                    "",
		"ERROR: unknown command":              "",
	} {
		if got := ParseVersion(in); got != want {
			t.Errorf("ParseVersion(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNodeCommandsGoThroughDockerExec(t *testing.T) {
	t.Parallel()
	f := &runtest.Fake{}
	k := New(f)
	if _, err := k.RunOnNode(context.Background(), "dev", "dev-worker", "mkdir", "-p", "/etc/containerd/certs.d/x"); err != nil {
		t.Fatal(err)
	}
	if _, err := k.RunOnNode(context.Background(), "dev", "", "cat", "/kind/version"); err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(t.TempDir(), "hosts.toml")
	if err := os.WriteFile(src, []byte("server = \"http://x\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := k.CopyToNode(context.Background(), "dev", "dev-worker", src, "/etc/containerd/certs.d/x/hosts.toml"); err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"docker", "exec", "dev-worker", "mkdir", "-p", "/etc/containerd/certs.d/x"},
		{"docker", "exec", "dev-control-plane", "cat", "/kind/version"},
		{"docker", "exec", "-i", "dev-worker", "cp", "/dev/stdin", "/etc/containerd/certs.d/x/hosts.toml"},
	}
	if got := f.Calls(); !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("calls:\n%v\nwant:\n%v", got, want)
	}
}

// --kubeconfig reaches every kind command that writes or deletes the
// context, and the context is looked up in that file alone.
func TestKubeconfigFileGoesToKind(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file, other := filepath.Join(dir, "ci"), filepath.Join(dir, "default")
	for f, ctx := range map[string]string{file: "kind-dev", other: "kind-other"} {
		if err := os.WriteFile(f, []byte("apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: \"https://127.0.0.1:1\"}\ncontexts:\n- name: "+ctx+"\n  context: {cluster: c, user: u}\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	f := &runtest.Fake{Handler: cluster(string(GenerateConfig(provider.Spec{Name: "dev"})))}
	env := func(k string) (string, bool) { return map[string]string{"KUBECONFIG": other}[k], k == "KUBECONFIG" }
	k := New(f, WithEnv(env), WithKubeconfig(file))
	ctx := context.Background()
	if err := k.Create(ctx, provider.Spec{Name: "dev"}, nil); err != nil {
		t.Fatal(err)
	}
	if err := k.RepairKubeconfig(ctx, "dev"); err != nil {
		t.Fatal(err)
	}
	if err := k.Delete(ctx, "dev", nil); err != nil {
		t.Fatal(err)
	}
	var kinds int
	for _, c := range f.Calls() {
		if c[0] != "kind" {
			continue
		}
		kinds++
		if i := slices.Index(c, "--kubeconfig"); i < 0 || c[i+1] != file {
			t.Errorf("without --kubeconfig %s: %v", file, c)
		}
	}
	if kinds != 3 {
		t.Errorf("%d kind commands: %v", kinds, f.Calls())
	}
	if !k.hasContext("kind-dev") || k.hasContext("kind-other") {
		t.Error("the context is not looked up in --kubeconfig alone")
	}
}

// A cluster whose record could not be written would pass for someone
// else's: Create deletes it again.
func TestCreateDeletesAClusterItCannotRecord(t *testing.T) {
	t.Parallel()
	f := &runtest.Fake{Handler: func(argv []string) runtest.Reply {
		if argv[0] == "docker" && argv[1] == "exec" {
			return runtest.Reply{ExitCode: 1, Stderr: "Error response from daemon: container 0123 is not running\n"}
		}
		return runtest.Reply{}
	}}
	err := New(f).Create(context.Background(), provider.Spec{Name: "dev"}, nil)
	if err == nil || !strings.Contains(problem.FixOf(err), "deleted again") {
		t.Fatalf("Create = %v (fix %q)", err, problem.FixOf(err))
	}
	if calls := f.Calls(); len(calls) != 3 || strings.Join(calls[2], " ") != "kind delete cluster --name dev" {
		t.Errorf("calls: %v", calls)
	}
}

func TestKubeconfigContextIsLookedUp(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	if err := os.WriteFile(b, []byte("apiVersion: v1\nkind: Config\ncontexts:\n- name: kind-dev\n  context: {cluster: kind-dev, user: kind-dev}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := func(k string) (string, bool) {
		if k == "KUBECONFIG" {
			return a + string(filepath.ListSeparator) + b, true
		}
		return "", false
	}
	k := New(&runtest.Fake{}, WithEnv(env))
	if !k.hasContext("kind-dev") || k.hasContext("kind-other") {
		t.Error("the context in the second kubeconfig file was not found, or another was")
	}
}

// portMappings become the control plane's extraPortMappings, are read
// back from the record, and a change is drift.
func TestPortMappingsAreCreatedRecordedAndCompared(t *testing.T) {
	t.Parallel()
	m := config.PortMapping{ContainerPort: 30080, HostPort: 8080, ListenAddress: "127.0.0.1", Protocol: "TCP"}
	spec := provider.Spec{Name: "dev", PortMappings: []config.PortMapping{m}}
	generated := string(GenerateConfig(spec))
	if !strings.Contains(generated, `  - role: control-plane
    extraPortMappings:
      - containerPort: 30080
        hostPort: 8080
        listenAddress: 127.0.0.1
        protocol: TCP
`) {
		t.Errorf("generated:\n%s", generated)
	}
	k := New(&runtest.Fake{Handler: cluster(generated)}, WithEnv(func(string) (string, bool) { return "", false }))
	c, err := k.Get(context.Background(), "dev")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.PortMappings, spec.PortMappings) {
		t.Errorf("read back %+v", c.PortMappings)
	}
	if d := k.Diff(spec, c); len(d) != 0 {
		t.Errorf("no drift expected: %v", d)
	}
	want := spec
	want.PortMappings = []config.PortMapping{{ContainerPort: 30080, HostPort: 9090, ListenAddress: "127.0.0.1", Protocol: "TCP"}}
	if d := k.Diff(want, c); len(d) != 1 || d[0].Field != "portMappings" || d[0].Existing != "127.0.0.1:8080->30080/TCP" || d[0].Desired != "127.0.0.1:9090->30080/TCP" {
		t.Errorf("Diff = %v", d)
	}
	want.PortMappings = nil
	if d := k.Diff(want, c); len(d) != 1 || d[0].Desired != "none" {
		t.Errorf("Diff without mappings = %v", d)
	}
}

// The release `up --install` downloads is one EnsureInstalled accepts.
func TestPinnedReleaseIsSupported(t *testing.T) {
	t.Parallel()
	if provider.CompareVersions(install.Kind.Version, MinVersion) < 0 {
		t.Errorf("install pins kind %s, older than MinVersion %s", install.Kind.Version, MinVersion)
	}
}
