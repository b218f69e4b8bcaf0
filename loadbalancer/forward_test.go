package loadbalancer

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/devcluster/devcluster/internal/testutil"
)

// pods are stand-in pods: an HTTP server per pod name that answers with
// the pod's name, and a Tunneler that connects to them as the API server's
// port-forward connects to a pod, recording each connection's pod.
type pods struct {
	mu      sync.Mutex
	addrs   map[string]string // pod -> address
	served  []string
	refused map[string]bool // pods whose tunnel cannot be opened
}

func newPods(t *testing.T, names ...string) *pods {
	t.Helper()
	p := &pods{addrs: map[string]string{}, refused: map[string]bool{}}
	for _, n := range names {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, n) }),
			ReadHeaderTimeout: 5 * time.Second}
		go srv.Serve(l)
		t.Cleanup(func() { srv.Close() })
		p.addrs[n] = l.Addr().String()
	}
	return p
}

func (p *pods) Forward(ctx context.Context, target PodTarget, local net.Conn) error {
	p.mu.Lock()
	addr, refused := p.addrs[target.Pod], p.refused[target.Pod]
	p.mu.Unlock()
	if refused || addr == "" {
		return fmt.Errorf("%w %s: refused", ErrNoTunnel, target.Pod)
	}
	remote, err := net.Dial("tcp", addr)
	if err != nil {
		return err
	}
	p.mu.Lock()
	p.served = append(p.served, target.Pod)
	p.mu.Unlock()
	done := make(chan struct{})
	go func() { io.Copy(remote, local); remote.(*net.TCPConn).CloseWrite(); close(done) }()
	io.Copy(local, remote)
	remote.Close()
	local.Close()
	<-done
	return nil
}

func boolp(b bool) *bool { return &b }

// endpoint is a pod endpoint of a slice.
func endpoint(pod string, ready, terminating *bool) discoveryv1.Endpoint {
	return discoveryv1.Endpoint{Addresses: []string{"10.0.0.1"},
		Conditions: discoveryv1.EndpointConditions{Ready: ready, Terminating: terminating},
		TargetRef:  &corev1.ObjectReference{Kind: "Pod", Name: pod, Namespace: "default", UID: types.UID("uid-" + pod)}}
}

func slice(name, portName string, port int32, eps ...discoveryv1.Endpoint) *discoveryv1.EndpointSlice {
	tcp := corev1.ProtocolTCP
	return &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Name: name, Namespace: "default", Labels: map[string]string{discoveryv1.LabelServiceName: "web"}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports:       []discoveryv1.EndpointPort{{Name: &portName, Port: &port, Protocol: &tcp}},
		Endpoints:   eps,
	}
}

func TestReadyTargets(t *testing.T) {
	t.Parallel()
	port := corev1.ServicePort{Name: "http", Port: 80, TargetPort: intstr.FromString("web")}
	slices := []*discoveryv1.EndpointSlice{
		slice("web-a", "http", 8080,
			endpoint("ready", boolp(true), boolp(false)),
			endpoint("unknown", nil, nil), // unknown readiness counts as ready
			endpoint("not-ready", boolp(false), nil),
			endpoint("terminating", boolp(true), boolp(true))),
		slice("web-b", "http", 8080, endpoint("second-slice", boolp(true), nil), endpoint("ready", boolp(true), nil)),
		slice("web-c", "metrics", 9090, endpoint("other-port", boolp(true), nil)),
	}
	noPod := endpoint("x", boolp(true), nil)
	noPod.TargetRef = nil
	slices[0].Endpoints = append(slices[0].Endpoints, noPod)
	var got []string
	for _, tg := range readyTargets(slices, port) {
		got = append(got, fmt.Sprintf("%s:%d", tg.Pod, tg.Port))
	}
	if want := []string{"ready:8080", "second-slice:8080", "unknown:8080"}; !slices2Equal(got, want) {
		t.Fatalf("targets = %v, want %v (ready or unknown, not terminating, backed by a pod, each once, the named port resolved by the slice)", got, want)
	}
	// A Service without a selector: slices without ports use the numeric
	// targetPort.
	bare := &discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Namespace: "default"}, Endpoints: []discoveryv1.Endpoint{endpoint("p", nil, nil)}}
	if tg := readyTargets([]*discoveryv1.EndpointSlice{bare}, corev1.ServicePort{Port: 80, TargetPort: intstr.FromInt32(8081)}); len(tg) != 1 || tg[0].Port != 8081 {
		t.Fatalf("bare slice targets = %+v", tg)
	}
}

func slices2Equal(a, b []string) bool { return slices.Equal(a, b) }

// lbService is a Service in namespace default.
func lbService(name string, created time.Time, ports ...corev1.ServicePort) *corev1.Service {
	return &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", CreationTimestamp: metav1.NewTime(created), UID: types.UID("uid-svc-" + name)},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, Ports: ports}}
}

func tcpPort(name string, port int32) corev1.ServicePort {
	return corev1.ServicePort{Name: name, Port: port, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromInt32(port)}
}

// fakeHost binds an ephemeral port for every port asked (so tests can ask
// for any number), refuses the taken ones as the kernel does, and records
// what was asked.
type fakeHost struct {
	mu    sync.Mutex
	taken map[int32]bool
	asked []int32
}

func (h *fakeHost) listen(port int32) (net.Listener, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.asked = append(h.asked, port)
	if h.taken[port] {
		return nil, &net.OpError{Op: "listen", Net: "tcp4", Err: os.NewSyscallError("bind", syscall.EADDRINUSE)}
	}
	return net.Listen("tcp4", "127.0.0.1:0")
}

func fakeForwarder(t *testing.T, h *fakeHost, below int32) *Forwarder {
	f := NewForwarder(newPods(t), func(string, string) []*discoveryv1.EndpointSlice { return nil }, t.Logf)
	f.listen = h.listen
	f.privileged = func() (int32, string) { return below, "the test's sysctl" }
	f.holder = func(port int32) string { return "PID 4242 (squatter)" }
	t.Cleanup(f.Close)
	return f
}

func hostPorts(fw *Forwarded) []int32 {
	var out []int32
	for _, p := range fw.Ports {
		out = append(out, p.Host)
	}
	return out
}

func TestForwarderPortRules(t *testing.T) {
	t.Parallel()
	now := time.Now()
	t.Run("taken", func(t *testing.T) {
		t.Parallel()
		h := &fakeHost{taken: map[int32]bool{9000: true, 9001: true}}
		f := fakeForwarder(t, h, 1024)
		res := f.Sync([]*corev1.Service{lbService("web", now, tcpPort("http", 9000))})["default/web"]
		if got := hostPorts(res); !slices.Equal(got, []int32{9002}) {
			t.Fatalf("host ports = %v, want [9002] (9000 and 9001 taken)", got)
		}
		if r := res.Ports[0].Remap; !strings.Contains(r, "127.0.0.1:9000 is taken by PID 4242 (squatter), so 127.0.0.1:9002") {
			t.Fatalf("remap = %q", r)
		}
	})
	t.Run("privileged", func(t *testing.T) {
		t.Parallel()
		h := &fakeHost{taken: map[int32]bool{}}
		f := fakeForwarder(t, h, 1024)
		res := f.Sync([]*corev1.Service{lbService("web", now, tcpPort("http", 80), tcpPort("https", 443), tcpPort("app", 3000))})["default/web"]
		if got := hostPorts(res); !slices.Equal(got, []int32{8080, 8443, 3000}) {
			t.Fatalf("host ports = %v, want [8080 8443 3000]", got)
		}
		if r := res.Ports[0].Remap; r != "port 80 needs privileges (the test's sysctl), so 127.0.0.1:8080" {
			t.Fatalf("remap = %q", r)
		}
		if res.Ports[2].Remap != "" {
			t.Fatalf("an unprivileged port kept as it is must report nothing: %q", res.Ports[2].Remap)
		}
		if got := res.URLs(); !slices.Equal(got, []string{"http://127.0.0.1:8080", "https://127.0.0.1:8443", "http://127.0.0.1:3000"}) {
			t.Fatalf("URLs = %v", got)
		}
		// Root (or ip_unprivileged_port_start=0) binds 80 itself.
		f2 := fakeForwarder(t, &fakeHost{}, 0)
		if got := hostPorts(f2.Sync([]*corev1.Service{lbService("web", now, tcpPort("http", 80))})["default/web"]); !slices.Equal(got, []int32{80}) {
			t.Fatalf("host ports without the privilege rule = %v", got)
		}
	})
	t.Run("collisions", func(t *testing.T) {
		t.Parallel()
		older := lbService("zeta", now.Add(-time.Hour), tcpPort("http", 9000))
		newer := lbService("alpha", now, tcpPort("http", 9000))
		tie := lbService("beta", now, tcpPort("http", 9000))
		for _, order := range [][]*corev1.Service{{older, newer, tie}, {tie, newer, older}, {newer, older, tie}} {
			f := fakeForwarder(t, &fakeHost{}, 1024)
			res := f.Sync(order)
			got := []int32{res["default/zeta"].Ports[0].Host, res["default/alpha"].Ports[0].Host, res["default/beta"].Ports[0].Host}
			if !slices.Equal(got, []int32{9000, 9001, 9002}) {
				t.Fatalf("zeta, alpha, beta got %v, want [9000 9001 9002] whatever the order given: the older Service first, then by name", got)
			}
			if r := res["default/alpha"].Ports[0].Remap; !strings.Contains(r, "127.0.0.1:9000 is forwarded for Service default/zeta") {
				t.Fatalf("remap = %q", r)
			}
		}
	})
	t.Run("stable across restarts", func(t *testing.T) {
		t.Parallel()
		a := lbService("a", now.Add(-time.Hour), tcpPort("http", 9000))
		b := lbService("b", now, tcpPort("http", 9000), tcpPort("admin", 9100))
		f := fakeForwarder(t, &fakeHost{}, 1024)
		res := f.Sync([]*corev1.Service{a, b})
		if got := hostPorts(res["default/b"]); !slices.Equal(got, []int32{9001, 9100}) {
			t.Fatalf("b = %v", got)
		}
		// What the controller writes, read back by the restarted agent.
		annotate := func(s *corev1.Service, fw *Forwarded) *corev1.Service {
			s = s.DeepCopy()
			s.Annotations = map[string]string{HostURLAnnotation: JoinHostURLs(fw.URLs())}
			return s
		}
		a2, b2 := annotate(a, res["default/a"]), annotate(b, res["default/b"])
		f.Close()
		// After the restart a Service older than both wants 9001, which b
		// recorded: b keeps it, and a keeps 9000 though it comes last.
		c := lbService("c", now.Add(-2*time.Hour), tcpPort("http", 9001))
		f2 := fakeForwarder(t, &fakeHost{}, 1024)
		res2 := f2.Sync([]*corev1.Service{b2, c, a2})
		if got := hostPorts(res2["default/b"]); !slices.Equal(got, []int32{9001, 9100}) {
			t.Fatalf("after a restart b = %v, want [9001 9100]", got)
		}
		if got := hostPorts(res2["default/a"]); !slices.Equal(got, []int32{9000}) {
			t.Fatalf("after a restart a = %v, want [9000]", got)
		}
		if got := res2["default/c"].Ports[0]; got.Host != 9002 || !strings.Contains(got.Remap, "127.0.0.1:9001 is recorded for Service default/b") {
			t.Fatalf("c = %+v, want 9002 with the reason", got)
		}
		if res2["default/b"].Ports[0].Remap != "" {
			t.Fatalf("a port kept from before is not reported again: %q", res2["default/b"].Ports[0].Remap)
		}
	})
	t.Run("udp", func(t *testing.T) {
		t.Parallel()
		f := fakeForwarder(t, &fakeHost{}, 1024)
		dns := corev1.ServicePort{Name: "dns", Port: 5353, Protocol: corev1.ProtocolUDP}
		res := f.Sync([]*corev1.Service{lbService("web", now, dns, tcpPort("http", 9000))})["default/web"]
		if len(res.UDP) != 1 || res.UDP[0].Port != 5353 || !slices.Equal(hostPorts(res), []int32{9000}) {
			t.Fatalf("forwarded = %+v", res)
		}
	})
	t.Run("none free", func(t *testing.T) {
		t.Parallel()
		taken := map[int32]bool{}
		for p := int32(9000); p <= 9000+remapSearch; p++ {
			taken[p] = true
		}
		f := fakeForwarder(t, &fakeHost{taken: taken}, 1024)
		res := f.Sync([]*corev1.Service{lbService("web", now, tcpPort("http", 9000))})["default/web"]
		if p := res.Ports[0]; p.Host != 0 || !strings.Contains(p.Error, "no free port among 127.0.0.1:9000-9100") || len(res.URLs()) != 0 {
			t.Fatalf("port = %+v", p)
		}
	})
}

// get fetches url and returns the body (the pod's name).
func get(t *testing.T, url string) string {
	t.Helper()
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func TestForwarderConnectionsAndLifecycle(t *testing.T) {
	t.Parallel()
	pods := newPods(t, "web-1", "web-2", "old")
	var mu sync.Mutex
	current := []*discoveryv1.EndpointSlice{
		slice("web-a", "http", 80, endpoint("web-1", boolp(true), nil), endpoint("old", boolp(true), boolp(true))),
		slice("web-b", "http", 80, endpoint("web-2", boolp(true), nil)),
	}
	f := NewForwarder(pods, func(ns, name string) []*discoveryv1.EndpointSlice {
		mu.Lock()
		defer mu.Unlock()
		return current
	}, t.Logf)
	t.Cleanup(f.Close)
	port := int32(testutil.Port(t))
	svc := lbService("web", time.Now(), tcpPort("http", port))
	res := f.Sync([]*corev1.Service{svc})["default/web"]
	if got := hostPorts(res); !slices.Equal(got, []int32{port}) {
		t.Fatalf("host ports = %v, want [%d]", got, port)
	}
	url := res.URLs()[0]
	seen := map[string]int{}
	for i := 0; i < 6; i++ {
		seen[get(t, url)]++
	}
	if seen["web-1"] != 3 || seen["web-2"] != 3 || seen["old"] != 0 {
		t.Fatalf("answers = %v, want web-1 and web-2 in turn and never the terminating pod", seen)
	}
	// web-1 goes away (deleted: terminating in its slice): every new
	// connection goes to web-2, with no action.
	mu.Lock()
	current = []*discoveryv1.EndpointSlice{
		slice("web-a", "http", 80, endpoint("web-1", boolp(false), boolp(true))),
		slice("web-b", "http", 80, endpoint("web-2", boolp(true), nil)),
	}
	mu.Unlock()
	for i := 0; i < 4; i++ {
		if got := get(t, url); got != "web-2" {
			t.Fatalf("after web-1 terminates, answer %d = %q", i, got)
		}
	}
	// A pod whose tunnel cannot be opened is skipped for the next one.
	mu.Lock()
	current = []*discoveryv1.EndpointSlice{slice("web-a", "http", 80, endpoint("web-1", boolp(true), nil), endpoint("web-2", boolp(true), nil))}
	mu.Unlock()
	pods.mu.Lock()
	pods.refused["web-1"] = true
	pods.mu.Unlock()
	for i := 0; i < 4; i++ {
		if got := get(t, url); got != "web-2" {
			t.Fatalf("with web-1 unreachable, answer %d = %q", i, got)
		}
	}
	// The Service goes: its port is free at once.
	f.Sync(nil)
	if l := f.Listening(); len(l) != 0 {
		t.Fatalf("still listening on %v", l)
	}
	ln, err := net.Listen("tcp4", "127.0.0.1:"+strconv.Itoa(int(port)))
	if err != nil {
		t.Fatalf("the port of a Service no longer forwarded is not free: %v", err)
	}
	ln.Close()
}

// dyingFirst is a Tunneler whose pod "dying" reads the client's first
// bytes and then refuses, as a pod shutting down before its endpoint is
// marked terminating does; the others are served by pods.
type dyingFirst struct {
	*pods
	mu   sync.Mutex
	read []string
}

func (d *dyingFirst) Forward(ctx context.Context, target PodTarget, local net.Conn) error {
	if target.Pod != "dying" {
		return d.pods.Forward(ctx, target, local)
	}
	buf := make([]byte, 4096)
	n, _ := local.Read(buf)
	d.mu.Lock()
	d.read = append(d.read, string(buf[:n]))
	d.mu.Unlock()
	return fmt.Errorf("%w: connection refused", ErrRefused)
}

// A connection a pod refuses before answering is replayed to the next
// pod: the client sees one answer, from the other pod, and the request
// reached both.
func TestForwarderReplaysARefusedConnection(t *testing.T) {
	t.Parallel()
	d := &dyingFirst{pods: newPods(t, "web-1")}
	f := NewForwarder(d, func(string, string) []*discoveryv1.EndpointSlice {
		return []*discoveryv1.EndpointSlice{slice("web-a", "http", 80, endpoint("dying", boolp(true), nil), endpoint("web-1", boolp(true), nil))}
	}, t.Logf)
	t.Cleanup(f.Close)
	res := f.Sync([]*corev1.Service{lbService("web", time.Now(), tcpPort("http", int32(testutil.Port(t))))})["default/web"]
	for i := 0; i < 4; i++ {
		if got := get(t, res.URLs()[0]); got != "web-1" {
			t.Fatalf("answer %d = %q, want web-1", i, got)
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.read) == 0 || !strings.HasPrefix(d.read[0], "GET / HTTP/1.1") {
		t.Fatalf("the refusing pod read %q", d.read)
	}
}

// Only a message saying the kubelet could not reach the pod's port makes
// a connection safe to send to another pod; an error after the pod read
// the request (a reset, a copy error) must not replay it.
func TestConnectFailedOnlyForRefusals(t *testing.T) {
	for msg, want := range map[string]bool{
		`an error occurred forwarding 8080 -> 8080: error forwarding port 8080 to pod 1f2e, uid : failed to execute portforward in network namespace "/var/run/netns/cni-1": failed to connect to localhost:8080 inside namespace "1f2e", IPv4: dial tcp4 127.0.0.1:8080: connect: connection refused IPv6 dial tcp6: address localhost: no suitable address`: true,
		"dial tcp 127.0.0.1:8080: connect: Connection refused":                                                                         true,
		"error copying from remote stream to local connection: readfrom tcp4 127.0.0.1:38512->127.0.0.1:8080: write tcp4: broken pipe": false,
		"read: connection reset by peer": false,
		"":                               false,
	} {
		if got := connectFailed(msg); got != want {
			t.Errorf("connectFailed(%q) = %v, want %v", msg, got, want)
		}
	}
}
