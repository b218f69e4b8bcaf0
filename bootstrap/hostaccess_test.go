package bootstrap

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/devcluster/devcluster/config"
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
