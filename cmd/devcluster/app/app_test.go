package app

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/rest"

	"github.com/devcluster/devcluster/agent"
	"github.com/devcluster/devcluster/bootstrap"
	"github.com/devcluster/devcluster/config"
	fakeagent "github.com/devcluster/devcluster/internal/fake/agent"
	fakeminikube "github.com/devcluster/devcluster/internal/fake/minikube"
	"github.com/devcluster/devcluster/internal/run"
	"github.com/devcluster/devcluster/internal/run/runtest"
	"github.com/devcluster/devcluster/internal/testutil"
	"github.com/devcluster/devcluster/kube"
)

// The tests in this file do not run in parallel: urfave/cli v2 mutates
// package-level state (its help flag and help command) in App.Run.
type harness struct {
	t              *testing.T
	dir            string
	runner         run.Runner
	stdout, stderr bytes.Buffer
	env            map[string]string
	agents         *fakeagent.InProcess
	port           int
	clientset      kubernetes.Interface
	// workDir is the working directory (default: dir).
	workDir string
	// tty makes stderr a terminal (as in Buildkite's PTY).
	tty bool
	// kubeconfigs and contexts record every kubeconfig path and context
	// the command line asked Kubernetes clients for.
	kubeconfigs, contexts []string
	// opened are the URLs the command line opened in a browser.
	opened []string
}

func newHarness(t *testing.T) *harness {
	dir := t.TempDir()
	clientset := fake.NewClientset(&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "devcluster"},
		Status: corev1.NodeStatus{Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}}}})
	agents := &fakeagent.InProcess{Clients: func(agent.LBSpec) (kubernetes.Interface, error) { return clientset, nil }}
	t.Cleanup(agents.StopAll)
	h := &harness{t: t, dir: dir, env: map[string]string{"TERM": "xterm", "HOME": dir}, agents: agents, port: testutil.Port(t), clientset: clientset,
		runner: &fakeminikube.Runner{Env: map[string]string{"MINIKUBE_HOME": dir, "KUBECONFIG": filepath.Join(dir, "kubeconfig")}}}
	h.writeConfig("")
	return h
}

// writeConfig writes devcluster.yaml with the harness' registry port.
func (h *harness) writeConfig(extra string) {
	h.t.Helper()
	cfg := fmt.Sprintf("apiVersion: devcluster.dev/v1alpha1\nkind: Cluster\nworkloads:\n  samples: false\nregistry:\n  port: %d\n%s", h.port, extra)
	if err := os.WriteFile(filepath.Join(h.dir, "devcluster.yaml"), []byte(cfg), 0o600); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) run(args ...string) int {
	return h.runWith(context.Background(), strings.NewReader(""), args...)
}

// runWith runs with a context and standard input of the test's choosing.
func (h *harness) runWith(ctx context.Context, stdin io.Reader, args ...string) int {
	h.stdout.Reset()
	h.stderr.Reset()
	clientset := h.clientset
	env := Env{
		Stdin: stdin, Stdout: &h.stdout, Stderr: &h.stderr,
		LookupEnv: func(k string) (string, bool) { v, ok := h.env[k]; return v, ok },
		Dir:       cmp.Or(h.workDir, h.dir), Runner: h.runner, Agent: h.agents,
		LocalAddress: func(string) bool { return false },
		IsTerminal:   func(io.Writer) bool { return h.tty },
		OpenBrowser:  func(_ context.Context, url string) error { h.opened = append(h.opened, url); return nil },
		Kube: func(path string) kube.Loader {
			h.kubeconfigs = append(h.kubeconfigs, path)
			return func(ctx string) (*kube.Clients, error) {
				h.contexts = append(h.contexts, ctx)
				return &kube.Clients{Config: &rest.Config{Host: "https://192.168.49.2:8443"}, Kube: clientset, Context: ctx}, nil
			}
		},
	}
	return ExitCode(Run(ctx, env, append([]string{"devcluster"}, args...)))
}

func TestUpStatusDownRoundTrip(t *testing.T) {
	h := newHarness(t)
	if code := h.run("status"); code != ExitNotRunning {
		t.Fatalf("status before up: exit %d, stderr %s", code, h.stderr.String())
	}
	if !strings.Contains(h.stdout.String(), "STATE") || !strings.Contains(h.stdout.String(), "Absent") {
		t.Errorf("status table:\n%s", h.stdout.String())
	}
	if code := h.run("up"); code != 0 {
		t.Fatalf("up: exit %d\n%s", code, h.stderr.String())
	}
	if !strings.Contains(h.stdout.String(), `Cluster "devcluster" is ready (created, agent started, hosts.toml written).`) ||
		!strings.Contains(h.stdout.String(), fmt.Sprintf("push to localhost:%d, pull in the cluster from 192.168.49.1:%d", h.port, h.port)) {
		t.Errorf("up summary:\n%s", h.stdout.String())
	}
	for _, want := range []string{" • Checking minikube ...", " ✓ Checking minikube: v1.38.1", ` ✓ Ensuring cluster "devcluster": created (192.168.49.2`} {
		if !strings.Contains(h.stderr.String(), want) {
			t.Errorf("progress lacks %q:\n%s", want, h.stderr.String())
		}
	}
	if code := h.run("up", "-o", "json"); code != 0 {
		t.Fatalf("second up: exit %d\n%s", code, h.stderr.String())
	}
	var res bootstrap.Result
	if err := json.Unmarshal(h.stdout.Bytes(), &res); err != nil {
		t.Fatalf("up -o json is not JSON: %v\n%s", err, h.stdout.String())
	}
	if res.Changed || res.Cluster.State != "Running" || res.Cluster.Name != "devcluster" || res.Kubernetes == nil || !res.Kubernetes.Ready {
		t.Errorf("up -o json = %s", h.stdout.String())
	}
	if code := h.run("status", "-o", "json"); code != 0 {
		t.Fatalf("status: exit %d\n%s", code, h.stderr.String())
	}
	if code := h.run("down"); code != 0 || !strings.Contains(h.stdout.String(), `Cluster "devcluster" deleted.`) {
		t.Fatalf("down: exit %d\n%s%s", code, h.stdout.String(), h.stderr.String())
	}
	if code := h.run("down", "-o", "json"); code != 0 || !strings.Contains(h.stdout.String(), `"deleted": false`) {
		t.Fatalf("second down: exit %d\n%s", code, h.stdout.String())
	}
}

func TestMissingMinikubeIsOneParagraph(t *testing.T) {
	h := newHarness(t)
	h.runner = &runtest.Fake{Handler: func(argv []string) runtest.Reply { return runtest.Reply{NotFound: argv[0] == "minikube"} }}
	if code := h.run("up"); code != ExitMissing {
		t.Fatalf("exit %d, want %d", code, ExitMissing)
	}
	out := h.stderr.String()
	for _, want := range []string{"✗ Error: minikube is not installed", "https://minikube.sigs.k8s.io/docs/start/", "run `devcluster up --install` to download minikube v1.38.1"} {
		if !strings.Contains(out, want) {
			t.Errorf("stderr lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "goroutine") || strings.Count(out, "Error:") != 1 {
		t.Errorf("error must be printed once, without a stack trace:\n%s", out)
	}
}

func TestDriftExitCodeAndMessage(t *testing.T) {
	h := newHarness(t)
	if code := h.run("up"); code != 0 {
		t.Fatalf("up: %d %s", code, h.stderr.String())
	}
	if code := h.run("up", "--cpus=4", "--insecure-registry=192.168.49.1:5000"); code != ExitDrift {
		t.Fatalf("exit %d, want %d\n%s", code, ExitDrift, h.stderr.String())
	}
	for _, want := range []string{"cpus: cluster has 2, requested 4", "insecureRegistries", "devcluster up --recreate"} {
		if !strings.Contains(h.stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, h.stderr.String())
		}
	}
}

func TestConfigFileFromWorkingDirectory(t *testing.T) {
	h := newHarness(t)
	h.writeConfig("name: from-file\ncpus: 3\n")
	if code := h.run("up", "--memory=3g"); code != 0 {
		t.Fatalf("up: %d %s", code, h.stderr.String())
	}
	if !strings.Contains(h.stderr.String(), `Ensuring cluster "from-file": created (192.168.49.2, Kubernetes v1.35.1, 3 CPUs, 3072 MB)`) {
		t.Errorf("the file and the flag were not both applied:\n%s", h.stderr.String())
	}
	if code := h.run("status"); code != 0 || !strings.Contains(h.stdout.String(), "from-file") {
		t.Errorf("status should address the file's cluster: %d\n%s", code, h.stdout.String())
	}
}

func TestUsageAndConfigErrors(t *testing.T) {
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"unknown command", []string{"bogus"}, `unknown command "bogus"`},
		{"unknown flag", []string{"up", "--bogus"}, "unknown flag: --bogus"},
		{"bad output", []string{"status", "-o", "xml"}, `invalid output format "xml"`},
		{"bad values, all reported", []string{"up", "--cpus=1", "--memory=lots", "--name=x_y"}, "3 problems"},
		{"missing config file", []string{"--config", "nope.yaml", "up"}, "reading config"},
	}
	for _, tc := range cases {
		tc := tc
		t.Run(tc.name, func(t *testing.T) {

			h := newHarness(t)
			if code := h.run(tc.args...); code != ExitUsage {
				t.Fatalf("exit %d, want %d\n%s", code, ExitUsage, h.stderr.String())
			}
			if !strings.Contains(h.stderr.String(), tc.want) {
				t.Errorf("stderr lacks %q:\n%s", tc.want, h.stderr.String())
			}
		})
	}
}

func TestQuietPrintsOnlyTheResult(t *testing.T) {
	h := newHarness(t)
	// A cluster address the registry can bind, so there is nothing to warn about.
	h.writeConfig("  clusterAddress: 127.0.0.1\n")
	if code := h.run("-q", "up"); code != 0 {
		t.Fatal(code, h.stderr.String())
	}
	if h.stderr.Len() != 0 {
		t.Errorf("-q printed progress:\n%s", h.stderr.String())
	}
}

func TestRegistryPushListStatusGC(t *testing.T) {
	h := newHarness(t)
	h.writeConfig("  clusterAddress: 127.0.0.1\n")
	if code := h.run("up"); code != 0 {
		t.Fatalf("up: %d %s", code, h.stderr.String())
	}
	tarPath, img := writeImage(t, h.dir)
	if code := h.run("registry", "push", tarPath, "team/app:dev"); code != 0 {
		t.Fatalf("push: %d %s", code, h.stderr.String())
	}
	digest, _ := img.Digest()
	if !strings.Contains(h.stdout.String(), fmt.Sprintf("Pushed 127.0.0.1:%d/team/app:dev (%s).", h.port, digest)) {
		t.Errorf("push output: %s", h.stdout.String())
	}
	if code := h.run("registry", "ls", "-o", "json"); code != 0 {
		t.Fatalf("ls: %d %s", code, h.stderr.String())
	}
	if !strings.Contains(h.stdout.String(), `"name": "team/app"`) || !strings.Contains(h.stdout.String(), `"dev"`) {
		t.Errorf("ls -o json: %s", h.stdout.String())
	}
	if code := h.run("status"); code != 0 || !strings.Contains(h.stdout.String(), "1 repositories") {
		t.Errorf("status: %d\n%s", code, h.stdout.String())
	}
	if code := h.run("registry", "gc"); code != 0 {
		t.Fatalf("gc: %d %s", code, h.stderr.String())
	}
	// gc restarted the agent: the image is still served.
	if code := h.run("registry", "ls"); code != 0 || !strings.Contains(h.stdout.String(), "team/app") {
		t.Errorf("ls after gc: %d %s %s", code, h.stdout.String(), h.stderr.String())
	}
	if code := h.run("registry", "push", filepath.Join(h.dir, "missing.tar"), "x"); code != ExitUsage {
		t.Errorf("push of a missing file: exit %d, want %d\n%s", code, ExitUsage, h.stderr.String())
	}
	if code := h.run("registry", "push", tarPath); code != ExitUsage || !strings.Contains(h.stderr.String(), "SRC and NAME[:TAG]") {
		t.Errorf("push with one argument: exit %d\n%s", code, h.stderr.String())
	}
}

// writeImage writes a random image as a `docker save` tarball, app.tar in
// dir.
func writeImage(t *testing.T, dir string) (string, v1.Image) {
	t.Helper()
	img, err := random.Image(4096, 2)
	if err != nil {
		t.Fatal(err)
	}
	tarPath := filepath.Join(dir, "app.tar")
	if err := tarball.WriteToFile(tarPath, name.MustParseReference("example.com/app:dev"), img); err != nil {
		t.Fatal(err)
	}
	return tarPath, img
}

// Each command gets its configuration's provider; deploy's diagnostics,
// which have no configuration, get minikube's.
func TestClusterDepsChoosesTheProvider(t *testing.T) {
	t.Parallel()
	var stderr bytes.Buffer
	g := &globals{env: Env{Stderr: &stderr, LookupEnv: func(string) (string, bool) { return "", false },
		IsTerminal: func(io.Writer) bool { return false },
		Kube:       func(string) kube.Loader { return nil }}}
	for _, tc := range []struct {
		cfg  *config.Config
		want string
	}{
		{nil, "minikube"},
		{&config.Config{Provider: "minikube"}, "minikube"},
		{&config.Config{Provider: "kind"}, "kind"},
		{&config.Config{Provider: "existing", Context: "staging"}, "existing"},
	} {
		if got := g.clusterDeps(tc.cfg).Provider.Name(); got != tc.want {
			t.Errorf("%+v: provider %s, want %s", tc.cfg, got, tc.want)
		}
	}
}
