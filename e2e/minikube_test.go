//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/devcluster/devcluster/bootstrap"
)

// TestUpLifecycle walks one cluster through everything a user does with
// it: fresh up, converged re-run, drift, stop and resume, down.
func TestUpLifecycle(t *testing.T) {
	u := newUser(t)
	const name = "e2e-life"

	// 1. Fresh up: minikube start with the requested settings, a kubeconfig
	//    context that reaches the real API server, a Ready node.
	port := freePort(t)
	r := u.devcluster("up", "--name", name, "--cpus=3", "--memory=3g", "--driver=docker",
		"--insecure-registry=192.168.49.1:5000", "--wait=2m", "--registry-port", port)
	if r.code != 0 {
		t.Fatalf("up failed: exit %d", r.code)
	}
	wantStart := "start -p " + name + " --cpus=3 --memory=3072mb --container-runtime=containerd --driver=docker --insecure-registry=192.168.49.1:5000 --interactive=false --output=json"
	if got := u.mutatingCalls(); !slices.Equal(got, []string{wantStart}) {
		t.Fatalf("minikube calls = %q, want [%q]", got, wantStart)
	}
	prof := u.savedProfile(name)
	if prof["CPUs"] != 3.0 || prof["Memory"] != 3072.0 {
		t.Errorf("minikube saved CPUs=%v Memory=%v, want 3 and 3072", prof["CPUs"], prof["Memory"])
	}
	if regs, _ := prof["InsecureRegistry"].([]any); len(regs) != 1 || regs[0] != "192.168.49.1:5000" {
		t.Errorf("minikube saved InsecureRegistry=%v", prof["InsecureRegistry"])
	}
	for _, want := range []string{"✓ Checking minikube: v1.38.1", `✓ Ensuring cluster "` + name + `": created`, "✓ Waiting for Kubernetes"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("progress lacks %q", want)
		}
	}
	k := clientFor(t, u, name)
	node, err := k.CoreV1().Nodes().Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("the cluster's node is not registered: %v", err)
	}
	if !nodeReady(node) {
		t.Errorf("node %s is not Ready after up", name)
	}

	// 2. Converged re-run: no minikube start, nothing changed, fast.
	u.resetCalls()
	r = u.devcluster("up", "--name", name, "--cpus=3", "--memory=3g", "--driver=docker",
		"--insecure-registry=192.168.49.1:5000", "-o", "json", "--registry-port", port)
	if r.code != 0 {
		t.Fatalf("re-run failed: exit %d", r.code)
	}
	if got := u.mutatingCalls(); len(got) != 0 {
		t.Errorf("a converged re-run ran %q", got)
	}
	var res bootstrap.Result
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		t.Fatalf("up -o json: %v", err)
	}
	if res.Changed || res.Kubernetes == nil || !res.Kubernetes.Ready || res.Kubernetes.Server != cp.URL {
		t.Errorf("re-run result = %s", r.stdout)
	}
	t.Logf("converged re-run took %s", r.took)

	// 3. Drift: changed CPUs and a new insecure registry are refused with
	//    exit 4, each difference named, and nothing is started.
	u.resetCalls()
	r = u.devcluster("up", "--name", name, "--cpus=4", "--memory=3g", "--insecure-registry=192.168.49.1:5001", "--registry-port", port)
	if r.code != 4 {
		t.Fatalf("drift: exit %d, want 4", r.code)
	}
	for _, want := range []string{"cpus: cluster has 3, requested 4", "missing 192.168.49.1:5001", "devcluster up --recreate"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("drift report lacks %q", want)
		}
	}
	if got := u.mutatingCalls(); len(got) != 0 {
		t.Errorf("drift must change nothing, ran %q", got)
	}
	if prof := u.savedProfile(name); prof["CPUs"] != 3.0 {
		t.Errorf("drift changed the saved CPUs to %v", prof["CPUs"])
	}

	// 4. stop keeps the cluster and stops it and its agent (the agent's
	//    process ends); up resumes both with the saved settings.
	u.resetCalls()
	if r := u.devcluster("stop", "--name", name); r.code != 0 || !strings.Contains(r.stdout, "stopped; `devcluster up` resumes it") {
		t.Fatalf("stop: exit %d\n%s", r.code, r.stdout)
	}
	if got := u.mutatingCalls(); !slices.Equal(got, []string{"stop -p " + name}) {
		t.Errorf("stop ran %q, want minikube stop", got)
	}
	if r := u.devcluster("status", "--name", name); r.code != 3 || !strings.Contains(r.stdout, "Stopped") || !strings.Contains(r.stdout, "agent not running") {
		t.Errorf("status of a stopped cluster: exit %d, want 3, Stopped and no agent\n%s", r.code, r.stdout)
	}
	if r := u.devcluster("list", "-o", "json"); r.code != 0 || !strings.Contains(r.stdout, `"state": "Stopped"`) || !strings.Contains(r.stdout, `"running": false`) {
		t.Errorf("list of a stopped cluster: exit %d\n%s", r.code, r.stdout)
	}
	u.resetCalls()
	r = u.devcluster("up", "--name", name, "--cpus=3", "--memory=3g", "--registry-port", port)
	if r.code != 0 {
		t.Fatalf("resume failed: exit %d", r.code)
	}
	if got := u.mutatingCalls(); !slices.Equal(got, []string{"start -p " + name + " --interactive=false --output=json"}) {
		t.Errorf("resume ran %q", got)
	}
	if r := u.devcluster("status", "--name", name, "-o", "json"); r.code != 0 || !strings.Contains(r.stdout, `"state": "Running"`) || !strings.Contains(r.stdout, `"running": true`) {
		t.Errorf("status after resume: exit %d, want Running with its agent\n%s", r.code, r.stdout)
	}

	// 5. down deletes the cluster, its context and its node.
	r = u.devcluster("down", "--name", name)
	if r.code != 0 || !strings.Contains(r.stdout, "deleted") {
		t.Fatalf("down: exit %d", r.code)
	}
	if r := u.devcluster("status", "--name", name); r.code != 3 || !strings.Contains(r.stdout, "Absent") {
		t.Errorf("status after down: exit %d", r.code)
	}
	cfg, err := clientcmd.LoadFromFile(kubeconfigOf(u))
	if err == nil && cfg.Contexts[name] != nil {
		t.Errorf("down left the kubeconfig context %q", name)
	}
	admin, _ := cp.Client()
	if _, err := admin.CoreV1().Nodes().Get(context.Background(), name, metav1.GetOptions{}); err == nil {
		t.Errorf("down left node %s registered", name)
	}
}

// TestUpWithConfigFileAndRecreate applies a devcluster.yaml, then recreates
// the cluster with changed settings.
func TestUpWithConfigFileAndRecreate(t *testing.T) {
	u := newUser(t)
	writeFile(t, u.home+"/devcluster.yaml", `apiVersion: devcluster.dev/v1alpha1
kind: Cluster
name: e2e-file
cpus: 2
memory: 2g
kubernetesVersion: v1.35.1
wait: 2m
registry:
  port: `+freePort(t)+`
workloads:
  samples: false
`)
	if r := u.devcluster("up"); r.code != 0 {
		t.Fatalf("up: exit %d", r.code)
	}
	if prof := u.savedProfile("e2e-file"); prof["Memory"] != 2048.0 {
		t.Errorf("saved memory %v, want 2048", prof["Memory"])
	}
	u.resetCalls()
	r := u.devcluster("up", "--memory=4g", "--recreate")
	if r.code != 0 {
		t.Fatalf("recreate: exit %d", r.code)
	}
	calls := u.mutatingCalls()
	if len(calls) != 2 || calls[0] != "delete -p e2e-file" || !strings.HasPrefix(calls[1], "start -p e2e-file --cpus=2 --memory=4096mb") {
		t.Errorf("recreate ran %q", calls)
	}
	if prof := u.savedProfile("e2e-file"); prof["Memory"] != 4096.0 {
		t.Errorf("saved memory after recreate %v, want 4096", prof["Memory"])
	}
	if r := u.devcluster("down"); r.code != 0 {
		t.Errorf("down: exit %d", r.code)
	}
}

// TestMissingMinikube is a newcomer's first run on a machine without
// minikube: one clear paragraph, exit 5, no stack trace.
func TestMissingMinikube(t *testing.T) {
	u := newUser(t)
	// No driver at all: said first, and nothing is downloaded. The PATH
	// is exactly the scenario's: a machine's own docker CLI (Debian's
	// docker.io, a CI runner's Docker) or VM tools in /usr/bin must not
	// turn "no driver" into "docker is not running".
	u.setPath(toolPath(t, filepath.Join(u.home, "no-tools"), nil))
	r := u.exec(binDir+"/devcluster", "up")
	if r.code != 5 || !strings.Contains(r.stderr, "minikube has no driver") || !strings.Contains(r.stderr, "https://minikube.sigs.k8s.io/docs/drivers/") {
		t.Errorf("without a driver: exit %d, want 5 naming the drivers page", r.code)
	}
	// Docker there, minikube not: --no-install is exit 5 with the way to
	// install it.
	u.setPath(toolPath(t, filepath.Join(u.home, "docker-only"), map[string]string{"docker": filepath.Join(binDir, "docker")}))
	u.env = append(u.env, "DOCKER_STANDIN_STATE="+filepath.Join(u.home, "docker"))
	r = u.exec(binDir+"/devcluster", "up", "--no-install")
	if r.code != 5 || !strings.Contains(r.stderr, "minikube is not installed") || !strings.Contains(r.stderr, "https://minikube.sigs.k8s.io/docs/start/") ||
		strings.Contains(r.stderr, "goroutine") {
		t.Errorf("--no-install: exit %d, want 5 and a helpful error:\n%s", r.code, r.stderr)
	}
	// In CI it is downloaded; a mirror without the release is a clear error.
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	u.env = append(u.env, "DEVCLUSTER_MINIKUBE_URL="+srv.URL+"/minikube")
	r = u.exec(binDir+"/devcluster", "up")
	if r.code != 1 || !strings.Contains(r.stderr, "404 Not Found") || !strings.Contains(r.stderr, "<base>/v1.38.1/minikube-") {
		t.Errorf("a mirror without the release: exit %d, want 1 naming the 404 and the layout", r.code)
	}
	// The job's cleanup after the failed install: no minikube, no profile,
	// so no cluster can exist — down succeeds, status says so (exit 3).
	if r := u.exec(binDir+"/devcluster", "down"); r.code != 0 || !strings.Contains(r.stderr, "not found (minikube is not installed)") {
		t.Errorf("down without minikube: exit %d\n%s", r.code, r.stderr)
	}
	if r := u.exec(binDir+"/devcluster", "status"); r.code != 3 || !strings.Contains(r.stdout, "Absent (minikube is not installed)") {
		t.Errorf("status without minikube: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// TestStartFailureIsExplained makes minikube fail the way a broken driver
// does and checks devcluster passes minikube's reason on.
func TestStartFailureIsExplained(t *testing.T) {
	u := newUser(t)
	u.env = append(u.env, "STANDIN_FAIL_START=GUEST_PROVISION")
	r := u.devcluster("up", "--name", "e2e-fail", "--no-registry")
	if r.code != 1 || !strings.Contains(r.stderr, "GUEST_PROVISION") {
		t.Errorf("exit %d; stderr must name minikube's reason GUEST_PROVISION", r.code)
	}
}

func kubeconfigOf(u *user) string {
	for _, e := range u.env {
		if v, ok := strings.CutPrefix(e, "KUBECONFIG="); ok {
			return v
		}
	}
	return ""
}

// clientFor builds a client from the user's kubeconfig context, the way
// kubectl --context NAME would.
func clientFor(t *testing.T, u *user, context string) kubernetes.Interface {
	t.Helper()
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(
		&clientcmd.ClientConfigLoadingRules{ExplicitPath: kubeconfigOf(u)},
		&clientcmd.ConfigOverrides{CurrentContext: context}).ClientConfig()
	if err != nil {
		t.Fatalf("the kubeconfig has no usable context %q: %v", context, err)
	}
	k, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func nodeReady(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}
