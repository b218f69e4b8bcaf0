//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/devcluster/devcluster/bootstrap"
	"github.com/devcluster/devcluster/kube"
)

// TestExistingCluster: provider existing on the control plane's own admin
// context. up checks the cluster, builds and applies the samples and a
// user manifest through devcluster's registry, and runs no minikube
// command; a re-run changes nothing; settings only minikube can honour and
// a context that does not exist are refused (status exits 3); down removes the samples'
// namespace and the registry ConfigMap devcluster wrote, and leaves the
// user's objects and the cluster.
func TestExistingCluster(t *testing.T) {
	ctx := context.Background()
	u := newUser(t)
	admin, err := cp.Client()
	if err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	ns := fmt.Sprintf("existing-%d", time.Now().UnixNano()%100000)
	baseDir, _ := baseLayout(t, u.home)
	writeFile(t, filepath.Join(u.home, "app.yaml"), appManifest(ns))
	writeFile(t, filepath.Join(u.home, "devcluster.yaml"), fmt.Sprintf(`apiVersion: devcluster.dev/v1alpha1
kind: Cluster
name: e2e-existing
provider: existing
context: e2e
registry:
  enabled: true
  port: %s
  clusterAddress: 127.0.0.1
workloads:
  sampleBase: oci:%s
  manifests: [app.yaml]
  timeout: 2m
`, port, baseDir))
	// Someone else's cluster: a node registered by another tool (here
	// the minikube stand-in, with a config of its own).
	other := newUser(t)
	if r := other.devcluster("up", "--name", "e2e-someone-else", "--no-registry", "--no-lb"); r.code != 0 {
		t.Fatalf("the other tool's cluster: exit %d", r.code)
	}
	t.Cleanup(func() { other.devcluster("down", "--name", "e2e-someone-else") })
	nodesBefore, _ := admin.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	kc := "--kubeconfig=" + cp.Kubeconfig

	r := u.devcluster(kc, "up", "-o", "json")
	if r.code != 0 {
		t.Fatalf("up: exit %d", r.code)
	}
	t.Cleanup(func() { u.devcluster(kc, "down") })
	var res bootstrap.Result
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		t.Fatal(err)
	}
	if res.Cluster.Provider != "existing" || res.Cluster.KubeContext != "e2e" || res.Kubernetes == nil || !res.Kubernetes.Ready {
		t.Errorf("cluster %+v, kubernetes %+v", res.Cluster, res.Kubernetes)
	}
	ready := map[string]bool{}
	for _, w := range res.Workloads {
		ready[w.Kind+" "+w.Namespace+"/"+w.Name] = w.Ready
	}
	if !ready["Deployment devcluster-samples/web"] || !ready["Deployment "+ns+"/app"] {
		t.Errorf("workloads: %+v", res.Workloads)
	}
	if !strings.Contains(r.stderr, "does not configure the nodes") {
		t.Errorf("no word about the nodes' registry configuration:\n%s", r.stderr)
	}
	if calls := u.calls(); calls != "" {
		t.Errorf("up ran minikube on an existing cluster:\n%s", calls)
	}
	hosting, err := kube.ReadLocalRegistryHosting(ctx, admin)
	if err != nil || hosting == nil || hosting.HostFromContainerRuntime != "127.0.0.1:"+port {
		t.Errorf("local-registry-hosting: %+v, %v", hosting, err)
	}

	// A re-run changes nothing.
	if r := u.devcluster(kc, "up", "-o", "json"); r.code != 0 || strings.Contains(r.stdout, `"applied"`) && !strings.Contains(r.stdout, `"actions": []`) {
		t.Errorf("re-run: exit %d\n%s", r.code, r.stdout)
	}
	if r := u.devcluster(kc, "status"); r.code != 0 || !strings.Contains(r.stdout, "existing") {
		t.Errorf("status: exit %d\n%s", r.code, r.stdout)
	}

	// Refused before anything is done.
	if r := u.devcluster(kc, "up", "--cpus", "4"); r.code != 2 || !strings.Contains(r.stderr, "--cpus: only for provider minikube") {
		t.Errorf("--cpus on an existing cluster: exit %d\n%s", r.code, r.stderr)
	}
	if r := u.devcluster(kc, "up", "--context", "nope"); r.code != 2 || !strings.Contains(r.stderr, `has no context "nope"`) {
		t.Errorf("a context that does not exist: exit %d\n%s", r.code, r.stderr)
	}
	// status of a mistyped context is no health check that passes.
	if r := u.devcluster(kc, "status", "--context", "nope"); r.code != 3 || !strings.Contains(r.stdout, "Absent") ||
		!strings.Contains(r.stderr, "kubectl config get-contexts") {
		t.Errorf("status of a context that does not exist: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	r = u.devcluster(kc, "down")
	if r.code != 0 || !strings.Contains(r.stdout, `left as it is`) || !strings.Contains(r.stdout, "namespace devcluster-samples") {
		t.Fatalf("down: exit %d\n%s", r.code, r.stdout)
	}
	if _, err := admin.AppsV1().Deployments(ns).Get(ctx, "app", metav1.GetOptions{}); err != nil {
		t.Errorf("down removed the user's Deployment: %v", err)
	}
	if hosting, _ := kube.ReadLocalRegistryHosting(ctx, admin); hosting != nil {
		t.Errorf("down left devcluster's local-registry-hosting: %+v", hosting)
	}
	if sample, err := admin.CoreV1().Namespaces().Get(ctx, "devcluster-samples", metav1.GetOptions{}); err == nil && sample.DeletionTimestamp == nil {
		t.Errorf("down left the samples' namespace")
	}
	// The other tests share the control plane and deploy the samples:
	// wait until the namespace is really gone.
	err = wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		_, err := admin.CoreV1().Namespaces().Get(ctx, "devcluster-samples", metav1.GetOptions{})
		return apierrors.IsNotFound(err), nil
	})
	if err != nil {
		t.Errorf("the samples' namespace is still there a minute after down: %v", err)
	}
	nodesAfter, _ := admin.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if len(nodesAfter.Items) != len(nodesBefore.Items) {
		t.Errorf("nodes before %d, after %d", len(nodesBefore.Items), len(nodesAfter.Items))
	}
	if calls := u.calls(); calls != "" {
		t.Errorf("minikube ran:\n%s", calls)
	}
}
