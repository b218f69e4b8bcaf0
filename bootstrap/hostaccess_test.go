package bootstrap

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/devcluster/devcluster/agent"
	"github.com/devcluster/devcluster/config"
	"github.com/devcluster/devcluster/internal/problem"
	"github.com/devcluster/devcluster/internal/testutil"
	"github.com/devcluster/devcluster/loadbalancer"
)

// In localhost mode `up` waits until the agent listens for every
// LoadBalancer Service and reports the host URLs it wrote: 127.0.0.1 and
// the Service's port (a free one here), the UDP port named as not
// forwarded; the ingress is 127.0.0.1 with ipMode Proxy.
func TestUpLocalhostModeReportsHostURLs(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	c, _ := f.deps.Kube("dev")
	port := int32(testutil.Port(t))
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, Ports: []corev1.ServicePort{
			{Name: "http", Port: port, Protocol: corev1.ProtocolTCP}, {Name: "dns", Port: 5353, Protocol: corev1.ProtocolUDP}}}}
	if _, err := c.Kube.CoreV1().Services("default").Create(context.Background(), svc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	res, err := Up(context.Background(), f.deps, f.cfg(func(c *config.File) { c.LoadBalancer.Address = "localhost" }), UpOptions{})
	if err != nil {
		t.Fatal(err)
	}
	url := "http://127.0.0.1:" + strconv.Itoa(int(port))
	want := []LBService{{Namespace: "default", Name: "web", IP: "127.0.0.1", URL: url, URLs: []string{url}, NotForwarded: []string{"5353/UDP"}, State: "assigned"}}
	if !slices.EqualFunc(res.LoadBalancers, want, func(a, b LBService) bool {
		return a.Name == b.Name && a.IP == b.IP && a.URL == b.URL && slices.Equal(a.URLs, b.URLs) && slices.Equal(a.NotForwarded, b.NotForwarded) && a.State == b.State
	}) {
		t.Fatalf("load balancers = %+v, want %+v", res.LoadBalancers, want)
	}
	got, _ := c.Kube.CoreV1().Services("default").Get(context.Background(), "web", metav1.GetOptions{})
	if ing := got.Status.LoadBalancer.Ingress; len(ing) != 1 || ing[0].IP != "127.0.0.1" || *ing[0].IPMode != corev1.LoadBalancerIPModeProxy {
		t.Fatalf("ingress = %+v", ing)
	}
	if !strings.Contains(strings.Join(f.rec.lines, "\n"), "5353/UDP not forwarded") {
		t.Errorf("no warning for the UDP port:\n%s", strings.Join(f.rec.lines, "\n"))
	}
	if st, _ := f.deps.Agent.Status(context.Background(), res.Registry.Agent.Spec.StateDir); st.LoadBalancerAddress != "localhost" || st.LoadBalancerIP != "" {
		t.Errorf("agent = %+v, want the localhost controller", st)
	}
}

// auto: the probe decides on a host that routes to the node — localhost
// when the node IP is silent, node when it answers — and it is asked
// about the node IP and the API server's and kubelet's ports only.
func TestUpAutoAddressByProbe(t *testing.T) {
	t.Parallel()
	for _, answers := range []bool{false, true} {
		f := newFixture(t)
		var asked []string
		f.deps.Platform = loadbalancer.Platform{GOOS: "linux"}
		f.deps.Probe = func(_ context.Context, ip string, ports []int) error {
			asked = append(asked, ip+" "+strconv.Itoa(ports[0])+" "+strconv.Itoa(ports[1]))
			if answers {
				return nil
			}
			return errors.New("did not answer")
		}
		res, err := Up(context.Background(), f.deps, f.cfg(func(c *config.File) { c.Driver = "docker" }), UpOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(asked, []string{"192.168.49.2 8443 10250"}) {
			t.Fatalf("probed %v", asked)
		}
		st := res.Registry.Agent
		if answers && (st.LoadBalancerIP != "192.168.49.2" || st.LoadBalancerAddress != "") {
			t.Errorf("the node answers: agent %+v, want node mode", st)
		}
		if !answers && (st.LoadBalancerAddress != "localhost" || st.LoadBalancerIP != "") {
			t.Errorf("the node is silent: agent %+v, want localhost mode", st)
		}
	}
}

// After an agent restart the host-url annotations are still there (they
// keep the ports), so `up` waits for the running agent's own record of its
// bound listeners: none yet, another process's, or other URLs all count as
// not bound.
func TestUnboundWaitsForTheRunningAgent(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	st := &agent.Status{PID: 42, Spec: agent.Spec{StateDir: dir}}
	svcs := []LBService{{Namespace: "default", Name: "web", State: "assigned", URL: "http://127.0.0.1:8080", URLs: []string{"http://127.0.0.1:8080"}},
		{Namespace: "default", Name: "dns", State: "assigned"}, {Namespace: "default", Name: "x", State: "pending"}}
	if n := unbound(st, svcs); n != 1 {
		t.Fatalf("no record: %d unbound, want 1", n)
	}
	write := func(pid int, urls ...string) {
		b, _ := json.Marshal(agent.Forwards{PID: pid, Services: map[string][]string{"default/web": urls}})
		if err := os.WriteFile(filepath.Join(dir, "forwards.json"), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(41, "http://127.0.0.1:8080")
	if n := unbound(st, svcs); n != 1 {
		t.Fatalf("the previous agent's record: %d unbound, want 1", n)
	}
	write(42, "http://127.0.0.1:8081")
	if n := unbound(st, svcs); n != 1 {
		t.Fatalf("other URLs: %d unbound, want 1", n)
	}
	write(42, "http://127.0.0.1:8080")
	if n := unbound(st, svcs); n != 0 {
		t.Fatalf("bound: %d unbound, want 0", n)
	}
}

// `lb` once cannot hold listeners: in localhost mode it is refused (exit
// 2) before anything is asked of the provider, with the way that works.
func TestLBOnceRefusesLocalhostMode(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	_, err := AssignLoadBalancers(context.Background(), f.deps, f.cfg(func(c *config.File) { c.LoadBalancer.Address = "localhost" }), LBOptions{})
	if problem.KindOf(err) != problem.Usage || !strings.Contains(problem.FixOf(err), "lb --watch") {
		t.Fatalf("err = %v, want a usage problem naming lb --watch", err)
	}
	if calls := f.runner.Calls(); len(calls) != 0 {
		t.Fatalf("minikube was run: %v", calls)
	}
}
