package bootstrap

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/rest"

	"github.com/devcluster/devcluster/agent"
	"github.com/devcluster/devcluster/config"
	fakeagent "github.com/devcluster/devcluster/internal/fake/agent"
	fakeminikube "github.com/devcluster/devcluster/internal/fake/minikube"
	"github.com/devcluster/devcluster/internal/paths"
	"github.com/devcluster/devcluster/internal/problem"
	"github.com/devcluster/devcluster/internal/run/runtest"
	"github.com/devcluster/devcluster/internal/testutil"
	"github.com/devcluster/devcluster/kube"
	"github.com/devcluster/devcluster/provider"
	"github.com/devcluster/devcluster/provider/existing"
	"github.com/devcluster/devcluster/provider/kind"
	"github.com/devcluster/devcluster/provider/minikube"
)

// recorder is a Reporter that keeps every line.
type recorder struct{ lines []string }

func (r *recorder) Start(t string)    { r.lines = append(r.lines, "start "+t) }
func (r *recorder) Progress(l string) { r.lines = append(r.lines, "progress "+l) }
func (r *recorder) End(ok bool, res string) {
	r.lines = append(r.lines, "end "+map[bool]string{true: "ok", false: "failed"}[ok]+" "+res)
}
func (r *recorder) Warn(m string) { r.lines = append(r.lines, "warn "+m) }

type fixture struct {
	port   int
	t      *testing.T
	runner *fakeminikube.Runner
	deps   Deps
	rec    *recorder
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	dir := t.TempDir()
	r := &fakeminikube.Runner{Env: map[string]string{
		"MINIKUBE_HOME": dir,
		"KUBECONFIG":    filepath.Join(dir, "kubeconfig"),
	}}
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "dev"}, Status: corev1.NodeStatus{
		Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}}}}
	clientset := fake.NewClientset(node)
	rec := &recorder{}
	agents := &fakeagent.InProcess{Clients: func(agent.LBSpec) (kubernetes.Interface, error) { return clientset, nil }}
	t.Cleanup(agents.StopAll)
	return &fixture{t: t, runner: r, rec: rec, port: testutil.Port(t), deps: Deps{
		Agent: agents,
		Dirs: func(name string) (paths.Dirs, error) {
			return paths.For(func(k string) (string, bool) { return map[string]string{"HOME": dir}[k], k == "HOME" }, name)
		},
		Provider: minikube.New(r, minikube.WithEnv(func(k string) (string, bool) { v, ok := r.Env[k]; return v, ok }),
			minikube.WithVersionCache(filepath.Join(dir, "state", "tool-versions.json"))),
		Kube: func(ctx string) (*kube.Clients, error) {
			return &kube.Clients{Config: &rest.Config{Host: "https://192.168.49.2:8443"}, Kube: clientset, Context: ctx}, nil
		},
		Report:       rec,
		WaitInterval: time.Millisecond,
		// Hermetic: no address of the test host counts as the cluster side.
		LocalAddress: func(string) bool { return false },
	}}
}

func (f *fixture) cfg(mutate func(*config.File)) *config.Config {
	f.t.Helper()
	off := false
	// No mirrors unless a test turns them on (mirrors_test.go).
	file := config.File{Name: "dev", Registry: config.RegistryFile{Port: f.port, Mirrors: []config.MirrorFile{}}, Workloads: config.WorkloadsFile{Samples: &off}}
	if mutate != nil {
		mutate(&file)
	}
	c, err := config.Complete(&config.Source{File: file}, config.Overrides{})
	if err != nil {
		f.t.Fatal(err)
	}
	return c
}

// minikube runs a stand-in command directly, to arrange state.
func (f *fixture) minikube(args ...string) {
	f.t.Helper()
	var out strings.Builder
	env := f.runner.Env
	code := fakeminikube.Main(context.Background(), fakeminikube.Env{Args: args, Stdout: &out, Stderr: &out,
		LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }})
	if code != 0 {
		f.t.Fatalf("minikube %v: exit %d: %s", args, code, out.String())
	}
}

// mutating returns the calls that change state (everything but reads).
func (f *fixture) mutating() [][]string {
	var out [][]string
	for _, c := range f.runner.Calls() {
		switch c[1] {
		case "version", "profile", "status", "ip", "ssh", "cp":
			continue
		}
		out = append(out, c)
	}
	return out
}

func TestUpFreshStart(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	cfg := f.cfg(func(c *config.File) {
		c.CPUs, c.Memory, c.Driver, c.KubernetesVersion = "4", "6g", "docker", "1.35.1"
		c.InsecureRegistries = []string{"192.168.49.1:5000", "10.0.0.0/24"}
		c.ExtraStartArgs = []string{"--addons=metrics-server"}
	})
	res, err := Up(context.Background(), f.deps, cfg, UpOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{{"minikube", "start", "-p", "dev", "--cpus=4", "--memory=6144mb", "--container-runtime=containerd",
		"--driver=docker", "--kubernetes-version=v1.35.1", "--insecure-registry=192.168.49.1:5000",
		"--insecure-registry=10.0.0.0/24", "--interactive=false", "--output=json", "--addons=metrics-server"}}
	if d := cmp.Diff(want, f.mutating()); d != "" {
		t.Errorf("commands (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{"created", "agent started", "hosts.toml written"}, res.Actions); d != "" {
		t.Errorf("actions (-want +got):\n%s", d)
	}
	if res.Cluster.State != provider.Running || res.Cluster.CPUs != 4 || res.Cluster.MemoryMB != 6144 || res.Cluster.IP != "192.168.49.2" {
		t.Errorf("cluster = %+v", res.Cluster)
	}
	if !res.Kubernetes.Ready {
		t.Errorf("kubernetes summary = %+v", res.Kubernetes)
	}
	if !slices.ContainsFunc(f.rec.lines, func(l string) bool { return strings.Contains(l, "Preparing Kubernetes v1.35.1 on containerd") }) {
		t.Errorf("minikube's progress was not relayed: %q", f.rec.lines)
	}
}

func TestUpConvergedRerunStartsNothing(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	cfg := f.cfg(nil)
	if _, err := Up(context.Background(), f.deps, cfg, UpOptions{}); err != nil {
		t.Fatal(err)
	}
	f.runner.Reset()
	res, err := Up(context.Background(), f.deps, cfg, UpOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if m := f.mutating(); len(m) != 0 {
		t.Errorf("a converged re-run ran %q", m)
	}
	if res.Changed || len(res.Actions) != 0 {
		t.Errorf("result = changed %v, actions %q; want no change", res.Changed, res.Actions)
	}
	// At most two minikube processes: the version is cached per
	// executable, the profile read from its file, the state asked once.
	want := [][]string{
		{"minikube", "status", "-p", "dev", "-o", "json"},
		// hosts.toml is read and found in place: nothing is written.
		{"minikube", "ssh", "-p", "dev", "--", fmt.Sprintf("sudo cat /etc/containerd/certs.d/192.168.49.1:%d/hosts.toml /etc/containerd/certs.d/localhost:%d/hosts.toml", f.port, f.port)},
	}
	if d := cmp.Diff(want, f.runner.Calls()); d != "" {
		t.Errorf("commands (-want +got):\n%s", d)
	}
	if n := len(f.runner.Calls()); n > 2 {
		t.Errorf("a converged up ran minikube %d times, want at most 2", n)
	}
}

func TestUpResumesStoppedAndPaused(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		arrange []string
		want    [][]string
		action  string
	}{
		{"stopped", []string{"stop", "-p", "dev"}, [][]string{{"minikube", "start", "-p", "dev", "--interactive=false", "--output=json"}}, "started"},
		{"paused", []string{"pause", "-p", "dev"}, [][]string{{"minikube", "unpause", "-p", "dev"}}, "unpaused"},
	} {
		tc := tc
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			cfg := f.cfg(nil)
			if _, err := Up(context.Background(), f.deps, cfg, UpOptions{}); err != nil {
				t.Fatal(err)
			}
			f.minikube(tc.arrange...)
			f.runner.Reset()
			res, err := Up(context.Background(), f.deps, cfg, UpOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.want, f.mutating()); d != "" {
				t.Errorf("commands (-want +got):\n%s", d)
			}
			if d := cmp.Diff([]string{tc.action}, res.Actions); d != "" {
				t.Errorf("actions (-want +got):\n%s", d)
			}
		})
	}
}

func TestUpRefusesDrift(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	if _, err := Up(context.Background(), f.deps, f.cfg(nil), UpOptions{}); err != nil {
		t.Fatal(err)
	}
	f.runner.Reset()
	changed := f.cfg(func(c *config.File) {
		c.CPUs, c.Memory, c.Driver, c.ContainerRuntime = "4", "8g", "podman", "docker"
		c.InsecureRegistries = []string{"192.168.49.1:5000"}
		c.KubernetesVersion = "v1.36.0"
	})
	_, err := Up(context.Background(), f.deps, changed, UpOptions{})
	if err == nil {
		t.Fatal("want a drift error")
	}
	if problem.KindOf(err) != problem.Drift {
		t.Errorf("kind = %v, want Drift", problem.KindOf(err))
	}
	for _, want := range []string{
		"cpus: cluster has 2, requested 4",
		"memory: cluster has 4096 MB, requested 8192 MB",
		"driver: cluster has docker, requested podman",
		"containerRuntime: cluster has containerd, requested docker",
		"kubernetesVersion: cluster has v1.35.1, requested v1.36.0",
		fmt.Sprintf("insecureRegistries: cluster has [], requested [192.168.49.1:5000, 192.168.49.1:%d] (missing 192.168.49.1:5000, 192.168.49.1:%d; minikube applies --insecure-registry only when a cluster is created)", f.port, f.port),
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %q:\n%v", want, err)
		}
	}
	if !strings.Contains(problem.FixOf(err), "devcluster up --recreate") {
		t.Errorf("fix = %q", problem.FixOf(err))
	}
	if m := f.mutating(); len(m) != 0 {
		t.Errorf("drift must change nothing, ran %q", m)
	}
}

func TestUpRecreate(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	if _, err := Up(context.Background(), f.deps, f.cfg(nil), UpOptions{}); err != nil {
		t.Fatal(err)
	}
	f.runner.Reset()
	changed := f.cfg(func(c *config.File) { c.CPUs = "4" })
	res, err := Up(context.Background(), f.deps, changed, UpOptions{Recreate: true})
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"minikube", "delete", "-p", "dev"},
		{"minikube", "start", "-p", "dev", "--cpus=4", "--memory=4096mb", "--container-runtime=containerd", "--interactive=false", "--output=json"},
	}
	if d := cmp.Diff(want, f.mutating()); d != "" {
		t.Errorf("commands (-want +got):\n%s", d)
	}
	if res.Cluster.CPUs != 4 {
		t.Errorf("cpus after recreate = %d", res.Cluster.CPUs)
	}
}

func TestUpRepairsKubeconfig(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	cfg := f.cfg(nil)
	if _, err := Up(context.Background(), f.deps, cfg, UpOptions{}); err != nil {
		t.Fatal(err)
	}
	// Point the context elsewhere, as a stale kubeconfig would.
	f.runner.Env["STANDIN_APISERVER"] = "https://127.0.0.1:1"
	f.minikube("update-context", "-p", "dev")
	delete(f.runner.Env, "STANDIN_APISERVER")
	f.runner.Reset()
	res, err := Up(context.Background(), f.deps, cfg, UpOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([][]string{{"minikube", "update-context", "-p", "dev"}}, f.mutating()); d != "" {
		t.Errorf("commands (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{"kubeconfig updated"}, res.Actions); d != "" {
		t.Errorf("actions (-want +got):\n%s", d)
	}
}

func TestUpMissingMinikube(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.deps.Provider = minikube.New(f.runner, minikube.WithBinary("/nonexistent/minikube"))
	_, err := Up(context.Background(), f.deps, f.cfg(nil), UpOptions{})
	if problem.KindOf(err) != problem.Missing {
		t.Fatalf("err = %v (kind %v), want Missing", err, problem.KindOf(err))
	}
	if !strings.Contains(problem.FixOf(err), "https://minikube.sigs.k8s.io/docs/start/") {
		t.Errorf("fix = %q, want the install link", problem.FixOf(err))
	}
}

func TestUpStartFailureCarriesMinikubeReason(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.runner.Env["STANDIN_FAIL_START"] = "GUEST_PROVISION"
	_, err := Up(context.Background(), f.deps, f.cfg(nil), UpOptions{})
	if err == nil || !strings.Contains(err.Error(), "minikube failed with GUEST_PROVISION") {
		t.Fatalf("err = %v", err)
	}
	// minikube gives no advice for GUEST_PROVISION: its logs are next.
	if !strings.Contains(problem.FixOf(err), "minikube logs -p dev") {
		t.Errorf("fix = %q, want the way to minikube's logs", problem.FixOf(err))
	}
	// minikube saved the profile before it failed; a second up starts it
	// (minikube recreates the missing machine) instead of refusing.
	delete(f.runner.Env, "STANDIN_FAIL_START")
	if _, err := Up(context.Background(), f.deps, f.cfg(nil), UpOptions{}); err != nil {
		t.Fatalf("up after a failed create: %v", err)
	}
}

func TestUpWaitTimesOut(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	notReady := fake.NewClientset(&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "dev"}})
	f.deps.Kube = func(ctx string) (*kube.Clients, error) {
		return &kube.Clients{Config: &rest.Config{Host: "h"}, Kube: notReady, Context: ctx}, nil
	}
	cfg := f.cfg(func(c *config.File) { c.Wait = "50ms" })
	_, err := Up(context.Background(), f.deps, cfg, UpOptions{})
	if problem.KindOf(err) != problem.Timeout || !errors.Is(err, kube.ErrTimeout) {
		t.Fatalf("err = %v, want a timeout", err)
	}
	if !strings.Contains(err.Error(), "1 of 1 nodes not Ready: dev") {
		t.Errorf("timeout does not say what it waited for: %v", err)
	}
}

func TestDownAndStatus(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	st, err := Status(context.Background(), f.deps, f.cfg(nil))
	if err != nil || st.Cluster.State != provider.Absent {
		t.Fatalf("status before up = %+v, %v", st, err)
	}
	if _, err := Up(context.Background(), f.deps, f.cfg(nil), UpOptions{}); err != nil {
		t.Fatal(err)
	}
	st, err = Status(context.Background(), f.deps, f.cfg(nil))
	if err != nil || st.Cluster.State != provider.Running || !st.Kubernetes.Ready || st.Cluster.IP != "192.168.49.2" {
		t.Fatalf("status after up = %+v %+v, %v", st.Cluster, st.Kubernetes, err)
	}
	f.runner.Reset()
	res, err := Down(context.Background(), f.deps, f.cfg(nil), DownOptions{})
	if err != nil || !res.Deleted {
		t.Fatalf("down = %+v, %v", res, err)
	}
	if d := cmp.Diff([][]string{{"minikube", "delete", "-p", "dev"}}, f.mutating()); d != "" {
		t.Errorf("commands (-want +got):\n%s", d)
	}
	res, err = Down(context.Background(), f.deps, f.cfg(nil), DownOptions{})
	if err != nil || res.Deleted {
		t.Fatalf("second down = %+v, %v; want nothing deleted", res, err)
	}
}

// Without minikube, a cluster with no profile cannot exist: down succeeds
// (a CI cleanup after a failed install) and status says Absent. A profile
// left behind is named, with what to do, not ignored.
func TestDownAndStatusWithoutMinikube(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	missing := minikube.New(f.runner, minikube.WithBinary("/nonexistent/minikube"),
		minikube.WithEnv(func(k string) (string, bool) { v, ok := f.runner.Env[k]; return v, ok }))
	withMissing := f.deps
	withMissing.Provider = missing
	ctx := context.Background()
	res, err := Down(ctx, withMissing, f.cfg(nil), DownOptions{})
	if err != nil || res.Deleted {
		t.Fatalf("down without minikube and without a cluster: %+v, %v", res, err)
	}
	st, err := Status(ctx, withMissing, f.cfg(nil))
	if err != nil || st.Cluster.State != provider.Absent || st.Cluster.Detail != "minikube is not installed" {
		t.Fatalf("status without minikube: %+v, %v", st, err)
	}
	if _, err := Up(ctx, f.deps, f.cfg(nil), UpOptions{}); err != nil {
		t.Fatal(err)
	}
	for what, err := range map[string]error{
		"down":   func() error { _, err := Down(ctx, withMissing, f.cfg(nil), DownOptions{}); return err }(),
		"status": func() error { _, err := Status(ctx, withMissing, f.cfg(nil)); return err }(),
	} {
		if problem.KindOf(err) != problem.Missing || !strings.Contains(err.Error(), `profile "dev"`) || !strings.Contains(problem.FixOf(err), "install minikube") {
			t.Errorf("%s without minikube but with its profile: %v (fix %q)", what, err, problem.FixOf(err))
		}
	}
	if st, err := Status(ctx, f.deps, f.cfg(nil)); err != nil || st.Cluster.State != provider.Running {
		t.Errorf("the cluster is gone: %+v, %v", st, err)
	}
}

func TestUpRunsAndWiresTheRegistry(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	cfg := f.cfg(func(c *config.File) { c.ContainerRuntime = "docker" })
	res, err := Up(context.Background(), f.deps, cfg, UpOptions{})
	if err != nil {
		t.Fatal(err)
	}
	clusterHost := fmt.Sprintf("192.168.49.1:%d", f.port)
	// docker runtime: the registry's cluster address is an insecure
	// registry from creation on; no hosts.toml is written.
	start := f.mutating()[0]
	if !slices.Contains(start, "--insecure-registry="+clusterHost) {
		t.Errorf("start = %q, want --insecure-registry=%s", start, clusterHost)
	}
	for _, c := range f.runner.Calls() {
		if c[1] == "ssh" {
			t.Errorf("docker runtime must not get hosts.toml: %q", c)
		}
	}
	r := res.Registry
	if r == nil || r.Host != fmt.Sprintf("localhost:%d", f.port) || r.ClusterHost != clusterHost || r.Agent == nil || !r.Agent.Running {
		t.Fatalf("registry summary = %+v", r)
	}
	// 192.168.49.1 is not an address of this test host: loopback only.
	if d := cmp.Diff([]string{fmt.Sprintf("127.0.0.1:%d", f.port)}, r.Listen); d != "" {
		t.Errorf("listen (-want +got):\n%s", d)
	}
	if !slices.ContainsFunc(f.rec.lines, func(l string) bool { return strings.Contains(l, "warn the registry does not listen on "+clusterHost) }) {
		t.Errorf("no warning that the cluster cannot reach the registry: %q", f.rec.lines)
	}
	c, _ := f.deps.Kube("dev")
	cm, err := c.Kube.CoreV1().ConfigMaps("kube-public").Get(context.Background(), "local-registry-hosting", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("host: localhost:%d\nhostFromContainerRuntime: %s\nhostFromClusterNetwork: %s\nhelp: %s\n", f.port, clusterHost, clusterHost, RegistryHelp)
	if got := cm.Data["localRegistryHosting.v1"]; got != want {
		t.Errorf("localRegistryHosting.v1 = %q, want %q", got, want)
	}

	// Re-run: the agent is reused.
	res, err = Up(context.Background(), f.deps, cfg, UpOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Changed || res.Registry.Agent.Action != "reused" {
		t.Errorf("re-run: changed=%v actions=%q agent=%+v", res.Changed, res.Actions, res.Registry.Agent)
	}

	// down keeps the data; down --purge deletes it.
	dirs, _ := f.deps.Dirs("dev")
	if _, err := os.Stat(dirs.RegistryData()); err != nil {
		t.Fatalf("registry data directory: %v", err)
	}
	down, err := Down(context.Background(), f.deps, cfg, DownOptions{})
	if err != nil || !down.AgentStopped || down.Kept != dirs.RegistryData() {
		t.Fatalf("down = %+v, %v", down, err)
	}
	if _, err := os.Stat(dirs.RegistryData()); err != nil {
		t.Errorf("down deleted the registry data: %v", err)
	}
	down, err = Down(context.Background(), f.deps, cfg, DownOptions{Purge: true})
	if err != nil || len(down.Purged) == 0 {
		t.Fatalf("down --purge = %+v, %v", down, err)
	}
	if _, err := os.Stat(dirs.RegistryData()); !os.IsNotExist(err) {
		t.Errorf("--purge left the registry data: %v", err)
	}
}

// The registry's cluster address: the configured one, else the one the
// provider's network rule gives (with the configured driver where the
// cluster does not say), else none for a provider without one.
func TestClusterAddressRules(t *testing.T) {
	t.Parallel()
	mk := minikube.New(&runtest.Fake{})
	for _, tc := range []struct {
		name    string
		p       provider.Provider
		cfg     config.Config
		c       provider.Cluster
		want    string
		wantErr string
	}{
		{name: "configured", p: mk, cfg: config.Config{Registry: config.Registry{ClusterAddress: "10.9.8.7"}}, c: provider.Cluster{IP: "192.168.49.2"}, want: "10.9.8.7"},
		{name: "minikube's rule", p: mk, c: provider.Cluster{Driver: "docker", IP: "192.168.58.2"}, want: "192.168.58.1"},
		{name: "the configured driver", p: mk, cfg: config.Config{Driver: "none"}, c: provider.Cluster{IP: "10.1.2.3"}, want: "127.0.0.1"},
		{name: "kind's gateway", p: kind.New(&runtest.Fake{}), c: provider.Cluster{IP: "172.18.0.2", HostAddress: "172.18.0.1"}, want: "172.18.0.1"},
		{name: "no rule", p: existing.New("ctx"), c: provider.Cluster{}, wantErr: "provider existing does not know this host's address on the cluster's network: set registry.clusterAddress"},
	} {
		got, err := clusterAddress(tc.p, &tc.cfg, &tc.c)
		if got != tc.want || (err == nil) != (tc.wantErr == "") || (err != nil && err.Error() != tc.wantErr) {
			t.Errorf("%s: clusterAddress = %q, %v; want %q, %q", tc.name, got, err, tc.want, tc.wantErr)
		}
	}
	// The insecure registry given at creation is where minikube will put
	// this host; kind's containerd needs none.
	cfg := &config.Config{Driver: "kvm2", ContainerRuntime: "docker", Registry: config.Registry{Enabled: true, Port: 5000}}
	if got := clusterSpec(mk, cfg).InsecureRegistries; !slices.Equal(got, []string{"192.168.39.1:5000"}) {
		t.Errorf("clusterSpec(minikube kvm2).InsecureRegistries = %q", got)
	}
	if got := clusterSpec(existing.New("ctx"), cfg).InsecureRegistries; len(got) != 0 {
		t.Errorf("clusterSpec(existing).InsecureRegistries = %q, want none: there is no rule", got)
	}
}

func TestUpReportsLoadBalancerURLs(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	c, _ := f.deps.Kube("dev")
	for _, s := range []*corev1.Service{
		{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
			Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, Ports: []corev1.ServicePort{{Port: 80}, {Port: 8443, Name: "https"}}}},
		{ObjectMeta: metav1.ObjectMeta{Name: "app", Namespace: "shop"},
			Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, Ports: []corev1.ServicePort{{Port: 80}, {Port: 9443, Name: "https"}}}},
	} {
		if _, err := c.Kube.CoreV1().Services(s.Namespace).Create(context.Background(), s, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	res, err := Up(context.Background(), f.deps, f.cfg(nil), UpOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := []LBService{
		{Namespace: "default", Name: "web", State: "refused",
			Detail: "port 8443/TCP would take over the Kubernetes API server (minikube); with ipMode VIP kube-proxy would redirect it on the node for everyone — use another port"},
		{Namespace: "shop", Name: "app", IP: "192.168.49.2", URL: "http://192.168.49.2:80", URLs: []string{"http://192.168.49.2:80", "https://192.168.49.2:9443"}, State: "assigned"},
	}
	if d := cmp.Diff(want, res.LoadBalancers); d != "" {
		t.Errorf("load balancers (-want +got):\n%s", d)
	}
}

// hosts.toml reaches the node as a file copied with `minikube cp`: the only
// commands a node's shell runs are mkdir -p and cat with quoted paths, so no
// configuration text is ever shell code. A converged re-run reads the files
// and writes nothing; a node that lost them (minikube stop/start) gets them
// again.
func TestHostsTOMLIsCopiedNotScripted(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	cfg := f.cfg(nil)
	if _, err := Up(context.Background(), f.deps, cfg, UpOptions{}); err != nil {
		t.Fatal(err)
	}
	cluster, local := fmt.Sprintf("192.168.49.1:%d", f.port), fmt.Sprintf("localhost:%d", f.port)
	var ssh, cp [][]string
	for _, c := range f.runner.Calls() {
		switch c[1] {
		case "ssh":
			ssh = append(ssh, c)
		case "cp":
			cp = append(cp, c)
		}
	}
	wantSSH := [][]string{
		{"minikube", "ssh", "-p", "dev", "--", "sudo cat /etc/containerd/certs.d/" + cluster + "/hosts.toml /etc/containerd/certs.d/" + local + "/hosts.toml"},
		{"minikube", "ssh", "-p", "dev", "--", "sudo mkdir -p /etc/containerd/certs.d/" + cluster + " /etc/containerd/certs.d/" + local},
	}
	if d := cmp.Diff(wantSSH, ssh); d != "" {
		t.Errorf("ssh commands (-want +got):\n%s", d)
	}
	if len(cp) != 2 || cp[0][5] != "/etc/containerd/certs.d/"+cluster+"/hosts.toml" || cp[1][5] != "/etc/containerd/certs.d/"+local+"/hosts.toml" {
		t.Fatalf("cp commands = %q", cp)
	}
	nodeFS := filepath.Join(f.runner.Env["MINIKUBE_HOME"], ".minikube", "machines", "dev", "fs", "dev")
	for _, name := range []string{cluster, local} {
		b, err := os.ReadFile(filepath.Join(nodeFS, "etc", "containerd", "certs.d", name, "hosts.toml"))
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != hostsTOML(cluster) {
			t.Errorf("%s/hosts.toml = %q, want %q", name, b, hostsTOML(cluster))
		}
	}
	// The temporary source file is gone.
	if _, err := os.Stat(cp[0][4]); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("temporary file %s left behind", cp[0][4])
	}

	// Lost on the node: written again.
	if err := os.RemoveAll(filepath.Join(nodeFS, "etc", "containerd", "certs.d", local)); err != nil {
		t.Fatal(err)
	}
	f.runner.Reset()
	res, err := Up(context.Background(), f.deps, cfg, UpOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(res.Actions, "hosts.toml written") {
		t.Errorf("actions = %q, want hosts.toml written", res.Actions)
	}
	if _, err := os.Stat(filepath.Join(nodeFS, "etc", "containerd", "certs.d", local, "hosts.toml")); err != nil {
		t.Errorf("hosts.toml was not written again: %v", err)
	}
}

// The machine of a profile removed behind minikube's back (docker rm):
// status says null, so up starts it again, as `minikube start` recreates a
// missing machine for an existing profile.
func TestUpAfterTheMachineWasRemoved(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	cfg := f.cfg(nil)
	if _, err := Up(context.Background(), f.deps, cfg, UpOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(f.runner.Env["MINIKUBE_HOME"], ".minikube", "machines", "dev")); err != nil {
		t.Fatal(err)
	}
	res, err := Up(context.Background(), f.deps, cfg, UpOptions{})
	if err != nil {
		t.Fatalf("up after the machine was removed: %v (fix: %s)", err, problem.FixOf(err))
	}
	if !slices.Contains(res.Actions, "started") || !slices.Contains(res.Actions, "hosts.toml written") {
		t.Errorf("actions = %q, want started and hosts.toml written again", res.Actions)
	}
}

// An API server URL with credentials in it (a proxy-style kubeconfig
// server) is shown redacted by up and status, whose results reach the
// terminal, -o json and CI summaries.
func TestServerURLIsShownRedacted(t *testing.T) {
	f := newFixture(t)
	clients := f.deps.Kube
	f.deps.Kube = func(ctx string) (*kube.Clients, error) {
		c, err := clients(ctx)
		if err == nil {
			c.Config = &rest.Config{Host: "https://robot:s3cret-token@192.168.49.2:8443"}
		}
		return c, err
	}
	cfg := f.cfg(nil)
	up, err := Up(context.Background(), f.deps, cfg, UpOptions{})
	if err != nil {
		t.Fatal(err)
	}
	st, err := Status(context.Background(), f.deps, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for what, k := range map[string]*KubeSummary{"up": up.Kubernetes, "status": st.Kubernetes} {
		if k == nil || strings.Contains(k.Server, "s3cret-token") || !strings.Contains(k.Server, "192.168.49.2:8443") {
			t.Errorf("%s shows the server as %+v", what, k)
		}
	}
}
