//go:build e2e

package e2e

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/devcluster/devcluster/e2e/harness"
)

// kindUser is a user whose PATH has real kind v0.33.0 and the docker
// stand-in (its daemon state in the user's home), with nodes registering
// on the test's control plane.
func kindUser(t *testing.T) *user {
	t.Helper()
	kindBin := buildKind(t)
	u := dockerUser(t)
	bin := filepath.Join(u.home, "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(kindBin, filepath.Join(bin, "kind")); err != nil {
		t.Fatal(err)
	}
	for i, e := range u.env {
		if strings.HasPrefix(e, "PATH=") {
			u.env[i] = "PATH=" + bin + ":" + strings.TrimPrefix(e, "PATH=")
		}
	}
	u.env = append(u.env, "KIND_BINARY="+filepath.Join(bin, "kind"))
	return u
}

// buildKind builds real kind v0.33.0 (cached).
func buildKind(t *testing.T) string {
	t.Helper()
	kindBin, err := harness.EnsureGoInstall(context.Background(), "sigs.k8s.io/kind@"+harness.KindVersion, "kind")
	if err != nil {
		missing(t, "building kind %s: %v", harness.KindVersion, err)
	}
	return kindBin
}

// dockerUser is a user with the docker stand-in and no kind.
func dockerUser(t *testing.T) *user {
	t.Helper()
	kubectl, err := harness.EnsureKubectl(context.Background(), func(f string, a ...any) { t.Logf(f, a...) })
	if err != nil {
		missing(t, "building kubectl: %v", err)
	}
	u := newUser(t)
	u.env = append(u.env, "DOCKER_STANDIN_STATE="+filepath.Join(u.home, "docker"), "STANDIN_KUBECTL="+kubectl, "STANDIN_CA_FILE="+cp.CAFile)
	return u
}

// TestRealKindOnTheDockerStandIn: real kind's create, get and delete run
// end to end against the docker stand-in, with nodes registered as kwok
// nodes on the control plane.
func TestRealKindOnTheDockerStandIn(t *testing.T) {
	u := kindUser(t)
	kind := filepath.Join(u.home, "bin", "kind")
	r := u.exec(kind, "create", "cluster", "--name", "e2e-realkind", "--wait", "60s")
	if r.code != 0 {
		t.Fatalf("kind create cluster: exit %d\n%s", r.code, r.stderr)
	}
	t.Cleanup(func() { u.exec(kind, "delete", "cluster", "--name", "e2e-realkind") })
	if r := u.exec(kind, "get", "clusters"); r.code != 0 || strings.TrimSpace(r.stdout) != "e2e-realkind" {
		t.Errorf("get clusters: exit %d %q", r.code, r.stdout)
	}
	if r := u.exec(kind, "get", "nodes", "--name", "e2e-realkind"); r.code != 0 || strings.TrimSpace(r.stdout) != "e2e-realkind-control-plane" {
		t.Errorf("get nodes: exit %d %q", r.code, r.stdout)
	}
	admin, _ := cp.Client()
	n, err := admin.CoreV1().Nodes().Get(context.Background(), "e2e-realkind-control-plane", metav1.GetOptions{})
	if err != nil || n.Status.Addresses[0].Address != "172.18.0.2" {
		t.Errorf("node: %+v, %v", n, err)
	}
	if r := u.exec(kind, "delete", "cluster", "--name", "e2e-realkind"); r.code != 0 {
		t.Errorf("delete: exit %d\n%s", r.code, r.stderr)
	}
	if _, err := admin.CoreV1().Nodes().Get(context.Background(), "e2e-realkind-control-plane", metav1.GetOptions{}); err == nil {
		t.Errorf("the node is still registered after kind delete cluster")
	}
}

// TestKindProvider: `devcluster up` with provider kind drives real kind on
// the docker stand-in: a fresh up creates the cluster and writes hosts.toml
// for the kind network's gateway and localhost through docker exec; a
// LoadBalancer Service gets the control-plane node's IP; a converged re-run
// creates nothing; a changed worker count is drift (exit 4); --recreate
// rebuilds with the worker; down deletes the cluster and its nodes.
func TestKindProvider(t *testing.T) {
	ctx := context.Background()
	u := kindUser(t)
	port, hostPort := freePort(t), freePort(t)
	writeFile(t, filepath.Join(u.home, "devcluster.yaml"), `apiVersion: devcluster.dev/v1alpha1
kind: Cluster
name: e2e-kind
provider: kind
registry:
  port: `+port+`
loadBalancer:
  address: node  # the node IP is the docker stand-in's, in no namespace of this test: never probed
workloads:
  samples: false
`)
	res := u.upJSON()
	t.Cleanup(func() { u.devcluster("down") })
	if res.Cluster.Provider != "kind" || res.Cluster.IP != "172.18.0.2" || res.Cluster.KubeContext != "kind-e2e-kind" || res.Kubernetes == nil || !res.Kubernetes.Ready {
		t.Fatalf("cluster %+v, kubernetes %+v", res.Cluster, res.Kubernetes)
	}
	if res.Registry == nil || res.Registry.ClusterHost != "172.18.0.1:"+port {
		t.Errorf("registry: %+v", res.Registry)
	}
	if r := u.devcluster("status"); r.code != 0 || !strings.Contains(r.stdout, "e2e-kind-control-plane") || !strings.Contains(r.stdout, "v1.37.0") {
		t.Errorf("status: exit %d\n%s", r.code, r.stdout)
	}
	node := filepath.Join(u.home, "docker", "fs", "e2e-kind-control-plane")
	for _, host := range []string{"172.18.0.1:" + port, "localhost:" + port} {
		b, err := os.ReadFile(filepath.Join(node, "etc", "containerd", "certs.d", host, "hosts.toml"))
		if err != nil || !strings.Contains(string(b), `server = "http://172.18.0.1:`+port+`"`) {
			t.Errorf("hosts.toml for %s on the node: %q, %v", host, b, err)
		}
	}

	admin, _ := cp.Client()
	ns := "kind-lb"
	if _, err := admin.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = admin.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{}) })
	if _, err := admin.CoreV1().Services(ns).Create(ctx, lbService("web", 8080), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitIngress(t, admin, ns, "web", 10*time.Second, func(ing []corev1.LoadBalancerIngress) bool {
		return len(ing) == 1 && ing[0].IP == "172.18.0.2"
	})

	calls := filepath.Join(u.home, "docker", "calls.log")
	_ = os.Remove(calls)
	if again := u.upJSON(); again.Changed {
		t.Errorf("a converged re-run changed something: %v", again.Actions)
	}
	if b, _ := os.ReadFile(calls); strings.Contains(string(b), `"run"`) || strings.Contains(string(b), `"cp","/dev/stdin"`) {
		t.Errorf("a converged re-run created or wrote something:\n%s", b)
	}

	// stop: the node container stops (docker stop) and so does the agent;
	// up starts the container again, waits for the API and starts the
	// agent, and the cluster is the same one (no kind create).
	_ = os.Remove(calls)
	if r := u.devcluster("stop"); r.code != 0 || !strings.Contains(r.stdout, `Cluster "e2e-kind" stopped`) {
		t.Fatalf("stop: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if b, _ := os.ReadFile(calls); !regexp.MustCompile(`"stop",\s*"e2e-kind-control-plane"`).Match(b) {
		t.Errorf("stop did not stop the node container:\n%s", b)
	}
	if r := u.devcluster("status"); r.code != 3 || !strings.Contains(r.stdout, "Stopped") || !strings.Contains(r.stdout, "agent not running") {
		t.Errorf("status after stop: exit %d\n%s", r.code, r.stdout)
	}
	resumed := u.upJSON()
	if !slices.Contains(resumed.Actions, "started") || slices.Contains(resumed.Actions, "created") || resumed.Cluster.State != "Running" || resumed.Kubernetes == nil || !resumed.Kubernetes.Ready {
		t.Errorf("up after stop: actions %v, cluster %+v", resumed.Actions, resumed.Cluster)
	}
	if r := u.devcluster("status", "-o", "json"); r.code != 0 || !strings.Contains(r.stdout, `"running": true`) {
		t.Errorf("status after resume: exit %d\n%s", r.code, r.stdout)
	}

	writeFile(t, filepath.Join(u.home, "devcluster.yaml"), `apiVersion: devcluster.dev/v1alpha1
kind: Cluster
name: e2e-kind
provider: kind
workers: 1
portMappings:
  - containerPort: 30080
    hostPort: `+hostPort+`
registry:
  port: `+port+`
loadBalancer:
  address: node  # the node IP is the docker stand-in's, in no namespace of this test: never probed
workloads:
  samples: false
`)
	if r := u.devcluster("up"); r.code != 4 || !strings.Contains(r.stderr, "workers: cluster has 0, requested 1") || !strings.Contains(r.stderr, "portMappings: cluster has none, requested 127.0.0.1:"+hostPort+"->30080/TCP") {
		t.Fatalf("a changed worker count and port mappings: exit %d\n%s", r.code, r.stderr)
	}
	res = u.upJSON("--recreate")
	if res.Cluster.Nodes != 2 || res.Cluster.Workers != 1 || len(res.Cluster.PortMappings) != 1 || res.Cluster.PortMappings[0].HostPort != atoi(t, hostPort) {
		t.Errorf("after --recreate: %+v", res.Cluster)
	}
	// Real kind turned the mapping into a published port of the node.
	if r := u.exec(filepath.Join(binDir, "docker"), "port", "e2e-kind-control-plane", "30080/tcp"); r.code != 0 || strings.TrimSpace(r.stdout) != "127.0.0.1:"+hostPort {
		t.Errorf("docker port: exit %d %q", r.code, r.stdout)
	}
	if _, err := admin.CoreV1().Nodes().Get(ctx, "e2e-kind-worker", metav1.GetOptions{}); err != nil {
		t.Errorf("the worker did not register: %v", err)
	}
	if r := u.devcluster("down"); r.code != 0 {
		t.Fatalf("down: exit %d", r.code)
	}
	for _, n := range []string{"e2e-kind-control-plane", "e2e-kind-worker"} {
		if _, err := admin.CoreV1().Nodes().Get(ctx, n, metav1.GetOptions{}); err == nil {
			t.Errorf("node %s is still registered after down", n)
		}
	}
	if r := u.exec(filepath.Join(u.home, "bin", "kind"), "get", "clusters"); strings.Contains(r.stdout, "e2e-kind") {
		t.Errorf("kind still lists the cluster: %q", r.stdout)
	}
}

// TestKindClusterDevclusterDidNotCreate: a cluster made with plain `kind
// create cluster` is refused by down, up and up --recreate (exit 4), running
// or stopped, with the way to use it as provider existing, and is never
// deleted.
func TestKindClusterDevclusterDidNotCreate(t *testing.T) {
	u := kindUser(t)
	kind := filepath.Join(u.home, "bin", "kind")
	if r := u.exec(kind, "create", "cluster", "--name", "e2e-notours", "--wait", "60s"); r.code != 0 {
		t.Fatalf("kind create cluster: exit %d\n%s", r.code, r.stderr)
	}
	t.Cleanup(func() { u.exec(kind, "delete", "cluster", "--name", "e2e-notours") })
	refused := func(what string, args ...string) {
		t.Helper()
		r := u.devcluster(args...)
		if r.code != 4 || !strings.Contains(r.stderr, `kind cluster "e2e-notours": it was not created by devcluster`) ||
			!strings.Contains(r.stderr, "`provider: existing` and `context: kind-e2e-notours`") || strings.Contains(r.stderr, "up --recreate") {
			t.Errorf("%s: exit %d\n%s", what, r.code, r.stderr)
		}
		if r := u.exec(kind, "get", "clusters"); !strings.Contains(r.stdout, "e2e-notours") {
			t.Fatalf("%s deleted the cluster: kind get clusters %q", what, r.stdout)
		}
	}
	if r := u.devcluster("status", "--provider", "kind", "--name", "e2e-notours"); r.code != 0 || !strings.Contains(r.stdout, "ORIGIN") ||
		!strings.Contains(r.stdout, "not created by devcluster") {
		t.Errorf("status of a kind cluster devcluster did not create: exit %d\n%s", r.code, r.stdout)
	}
	refused("down", "down", "--provider", "kind", "--name", "e2e-notours")
	refused("up", "up", "--provider", "kind", "--name", "e2e-notours", "--no-registry", "--no-lb")
	refused("up --recreate", "up", "--provider", "kind", "--name", "e2e-notours", "--recreate", "--no-registry", "--no-lb")
	docker := filepath.Join(binDir, "docker")
	if r := u.exec(docker, "stop", "e2e-notours-control-plane"); r.code != 0 {
		t.Fatalf("docker stop: exit %d\n%s", r.code, r.stderr)
	}
	refused("down of the stopped cluster", "down", "--provider", "kind", "--name", "e2e-notours")
	refused("up of the stopped cluster", "up", "--provider", "kind", "--name", "e2e-notours", "--no-registry", "--no-lb")
	if r := u.exec(docker, "inspect", "-f", "{{.State.Status}}", "e2e-notours-control-plane"); strings.TrimSpace(r.stdout) != "exited" {
		t.Errorf("the stopped node was started: %q", r.stdout)
	}
}

// TestKindKubeconfigAndStoppedDrift: `--kubeconfig F` is where real kind
// writes the context (and the only file status and down read); drift of a
// stopped cluster is refused before the node is started.
func TestKindKubeconfigAndStoppedDrift(t *testing.T) {
	u := kindUser(t)
	file := filepath.Join(u.home, "ci-kubeconfig")
	home := filepath.Join(u.home, ".kube", "config")
	config := `apiVersion: devcluster.dev/v1alpha1
kind: Cluster
name: e2e-kindkc
provider: kind
registry:
  enabled: false
loadBalancer:
  enabled: false
workloads:
  samples: false
`
	writeFile(t, filepath.Join(u.home, "devcluster.yaml"), config)
	if r := u.devcluster("--kubeconfig", file, "up"); r.code != 0 {
		t.Fatalf("up --kubeconfig: exit %d\n%s", r.code, r.stderr)
	}
	t.Cleanup(func() { u.devcluster("--kubeconfig", file, "down") })
	hasContext := func(f string) bool {
		b, _ := os.ReadFile(f)
		return strings.Contains(string(b), "name: kind-e2e-kindkc")
	}
	if !hasContext(file) || hasContext(home) {
		t.Errorf("context in --kubeconfig %v, in ~/.kube/config %v", hasContext(file), hasContext(home))
	}
	if r := u.devcluster("--kubeconfig", file, "status", "-o", "json"); r.code != 0 || !strings.Contains(r.stdout, `"kubeconfigOK": true`) {
		t.Errorf("status --kubeconfig: exit %d\n%s", r.code, r.stdout)
	}
	docker := filepath.Join(binDir, "docker")
	if r := u.exec(docker, "stop", "e2e-kindkc-control-plane"); r.code != 0 {
		t.Fatalf("docker stop: exit %d\n%s", r.code, r.stderr)
	}
	writeFile(t, filepath.Join(u.home, "devcluster.yaml"), config+"workers: 1\n")
	if r := u.devcluster("--kubeconfig", file, "up"); r.code != 4 || !strings.Contains(r.stderr, "workers: cluster has 0, requested 1") {
		t.Errorf("up of a stopped cluster with another worker count: exit %d\n%s", r.code, r.stderr)
	}
	if r := u.exec(docker, "inspect", "-f", "{{.State.Status}}", "e2e-kindkc-control-plane"); strings.TrimSpace(r.stdout) != "exited" {
		t.Errorf("the drifted cluster was started: %q", r.stdout)
	}
	if r := u.devcluster("--kubeconfig", file, "down"); r.code != 0 || hasContext(file) {
		t.Errorf("down --kubeconfig: exit %d, context left %v\n%s", r.code, hasContext(file), r.stderr)
	}
}
