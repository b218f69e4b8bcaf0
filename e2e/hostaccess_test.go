//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/devcluster/devcluster/agent"
	"github.com/devcluster/devcluster/internal/testutil"
	"github.com/devcluster/devcluster/loadbalancer"
)

func hasLoopback(ing []corev1.LoadBalancerIngress) bool {
	return len(ing) == 1 && ing[0].IP == "127.0.0.1" && ing[0].IPMode != nil && *ing[0].IPMode == corev1.LoadBalancerIPModeProxy
}

// hostURLs waits (bounded) until the Service's host-url annotation
// satisfies ok and returns it.
func hostURLs(t *testing.T, k kubernetes.Interface, ns, name string, ok func([]string) bool) []string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		svc, err := k.CoreV1().Services(ns).Get(context.Background(), name, metav1.GetOptions{})
		if err == nil && ok(loadbalancer.HostURLs(svc)) {
			return loadbalancer.HostURLs(svc)
		}
		if time.Now().After(deadline) {
			t.Fatalf("Service %s/%s: host-url %v did not reach the expected state (err %v)", ns, name, loadbalancer.HostURLs(svc), err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func listens(port int32) bool {
	c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(int(port)), time.Second)
	if err == nil {
		c.Close()
	}
	return err == nil
}

// namespace creates a namespace for the test and deletes it after.
func namespace(t *testing.T, k kubernetes.Interface, prefix string) string {
	t.Helper()
	ns := fmt.Sprintf("%s-%d", prefix, time.Now().UnixNano()%1000000)
	if _, err := k.CoreV1().Namespaces().Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k.CoreV1().Namespaces().Delete(context.Background(), ns, metav1.DeleteOptions{}) })
	return ns
}

// agentMode reads the mode of the cluster's agent from `status -o json`.
func agentMode(t *testing.T, u *user, args ...string) agent.Status {
	t.Helper()
	r := u.devcluster(append([]string{"status", "-o", "json"}, args...)...)
	var res struct {
		Registry *struct{ Agent agent.Status } `json:"registry"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil || res.Registry == nil {
		t.Fatalf("status -o json: %v\n%s", err, r.stdout)
	}
	return res.Registry.Agent
}

// TestLBAddressAutoByProbe: with loadBalancer.address auto on a host that
// routes to the node (native Linux, the docker driver), the probe of the
// node IP decides. The node network namespace answers (a refusal, nothing
// listens there): node mode, the node IP handed out. With the API server's
// and kubelet's ports dropped inside the namespace the node is silent:
// localhost mode, the Service on 127.0.0.1 with ipMode Proxy and a host
// URL; down frees the port.
func TestLBAddressAutoByProbe(t *testing.T) {
	if nodeNet == nil {
		missing(t, "needs the node network namespace (root and iproute2)")
	}
	ctx := context.Background()
	u := newUser(t)
	const cluster = "e2e-auto"
	admin, err := cp.Client()
	if err != nil {
		t.Fatal(err)
	}
	ns := namespace(t, admin, "auto")
	port := int32(testutil.Port(t))
	if _, err := admin.CoreV1().Services(ns).Create(ctx, lbService("web", port), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	regPort := freePort(t)
	if r := u.devcluster("up", "--name", cluster, "--driver", "docker", "--registry-port", regPort); r.code != 0 {
		t.Fatalf("up: exit %d", r.code)
	}
	t.Cleanup(func() { u.devcluster("down", "--name", cluster) })
	if st := agentMode(t, u, "--name", cluster); st.LoadBalancerIP != nodeIP || st.LoadBalancerAddress != "" {
		t.Fatalf("the node answers the probe: agent %+v, want node mode", st)
	}
	waitIngress(t, admin, ns, "web", 5*time.Second, hasNodeIP)
	if listens(port) {
		t.Fatalf("node mode listens on 127.0.0.1:%d", port)
	}

	drop := []string{"iptables", "-w", "-I", "INPUT", "-p", "tcp", "-m", "multiport", "--dports", "8443,10250", "-j", "DROP"}
	if out, err := nodeNet.Exec(drop...); err != nil {
		t.Fatalf("%v: %v\n%s", drop, err, out)
	}
	t.Cleanup(func() {
		drop[2] = "-D"
		_, _ = nodeNet.Exec(drop...)
	})
	start := time.Now()
	if r := u.devcluster("up", "--name", cluster, "--driver", "docker", "--registry-port", regPort); r.code != 0 {
		t.Fatalf("up with the node silent: exit %d", r.code)
	}
	t.Logf("up with a silent node took %s (the probe's 1 s included)", time.Since(start).Round(time.Millisecond))
	if st := agentMode(t, u, "--name", cluster); st.LoadBalancerAddress != "localhost" {
		t.Fatalf("the node is silent: agent %+v, want localhost mode", st)
	}
	waitIngress(t, admin, ns, "web", 5*time.Second, hasLoopback)
	want := "http://127.0.0.1:" + strconv.Itoa(int(port))
	hostURLs(t, admin, ns, "web", func(u []string) bool { return len(u) == 1 && u[0] == want })
	if !listens(port) {
		t.Fatalf("localhost mode does not listen on 127.0.0.1:%d", port)
	}
	if r := u.devcluster("down", "--name", cluster); r.code != 0 {
		t.Fatalf("down: exit %d", r.code)
	}
	if listens(port) {
		t.Errorf("127.0.0.1:%d still listens after down", port)
	}
}

// TestExistingForwardsOnlyWhenAsked: on provider existing, auto is node
// mode (loadBalancer.ip handed out, nothing on 127.0.0.1); with
// loadBalancer.address localhost the Service is forwarded to 127.0.0.1 — over the
// API server alone, no node IP needed; a ClusterIP Service annotated
// devcluster.dev/forward is forwarded in either mode; down frees every
// port.
func TestExistingForwardsOnlyWhenAsked(t *testing.T) {
	ctx := context.Background()
	u := newUser(t)
	admin, err := cp.Client()
	if err != nil {
		t.Fatal(err)
	}
	// A Ready node for the cluster devcluster did not create, registered
	// by another tool (the minikube stand-in), as in TestExistingCluster.
	other := newUser(t)
	if r := other.devcluster("up", "--name", "e2e-fwd-nodes", "--no-registry", "--no-lb"); r.code != 0 {
		t.Fatalf("the other tool's cluster: exit %d", r.code)
	}
	t.Cleanup(func() { other.devcluster("down", "--name", "e2e-fwd-nodes") })
	ns := namespace(t, admin, "existing-fwd")
	port, asked := int32(testutil.Port(t)), int32(testutil.Port(t))
	if _, err := admin.CoreV1().Services(ns).Create(ctx, lbService("web", port), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	plain := lbService("plain", asked)
	plain.Spec.Type = corev1.ServiceTypeClusterIP
	plain.Annotations = map[string]string{loadbalancer.ForwardAnnotation: "true"}
	if _, err := admin.CoreV1().Services(ns).Create(ctx, plain, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(u.home, "devcluster.yaml"), `apiVersion: devcluster.dev/v1alpha1
kind: Cluster
name: e2e-existing-fwd
provider: existing
context: e2e
loadBalancer:
  enabled: true
  ip: 127.0.0.9
workloads:
  samples: false
`)
	kc := "--kubeconfig=" + cp.Kubeconfig
	if r := u.devcluster(kc, "up"); r.code != 0 {
		t.Fatalf("up: exit %d", r.code)
	}
	t.Cleanup(func() { u.devcluster(kc, "down") })
	waitIngress(t, admin, ns, "web", 5*time.Second, func(ing []corev1.LoadBalancerIngress) bool { return len(ing) == 1 && ing[0].IP == "127.0.0.9" })
	if listens(port) {
		t.Fatalf("auto on provider existing forwards 127.0.0.1:%d unasked", port)
	}
	// Asked for by the annotation: forwarded in node mode too.
	hostURLs(t, admin, ns, "plain", func(u []string) bool { return len(u) == 1 && u[0] == "http://127.0.0.1:"+strconv.Itoa(int(asked)) })
	if !listens(asked) {
		t.Fatalf("the annotated ClusterIP Service is not forwarded")
	}

	writeFile(t, filepath.Join(u.home, "devcluster.yaml"), `apiVersion: devcluster.dev/v1alpha1
kind: Cluster
name: e2e-existing-fwd
provider: existing
context: e2e
loadBalancer:
  enabled: true
  address: localhost
workloads:
  samples: false
`)
	if r := u.devcluster(kc, "up"); r.code != 0 {
		t.Fatalf("up with loadBalancer.address localhost: exit %d", r.code)
	}
	waitIngress(t, admin, ns, "web", 5*time.Second, hasLoopback)
	hostURLs(t, admin, ns, "web", func(u []string) bool { return len(u) == 1 && u[0] == "http://127.0.0.1:"+strconv.Itoa(int(port)) })
	if !listens(port) || !listens(asked) {
		t.Fatalf("localhost mode: 127.0.0.1:%d %v, 127.0.0.1:%d %v", port, listens(port), asked, listens(asked))
	}
	if r := u.devcluster(kc, "down"); r.code != 0 {
		t.Fatalf("down: exit %d", r.code)
	}
	for _, p := range []int32{port, asked} {
		if listens(p) {
			t.Errorf("127.0.0.1:%d still listens after down", p)
		}
	}
	_ = os.Remove(filepath.Join(u.home, "devcluster.yaml"))
}
