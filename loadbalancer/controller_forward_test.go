package loadbalancer

import (
	"context"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/devcluster/devcluster/internal/testutil"
)

// waitFor polls the Service until ok says yes (bounded).
func waitFor(t *testing.T, cs kubernetes.Interface, name, what string, ok func(*corev1.Service) bool) *corev1.Service {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		s, err := cs.CoreV1().Services("default").Get(context.Background(), name, metav1.GetOptions{})
		if err == nil && ok(s) {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("Service %s: %s did not happen within 10 s (last: %+v, %v)", name, what, s, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// runController runs c until the test ends.
func runController(t *testing.T, c *Controller) context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx, 2) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return ctx
}

func eventReasons(t *testing.T, cs kubernetes.Interface, name string) map[string]string {
	t.Helper()
	evs, _ := cs.CoreV1().Events("default").List(context.Background(), metav1.ListOptions{})
	out := map[string]string{}
	for _, e := range evs.Items {
		if e.InvolvedObject.Name == name {
			out[e.Reason] = e.Message
		}
	}
	return out
}

func update(t *testing.T, cs kubernetes.Interface, name string, change func(*corev1.Service)) {
	t.Helper()
	s, err := cs.CoreV1().Services("default").Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	change(s)
	if _, err := cs.CoreV1().Services("default").Update(context.Background(), s, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// In localhost mode the controller writes ingress 127.0.0.1 with ipMode
// Proxy and the host-url annotation, forwards connections, records
// UDPNotForwarded and PortRemapped, and closes a Service's listeners (and
// removes its annotation) as soon as it stops being a LoadBalancer; a
// ClusterIP Service annotated devcluster.dev/forward is forwarded too.
func TestControllerLocalhostMode(t *testing.T) {
	t.Parallel()
	port, taken := int32(testutil.Port(t)), int32(testutil.Port(t))
	web := lbService("web", time.Now(), tcpPort("http", port), corev1.ServicePort{Name: "dns", Port: 5353, Protocol: corev1.ProtocolUDP})
	web.UID = ""
	sl := slice("web-abc", "http", 80, endpoint("web-1", boolp(true), nil))
	sl.Labels[discoveryv1.LabelServiceName] = "web"
	cs := fake.NewClientset(web, sl)
	pods := newPods(t, "web-1")
	ctx := runController(t, NewWithOptions(cs, Options{Address: AddressLocalhost, Assign: true, Tunnels: pods, Log: t.Logf}))
	got := waitFor(t, cs, "web", "ingress and host URL", func(s *corev1.Service) bool {
		return len(s.Status.LoadBalancer.Ingress) == 1 && len(HostURLs(s)) == 1
	})
	ing := got.Status.LoadBalancer.Ingress[0]
	if ing.IP != "127.0.0.1" || ing.IPMode == nil || *ing.IPMode != corev1.LoadBalancerIPModeProxy {
		t.Fatalf("ingress = %+v, want 127.0.0.1 with ipMode Proxy", ing)
	}
	url := "http://127.0.0.1:" + strconv.Itoa(int(port))
	if u := HostURLs(got); !slices.Equal(u, []string{url}) {
		t.Fatalf("host-url = %v, want [%s]", u, url)
	}
	if body := get(t, url); body != "web-1" {
		t.Fatalf("GET %s = %q", url, body)
	}
	if msg := eventReasons(t, cs, "web")["UDPNotForwarded"]; !strings.Contains(msg, "5353/UDP") {
		t.Fatalf("UDPNotForwarded event = %q", msg)
	}

	// A second Service on a port something else holds is moved, and says
	// by whom.
	hold, err := netListen(taken)
	if err != nil {
		t.Fatal(err)
	}
	defer hold.Close()
	other := lbService("other", time.Now(), tcpPort("http", taken))
	other.UID = ""
	if _, err := cs.CoreV1().Services("default").Create(ctx, other, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	got = waitFor(t, cs, "other", "a host URL", func(s *corev1.Service) bool { return len(HostURLs(s)) == 1 })
	if u := HostURLs(got)[0]; u == "http://127.0.0.1:"+strconv.Itoa(int(taken)) {
		t.Fatalf("host-url %s is the taken port", u)
	}
	if msg := eventReasons(t, cs, "other")["PortRemapped"]; !strings.Contains(msg, "is taken by PID "+strconv.Itoa(os.Getpid())) {
		t.Fatalf("PortRemapped event = %q, want it to name this process", msg)
	}

	// No longer a LoadBalancer: the port is free at once, the annotation
	// and the ingress go.
	update(t, cs, "web", func(s *corev1.Service) { s.Spec.Type = corev1.ServiceTypeClusterIP })
	waitFor(t, cs, "web", "the host URL removed", func(s *corev1.Service) bool {
		_, has := s.Annotations[HostURLAnnotation]
		return !has && len(s.Status.LoadBalancer.Ingress) == 0
	})
	if ln, err := netListen(port); err != nil {
		t.Fatalf("port %d still held: %v", port, err)
	} else {
		ln.Close()
	}
	// A ClusterIP Service asks for a forward.
	update(t, cs, "web", func(s *corev1.Service) {
		s.Annotations = map[string]string{ForwardAnnotation: "true"}
	})
	got = waitFor(t, cs, "web", "a forward of the ClusterIP Service", func(s *corev1.Service) bool { return len(HostURLs(s)) == 1 })
	if body := get(t, HostURLs(got)[0]); body != "web-1" {
		t.Fatalf("GET forwarded ClusterIP Service = %q", body)
	}
	update(t, cs, "web", func(s *corev1.Service) { delete(s.Annotations, ForwardAnnotation) })
	waitFor(t, cs, "web", "the forward closed", func(s *corev1.Service) bool { _, has := s.Annotations[HostURLAnnotation]; return !has })
}

// In node mode the annotation carries the node-IP URLs, and a user's own
// value of it is left alone once devcluster has nothing to say.
func TestControllerNodeModeHostURL(t *testing.T) {
	t.Parallel()
	web := lbService("web", time.Now(), tcpPort("http", 80), tcpPort("tls", 443), corev1.ServicePort{Name: "dns", Port: 53, Protocol: corev1.ProtocolUDP})
	web.UID = ""
	mine := lbService("mine", time.Now())
	mine.UID = ""
	mine.Spec.Type = corev1.ServiceTypeClusterIP
	mine.Annotations = map[string]string{HostURLAnnotation: "http://example.test:1"}
	cs := fake.NewClientset(web, mine)
	ctx := runController(t, New(cs, ip, t.Logf))
	got := waitFor(t, cs, "web", "node URLs", func(s *corev1.Service) bool { return len(HostURLs(s)) == 2 })
	if u := HostURLs(got); !slices.Equal(u, []string{"http://" + ip + ":80", "https://" + ip + ":443"}) {
		t.Fatalf("host-url = %v", u)
	}
	update(t, cs, "web", func(s *corev1.Service) { s.Spec.Type = corev1.ServiceTypeNodePort })
	waitFor(t, cs, "web", "the node URLs removed", func(s *corev1.Service) bool { _, has := s.Annotations[HostURLAnnotation]; return !has })
	if s, _ := cs.CoreV1().Services("default").Get(ctx, "mine", metav1.GetOptions{}); s.Annotations[HostURLAnnotation] != "http://example.test:1" {
		t.Fatalf("a host-url devcluster did not write was changed: %v", s.Annotations)
	}
}

func netListen(port int32) (net.Listener, error) {
	return net.Listen("tcp4", "127.0.0.1:"+strconv.Itoa(int(port)))
}
