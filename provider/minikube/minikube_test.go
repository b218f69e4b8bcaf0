package minikube

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/devcluster/devcluster/internal/problem"
	"github.com/devcluster/devcluster/internal/run"
	"github.com/devcluster/devcluster/internal/run/runtest"
	"github.com/devcluster/devcluster/provider"
)

func TestEnsureInstalled(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		reply    runtest.Reply
		wantKind problem.Kind
		wantErr  string
		wantVer  string
	}{
		{name: "current release", reply: runtest.Reply{Stdout: `{"commit":"c93a4cb","minikubeVersion":"v1.38.1"}` + "\n"}, wantVer: "v1.38.1"},
		{name: "missing binary", reply: runtest.Reply{NotFound: true}, wantKind: problem.Missing, wantErr: "minikube is not installed"},
		{name: "too old", reply: runtest.Reply{Stdout: `{"minikubeVersion":"v1.25.2"}`}, wantKind: problem.Missing, wantErr: "found v1.25.2, devcluster needs v1.30.0 or newer"},
		{name: "not json", reply: runtest.Reply{Stdout: "minikube version: v1.38.1\n"}, wantKind: problem.Failed, wantErr: "unexpected output"},
		{name: "crashes", reply: runtest.Reply{ExitCode: 10, Stderr: "boom"}, wantKind: problem.Failed, wantErr: "checking the minikube version"},
	}
	for _, tc := range cases {
		tc := tc
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := &runtest.Fake{Handler: func([]string) runtest.Reply { return tc.reply }}
			v, err := New(f).EnsureInstalled(context.Background())
			if tc.wantErr == "" {
				if err != nil || v != tc.wantVer {
					t.Fatalf("EnsureInstalled() = %q, %v; want %q", v, err, tc.wantVer)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || problem.KindOf(err) != tc.wantKind {
				t.Fatalf("EnsureInstalled() error = %v (kind %v); want %q (kind %v)", err, problem.KindOf(err), tc.wantErr, tc.wantKind)
			}
		})
	}
}

// profileHome is a MINIKUBE_HOME holding saved profiles as minikube writes
// them (<MINIKUBE_HOME>/.minikube/profiles/<name>/config.json).
func profileHome(t *testing.T, profiles map[string]string) func(string) (string, bool) {
	t.Helper()
	home := t.TempDir()
	for name, cfg := range profiles {
		dir := filepath.Join(home, ".minikube", "profiles", name)
		if err := os.MkdirAll(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(cfg), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return func(k string) (string, bool) {
		if k == "MINIKUBE_HOME" {
			return home, true
		}
		return "", false
	}
}

func TestGetStates(t *testing.T) {
	t.Parallel()
	profiles := map[string]string{
		"dev":        `{"Name":"dev","Memory":4096,"CPUs":2,"Driver":"docker","InsecureRegistry":null,"KubernetesConfig":{"KubernetesVersion":"v1.35.1","ContainerRuntime":"containerd"},"Nodes":[{"Name":"","IP":"192.168.49.2","KubernetesVersion":"v1.35.1","ControlPlane":true,"Worker":true}]}`,
		"broken":     `{"Name":"broken","Driver":""}`,
		"unreadable": `{"Name":`,
	}
	cases := []struct {
		name       string
		profile    string
		status     runtest.Reply
		want       provider.State
		kubeconfig bool
	}{
		{name: "running", profile: "dev",
			status: runtest.Reply{Stdout: `{"Name":"dev","Host":"Running","Kubelet":"Running","APIServer":"Running","Kubeconfig":"Configured","Worker":false}`},
			want:   provider.Running, kubeconfig: true},
		{name: "paused exits 2", profile: "dev",
			status: runtest.Reply{ExitCode: 2, Stdout: `{"Name":"dev","Host":"Running","Kubelet":"Stopped","APIServer":"Paused","Kubeconfig":"Configured","Worker":false}`},
			want:   provider.Paused, kubeconfig: true},
		{name: "stopped exits 7", profile: "dev",
			status: runtest.Reply{ExitCode: 7, Stdout: `{"Name":"dev","Host":"Stopped","Kubelet":"Stopped","APIServer":"Stopped","Kubeconfig":"Stopped","Worker":false}`},
			want:   provider.Stopped},
		{name: "machine gone prints null", profile: "dev", status: runtest.Reply{ExitCode: 7, Stdout: "null"}, want: provider.Stopped},
		{name: "apiserver down", profile: "dev",
			status: runtest.Reply{ExitCode: 2, Stdout: `{"Name":"dev","Host":"Running","Kubelet":"Running","APIServer":"Stopped","Kubeconfig":"Configured","Worker":false}`},
			want:   provider.Degraded, kubeconfig: true},
		{name: "misconfigured kubeconfig", profile: "dev",
			status: runtest.Reply{ExitCode: 4, Stdout: `{"Name":"dev","Host":"Running","Kubelet":"Running","APIServer":"Running","Kubeconfig":"Misconfigured","Worker":false}`},
			want:   provider.Running, kubeconfig: false},
		{name: "multi-node array", profile: "dev",
			status: runtest.Reply{Stdout: `[{"Name":"dev","Host":"Running","Kubelet":"Running","APIServer":"Running","Kubeconfig":"Configured","Worker":false},{"Name":"dev-m02","Host":"Running","Kubelet":"Running","APIServer":"Irrelevant","Kubeconfig":"Irrelevant","Worker":true}]`},
			want:   provider.Running, kubeconfig: true},
		{name: "absent", profile: "other", want: provider.Absent},
		{name: "invalid profile (no driver)", profile: "broken", want: provider.Invalid},
		{name: "unreadable profile", profile: "unreadable", want: provider.Invalid},
		{name: "deleted between the read and status", profile: "dev",
			status: runtest.Reply{ExitCode: 85, Stdout: `* Profile "dev" not found.`}, want: provider.Absent},
	}
	env := profileHome(t, profiles)
	for _, tc := range cases {
		tc := tc
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := &runtest.Fake{Handler: func(argv []string) runtest.Reply { return tc.status }}
			c, err := New(f, WithEnv(env)).Get(context.Background(), tc.profile)
			if err != nil {
				t.Fatal(err)
			}
			if c.State != tc.want {
				t.Errorf("state = %s (%s), want %s", c.State, c.Detail, tc.want)
			}
			if c.State == provider.Running && c.KubeconfigOK != tc.kubeconfig {
				t.Errorf("kubeconfigOK = %v, want %v", c.KubeconfigOK, tc.kubeconfig)
			}
			// One minikube process at most: the profile comes from its file.
			calls := f.Calls()
			if len(calls) > 1 || (len(calls) == 1 && calls[0][1] != "status") {
				t.Errorf("minikube calls = %q, want at most one status", calls)
			}
			if tc.want == provider.Running && (c.IP != "192.168.49.2" || c.CPUs != 2 || c.MemoryMB != 4096 || c.KubernetesVersion != "v1.35.1") {
				t.Errorf("cluster read from the profile = %+v", c)
			}
		})
	}
}

func TestGetFailsOnBrokenStatus(t *testing.T) {
	t.Parallel()
	env := profileHome(t, map[string]string{"dev": `{"Name":"dev","Driver":"docker","Nodes":[{"Name":"","KubernetesVersion":"v1.35.1"}]}`})
	f := &runtest.Fake{Handler: func([]string) runtest.Reply {
		return runtest.Reply{ExitCode: 10, Stderr: "X Exiting due to MK_COMMAND_RUNNER: boom"}
	}}
	_, err := New(f, WithEnv(env)).Get(context.Background(), "dev")
	if err == nil || !strings.Contains(err.Error(), "reading minikube status") {
		t.Fatalf("err = %v", err)
	}
}

// A profile whose machine was removed behind minikube's back: GUEST_STATUS
// (exit 80) makes the cluster Invalid, and the other commands advise
// `up --recreate`.
func TestMachineGone(t *testing.T) {
	t.Parallel()
	env := profileHome(t, map[string]string{"dev": `{"Name":"dev","Driver":"docker","Nodes":[{"Name":"","KubernetesVersion":"v1.35.1"}]}`})
	gone := runtest.Reply{ExitCode: 80, Stderr: "X Exiting due to GUEST_STATUS: Unable to get control-plane node dev host status: state: unknown state \"dev\": docker container inspect dev --format={{.State.Status}}: exit status 1"}
	f := &runtest.Fake{Handler: func([]string) runtest.Reply { return gone }}
	m := New(f, WithEnv(env))
	c, err := m.Get(context.Background(), "dev")
	if err != nil || c.State != provider.Invalid || !strings.Contains(c.Detail, "machine is gone") {
		t.Fatalf("Get = %+v, %v", c, err)
	}
	for _, err := range []error{m.Unpause(context.Background(), "dev", nil), m.RepairKubeconfig(context.Background(), "dev")} {
		if !strings.Contains(problem.FixOf(err), "up --recreate") {
			t.Errorf("fix = %q", problem.FixOf(err))
		}
	}
}

// testdata/real-start-guest-provision.jsonl is real minikube v1.38.1's
// output of a `start -o json` whose docker could create nothing (recorded
// by the contract tier's healthy docker, home paths rewritten): steps,
// warnings, an unnamed error per attempt, the named GUEST_PROVISION, then
// the unnamed issue-link box.
func TestStartErrorTakesTheNamedEvent(t *testing.T) {
	t.Parallel()
	recorded, err := os.ReadFile("testdata/real-start-guest-provision.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	f := &runtest.Fake{Handler: func([]string) runtest.Reply { return runtest.Reply{ExitCode: 80, Stdout: string(recorded)} }}
	err = New(f).Create(context.Background(), provider.SpecOf(nil2cfg()), nil)
	if err == nil || !strings.Contains(err.Error(), "minikube failed with GUEST_PROVISION: error provisioning guest") {
		t.Fatalf("err = %v", err)
	}
	var re *run.Error
	if !errors.As(err, &re) || strings.Contains(re.Output(), "Exiting due to :") || !strings.Contains(re.Output(), "X StartHost failed, but will try again") {
		t.Errorf("output shown = %q", re.Output())
	}
}

// Start failures devcluster explains itself.
func TestStartErrorsWithDevclustersOwnFix(t *testing.T) {
	t.Parallel()
	ev := func(code int, name, msg string) string {
		return fmt.Sprintf(`{"specversion":"1.0","type":"io.k8s.sigs.minikube.error","data":{"advice":"","exitcode":"%d","message":%q,"name":%q}}`, code, msg, name)
	}
	for _, tc := range []struct {
		code      int
		name, msg string
		kind      problem.Kind
		what, fix string
	}{
		{57, "DRV_AS_ROOT", `The "docker" driver should not be used with root privileges.`, problem.Missing, "refuses to run the docker driver as root", "--start-arg=--force"},
		{63, "PROVIDER_DOCKER_NOT_RUNNING", "Cannot connect to the Docker daemon", problem.Missing, "Docker is installed but not running", "systemctl start docker"},
		{55, "DRV_DOCKER_NOT_RUNNING", "Found docker, but the docker service isn't running", problem.Missing, "Docker is installed but not running", "systemctl start docker"},
		{48, "INET_LOOKUP_HOST", "error fetching Kubernetes version list from GitHub: Get \"https://api.github.com/repos/kubernetes/kubernetes/releases/tags/v1.99.0\": dial tcp: lookup api.github.com: no such host", problem.Config, "could not look it up online (INET_LOOKUP_HOST)", "a Kubernetes version this minikube knows"},
		{40, "K8S_FAIL_CONNECT", "error fetching Kubernetes version list from GitHub: Get \"https://api.github.com/repos/kubernetes/kubernetes/releases/tags/v1.99.0\": dial tcp: lookup api.github.com on 10.255.255.53:53: dial udp 10.255.255.53:53: connect: network is unreachable", problem.Config, "could not look it up online (K8S_FAIL_CONNECT)", "a Kubernetes version this minikube knows"},
		{48, "INET_LOOKUP_HOST", "Failed to pull image: dial tcp: lookup registry-1.docker.io: no such host", problem.Failed, "minikube failed with INET_LOOKUP_HOST: Failed to pull image", "minikube logs -p"},
	} {
		f := &runtest.Fake{Handler: func([]string) runtest.Reply {
			return runtest.Reply{ExitCode: tc.code, Stdout: ev(tc.code, tc.name, tc.msg)}
		}}
		err := New(f).Create(context.Background(), provider.SpecOf(nil2cfg()), nil)
		if problem.KindOf(err) != tc.kind || !strings.Contains(err.Error(), tc.what) || !strings.Contains(problem.FixOf(err), tc.fix) {
			t.Errorf("%s: kind %v, err %v, fix %q", tc.name, problem.KindOf(err), err, problem.FixOf(err))
		}
	}
}

// The version is asked once per executable: a second provider finds it in
// the cache; a changed executable is asked again.
func TestVersionIsCachedPerExecutable(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bin := filepath.Join(dir, "minikube")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	cache := filepath.Join(dir, "state", "versions.json")
	f := &runtest.Fake{Handler: func([]string) runtest.Reply {
		return runtest.Reply{Stdout: `{"commit":"c","minikubeVersion":"v1.38.1"}`}
	}}
	for i := 0; i < 3; i++ {
		v, err := New(f, WithBinary(bin), WithVersionCache(cache)).EnsureInstalled(context.Background())
		if err != nil || v != "v1.38.1" {
			t.Fatalf("EnsureInstalled = %q, %v", v, err)
		}
	}
	if n := len(f.Calls()); n != 1 {
		t.Errorf("minikube version ran %d times, want 1", n)
	}
	// A new binary (another size) is asked again.
	if err := os.WriteFile(bin, []byte("#!/bin/sh\n# upgraded\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := New(f, WithBinary(bin), WithVersionCache(cache)).EnsureInstalled(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := len(f.Calls()); n != 2 {
		t.Errorf("after an upgrade minikube version ran %d times in all, want 2", n)
	}
}

func TestVersionDiff(t *testing.T) {
	t.Parallel()
	cases := []struct {
		want, have string
		differs    bool
		note       string
	}{
		{"", "v1.35.1", false, ""},
		{"stable", "v1.30.0", false, ""},
		{"v1.35.1", "v1.35.1", false, ""},
		{"v1.35", "v1.35.4", false, ""},
		{"v1.35", "v1.34.2", true, "upgrade in place"},
		{"v1.36.0", "v1.35.1", true, "upgrade in place"},
		{"v1.30.0", "v1.35.1", true, "cannot downgrade"},
	}
	for _, tc := range cases {
		d, differs := versionDiff(tc.want, tc.have)
		if differs != tc.differs || !strings.Contains(d.Note, tc.note) {
			t.Errorf("versionDiff(%q, %q) = %+v, %v; want differs=%v note~%q", tc.want, tc.have, d, differs, tc.differs, tc.note)
		}
	}
}

func TestStartErrorFromJSONEvents(t *testing.T) {
	t.Parallel()
	out := `{"data":{"currentstep":"0","message":"minikube v1.38.1","name":"Initial Minikube Setup","totalsteps":"19"},"type":"io.k8s.sigs.minikube.step"}
{"data":{"advice":"Install Docker","exitcode":"65","issues":"","message":"The 'docker' provider was not found","name":"PROVIDER_DOCKER_NOT_FOUND","url":""},"type":"io.k8s.sigs.minikube.error"}`
	f := &runtest.Fake{Handler: func([]string) runtest.Reply { return runtest.Reply{ExitCode: 65, Stdout: out} }}
	var progress []string
	m := New(f)
	err := m.Create(context.Background(), provider.SpecOf(nil2cfg()), func(l string) { progress = append(progress, l) })
	if problem.KindOf(err) != problem.Missing {
		t.Errorf("kind = %v, want Missing", problem.KindOf(err))
	}
	if !strings.Contains(err.Error(), "PROVIDER_DOCKER_NOT_FOUND: The 'docker' provider was not found") || problem.FixOf(err) != "Install Docker" {
		t.Errorf("err = %v, fix %q", err, problem.FixOf(err))
	}
	var re *run.Error
	if !errors.As(err, &re) || re.Output() != "* minikube v1.38.1\nX Exiting due to PROVIDER_DOCKER_NOT_FOUND: The 'docker' provider was not found\n* Suggestion: Install Docker" {
		t.Errorf("command output shown to the user = %q", re.Output())
	}
	if len(progress) != 1 || progress[0] != "minikube v1.38.1" {
		t.Errorf("progress = %q", progress)
	}
}

// RunOnNode quotes every word for the node's shell (minikube ssh joins its
// arguments into one command line), and CopyToNode copies with minikube cp:
// file content never passes through a shell.
func TestRunOnNodeQuotesAndCopyToNodeUsesCp(t *testing.T) {
	t.Parallel()
	f := &runtest.Fake{Handler: func(argv []string) runtest.Reply {
		if argv[1] == "ssh" {
			return runtest.Reply{Stdout: "a\r\nb\r\n"}
		}
		return runtest.Reply{}
	}}
	m := New(f)
	out, err := m.RunOnNode(context.Background(), "dev", "dev-m02", "cat", "/etc/x y/hosts.toml", "$(reboot)")
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != "a\nb\n" {
		t.Errorf("output = %q, want LF line ends", out)
	}
	if err := m.CopyToNode(context.Background(), "dev", "dev", "/tmp/h.toml", "/etc/containerd/certs.d/localhost:5001/hosts.toml"); err != nil {
		t.Fatal(err)
	}
	if err := m.CopyToNode(context.Background(), "dev", "dev-m02", "/tmp/h.toml", "/etc/h.toml"); err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"minikube", "ssh", "-p", "dev", "-n", "dev-m02", "--", "sudo cat '/etc/x y/hosts.toml' '$(reboot)'"},
		{"minikube", "cp", "-p", "dev", "/tmp/h.toml", "/etc/containerd/certs.d/localhost:5001/hosts.toml"},
		{"minikube", "cp", "-p", "dev", "/tmp/h.toml", "dev-m02:/etc/h.toml"},
	}
	got := f.Calls()
	if len(got) != len(want) {
		t.Fatalf("calls = %q", got)
	}
	for i := range want {
		if strings.Join(got[i], "\x00") != strings.Join(want[i], "\x00") {
			t.Errorf("call %d = %q, want %q", i, got[i], want[i])
		}
	}
}

// CheckPrerequisites runs before minikube is downloaded: the driver's
// engine must answer, or (no driver chosen) some driver must be there.
func TestCheckPrerequisites(t *testing.T) {
	t.Parallel()
	up := runtest.Reply{Stdout: "Server: 28.2.2\n"}
	down := runtest.Reply{ExitCode: 1, Stderr: "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?\n"}
	absent := runtest.Reply{NotFound: true}
	for _, tc := range []struct {
		name           string
		driver         string
		docker, podman runtest.Reply
		onPath         string
		want           string
	}{
		{name: "docker answers", driver: "docker", docker: up},
		{name: "docker absent", driver: "docker", docker: absent, podman: up, want: "Docker is not installed"},
		{name: "docker down", driver: "docker", docker: down, want: "Docker is installed but not running"},
		{name: "podman", driver: "podman", docker: absent, podman: up},
		{name: "auto: docker", docker: up, podman: absent},
		{name: "auto: podman", docker: absent, podman: up},
		{name: "auto: a VM driver", docker: absent, podman: absent, onPath: "qemu-system-x86_64"},
		{name: "auto: docker down, nothing else", docker: down, podman: absent, want: "Docker is installed but not running"},
		{name: "auto: nothing", docker: absent, podman: absent, want: "minikube has no driver"},
		{name: "other drivers are minikube's to check", driver: "kvm2", docker: absent, podman: absent},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := &runtest.Fake{Handler: func(argv []string) runtest.Reply {
				switch argv[0] {
				case "docker":
					return tc.docker
				case "podman":
					return tc.podman
				}
				return absent
			}}
			m := New(f, WithLookPath(func(name string) (string, error) {
				if name == tc.onPath {
					return "/usr/bin/" + name, nil
				}
				return "", errors.New("not found")
			}))
			err := m.CheckPrerequisites(context.Background(), provider.Spec{Name: "dev", Driver: tc.driver})
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("unexpected %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want) || problem.KindOf(err) != problem.Missing):
				t.Errorf("error %v, want %q (missing)", err, tc.want)
			}
		})
	}
}

// envRunner records each command's own environment.
type envRunner struct{ envs [][]string }

func (r *envRunner) Run(_ context.Context, c run.Cmd) (run.Result, error) {
	r.envs = append(r.envs, c.Env)
	return run.Result{}, nil
}

// minikube has no --kubeconfig: the explicit file reaches it as
// KUBECONFIG, on every command (start writes the context, status checks
// it, update-context and delete change it).
func TestKubeconfigFileReachesMinikube(t *testing.T) {
	t.Parallel()
	r := &envRunner{}
	m := New(r, WithKubeconfig("/ci/kubeconfig"))
	ctx := context.Background()
	_ = m.Create(ctx, provider.Spec{Name: "dev"}, nil)
	_ = m.Start(ctx, "dev", nil)
	_ = m.RepairKubeconfig(ctx, "dev")
	_ = m.Delete(ctx, "dev", nil)
	if len(r.envs) != 4 {
		t.Fatalf("%d commands", len(r.envs))
	}
	for i, env := range r.envs {
		if len(env) != 1 || env[0] != "KUBECONFIG=/ci/kubeconfig" {
			t.Errorf("command %d ran with %q", i, env)
		}
	}
	r.envs = nil
	_ = New(r).Delete(ctx, "dev", nil)
	if r.envs[0] != nil {
		t.Errorf("without --kubeconfig minikube's environment is its own, got %q", r.envs[0])
	}
}
