//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/devcluster/devcluster/internal/testutil"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	"k8s.io/client-go/kubernetes"
)

const nodeIP = "192.168.49.2"

func lbService(name string, port int32) *corev1.Service {
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, Selector: map[string]string{"app": name},
			Ports: []corev1.ServicePort{{Port: port}}},
	}
}

// waitIngress polls until the Service's ingress satisfies ok, and returns
// how long it took.
func waitIngress(t *testing.T, k kubernetes.Interface, ns, name string, within time.Duration, ok func([]corev1.LoadBalancerIngress) bool) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		svc, err := k.CoreV1().Services(ns).Get(context.Background(), name, metav1.GetOptions{})
		if err == nil && ok(svc.Status.LoadBalancer.Ingress) {
			return time.Since(start)
		}
		if time.Since(start) > within {
			t.Fatalf("Service %s/%s: ingress %+v did not reach the expected state within %s (err %v)", ns, name, svcIngress(svc), within, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitLog waits until the file holds every one of lines.
func waitLog(t *testing.T, path string, within time.Duration, lines ...string) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		b, _ := os.ReadFile(path)
		missing := ""
		for _, l := range lines {
			if !strings.Contains(string(b), l) {
				missing = l
				break
			}
		}
		if missing == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s lacks %q after %s:\n%s", path, missing, within, b)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func svcIngress(s *corev1.Service) any {
	if s == nil {
		return nil
	}
	return s.Status.LoadBalancer.Ingress
}

func hasNodeIP(ing []corev1.LoadBalancerIngress) bool {
	return len(ing) == 1 && ing[0].IP == nodeIP && ing[0].IPMode != nil && *ing[0].IPMode == corev1.LoadBalancerIPModeVIP
}

func empty(ing []corev1.LoadBalancerIngress) bool { return len(ing) == 0 }

// TestLoadBalancer: the agent started by `up` gives LoadBalancer Services
// the node IP, leaves other implementations' Services alone, refuses node
// ports, clears on type change, and survives an API server restart;
// `devcluster lb` does the same once, without the agent.
func TestLoadBalancer(t *testing.T) {
	ctx := context.Background()
	u := newUser(t)
	const cluster = "e2e-lb"
	admin, err := cp.Client()
	if err != nil {
		t.Fatal(err)
	}
	ns := fmt.Sprintf("lb-e2e-%d", time.Now().UnixNano()%1000000)
	if _, err := admin.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	defer admin.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{})
	create := func(s *corev1.Service) {
		t.Helper()
		if _, err := admin.CoreV1().Services(ns).Create(ctx, s, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}

	// Without the agent's controller: `devcluster lb` assigns once.
	if r := u.devcluster("up", "--name", cluster, "--no-registry", "--no-lb"); r.code != 0 {
		t.Fatalf("up --no-lb: exit %d", r.code)
	}
	// With --no-lb (and no registry) no agent runs, so nothing can assign.
	if n := testutil.AgentProcesses(filepath.Join(u.home, ".local", "state", "devcluster", cluster)); n != 0 {
		t.Fatalf("with --no-lb --no-registry %d agents run", n)
	}
	create(lbService("once", 8080))
	if s, _ := admin.CoreV1().Services(ns).Get(ctx, "once", metav1.GetOptions{}); len(s.Status.LoadBalancer.Ingress) != 0 {
		t.Fatalf("with --no-lb nothing may assign IPs, got %+v", s.Status.LoadBalancer.Ingress)
	}
	r := u.devcluster("lb", "--name", cluster, "-o", "json")
	if r.code != 0 {
		t.Fatalf("lb: exit %d", r.code)
	}
	var once []struct{ Namespace, Name, Action, IP string }
	if err := json.Unmarshal([]byte(r.stdout), &once); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, o := range once {
		if o.Namespace == ns && o.Name == "once" && o.Action == "assign" && o.IP == nodeIP {
			found = true
		}
	}
	if !found {
		t.Errorf("lb did not assign %s/once: %s", ns, r.stdout)
	}
	waitIngress(t, admin, ns, "once", time.Second, hasNodeIP)

	// With the agent (the default): Services created later get the IP.
	if r := u.devcluster("up", "--name", cluster, "--no-registry"); r.code != 0 {
		t.Fatalf("up: exit %d", r.code)
	}
	defer u.devcluster("down", "--name", cluster)
	create(lbService("web", 80))
	took := waitIngress(t, admin, ns, "web", 5*time.Second, hasNodeIP)
	t.Logf("a Service created after up had its IP after %s", took)
	if r := u.devcluster("status", "--name", cluster); !strings.Contains(r.stdout, ns+"/web") || !strings.Contains(r.stdout, "http://"+nodeIP+":80") {
		t.Errorf("status does not list the LoadBalancer URL:\n%s", r.stdout)
	}

	// Another class is untouched.
	classed := lbService("other-class", 80)
	class := "example.com/other"
	classed.Spec.LoadBalancerClass = &class
	create(classed)
	// An ingress written by another field manager is untouched.
	create(lbService("metal", 80))
	if _, err := admin.CoreV1().Services(ns).ApplyStatus(ctx, corev1ac.Service("metal", ns).WithStatus(corev1ac.ServiceStatus().
		WithLoadBalancer(corev1ac.LoadBalancerStatus().WithIngress(corev1ac.LoadBalancerIngress().WithIP("192.168.49.100").WithIPMode(corev1.LoadBalancerIPModeVIP)))),
		metav1.ApplyOptions{FieldManager: "metallb-controller", Force: true}); err != nil {
		t.Fatal(err)
	}
	// A deny-listed port is refused with a Warning event.
	create(lbService("ssh", 22))
	// The controller has decided on each of them once the agent logs it
	// (the refusal also as an event, checked below).
	agentLog := filepath.Join(u.home, ".local", "state", "devcluster", cluster, "agent.log")
	waitLog(t, agentLog, 10*time.Second,
		"LoadBalancer "+ns+"/other-class: left alone", "LoadBalancer "+ns+"/metal: left alone", "LoadBalancer "+ns+"/ssh: refused")
	if s, _ := admin.CoreV1().Services(ns).Get(ctx, "other-class", metav1.GetOptions{}); len(s.Status.LoadBalancer.Ingress) != 0 {
		t.Errorf("a Service of another loadBalancerClass got %+v", s.Status.LoadBalancer.Ingress)
	}
	if s, _ := admin.CoreV1().Services(ns).Get(ctx, "metal", metav1.GetOptions{}); len(s.Status.LoadBalancer.Ingress) != 1 || s.Status.LoadBalancer.Ingress[0].IP != "192.168.49.100" {
		t.Errorf("another manager's ingress was changed: %+v", s.Status.LoadBalancer.Ingress)
	}
	if s, _ := admin.CoreV1().Services(ns).Get(ctx, "ssh", metav1.GetOptions{}); len(s.Status.LoadBalancer.Ingress) != 0 {
		t.Errorf("a Service on port 22 got %+v", s.Status.LoadBalancer.Ingress)
	}
	events, err := admin.CoreV1().Events(ns).List(ctx, metav1.ListOptions{FieldSelector: "involvedObject.name=ssh"})
	if err != nil {
		t.Fatal(err)
	}
	refused := false
	for _, e := range events.Items {
		if e.Reason == "PortRefused" && e.Type == corev1.EventTypeWarning && strings.Contains(e.Message, "22/TCP") {
			refused = true
		}
	}
	if !refused {
		t.Errorf("no PortRefused Warning event on the port-22 Service: %+v", events.Items)
	}
	// Other components may have spoken about web first (the API server's
	// ClusterIP repair loop sometimes does).
	events, _ = admin.CoreV1().Events(ns).List(ctx, metav1.ListOptions{FieldSelector: "involvedObject.name=web"})
	if !slices.ContainsFunc(events.Items, func(e corev1.Event) bool { return e.Reason == "IPAssigned" }) {
		t.Errorf("no IPAssigned event on web: %+v", events.Items)
	}

	// Switching to ClusterIP clears it.
	web, _ := admin.CoreV1().Services(ns).Get(ctx, "web", metav1.GetOptions{})
	web.Spec.Type = corev1.ServiceTypeClusterIP
	if _, err := admin.CoreV1().Services(ns).Update(ctx, web, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitIngress(t, admin, ns, "web", 5*time.Second, empty)

	// An API server restart does not stop assignment.
	cp.StopAPIServer()
	if err := cp.StartAPIServer(ctx); err != nil {
		t.Fatal(err)
	}
	create(lbService("after-restart", 80))
	took = waitIngress(t, admin, ns, "after-restart", 60*time.Second, hasNodeIP)
	t.Logf("after an API server restart a new Service had its IP after %s", took)
}
