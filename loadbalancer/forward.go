package loadbalancer

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
)

// remapSearch bounds the ports tried after a wanted one that is taken.
const remapSearch = 100

// Forwarder holds the loopback listeners of forwarded Services: one per
// TCP port, on 127.0.0.1 only. Each accepted connection goes to a ready,
// non-terminating endpoint of the Service, chosen when it arrives (round
// robin), through a Tunneler — so rollouts, restarts and scaling need no
// action.
type Forwarder struct {
	tunnels Tunneler
	// slices lists a Service's EndpointSlices (namespace, name).
	slices func(ns, name string) []*discoveryv1.EndpointSlice
	log    func(string, ...any)

	// Host specifics, replaced by tests.
	listen     func(port int32) (net.Listener, error)
	privileged func() (int32, string)
	holder     func(port int32) string

	mu        sync.Mutex
	listeners map[string]*listener // by listenerKey
}

// NewForwarder forwards through tunnels to the endpoints slices lists.
func NewForwarder(tunnels Tunneler, slices func(ns, name string) []*discoveryv1.EndpointSlice, log func(string, ...any)) *Forwarder {
	if log == nil {
		log = func(string, ...any) {}
	}
	return &Forwarder{
		tunnels: tunnels, slices: slices, log: log,
		listen: func(port int32) (net.Listener, error) {
			return net.Listen("tcp4", net.JoinHostPort(LoopbackIP, strconv.Itoa(int(port))))
		},
		privileged: privilegedBelow,
		holder:     portHolder,
		listeners:  map[string]*listener{},
	}
}

// listener is one Service port's loopback listener.
type listener struct {
	key      string
	svcKey   string
	ns, name string
	port     corev1.ServicePort
	hostPort int32
	ln       net.Listener
	next     atomic.Uint64 // round robin over the ready endpoints
	mu       sync.Mutex
	conns    map[net.Conn]struct{}
	closed   bool
	done     chan struct{}
}

// HostPort is one forwarded Service port and where the host reaches it.
type HostPort struct {
	Port corev1.ServicePort
	// Host is the loopback port (0: none could be bound; Error says why).
	Host int32
	// Remap says why Host is not the Service's port, when it is not and
	// this sync chose it (a port kept from before says nothing).
	Remap string
	Error string
}

// Forwarded is what Sync made of one Service.
type Forwarded struct {
	// Ports are the TCP ports, in spec.ports order.
	Ports []HostPort
	// UDP are the ports that cannot be port-forwarded (UDP, SCTP).
	UDP []corev1.ServicePort
}

// URLs are the host URLs of the ports that have a listener.
func (f *Forwarded) URLs() []string {
	var out []string
	for _, p := range f.Ports {
		if p.Host > 0 {
			out = append(out, HostURL(p.Port, LoopbackIP, p.Host))
		}
	}
	return out
}

func listenerKey(svcKey string, p corev1.ServicePort) string {
	return svcKey + "/" + p.Name + "/" + strconv.Itoa(int(p.Port))
}

// recordedPorts reads the loopback ports the Service's host-url annotation
// records for its TCP ports (by position), so a restarted agent binds the
// same ones.
func recordedPorts(svc *corev1.Service) []int32 {
	urls := HostURLs(svc)
	var out []int32
	for _, u := range urls {
		host, port, _ := ParseHostURL(u)
		if host != LoopbackIP {
			return nil
		}
		out = append(out, port)
	}
	n := 0
	for _, p := range svc.Spec.Ports {
		if IsTCP(p) {
			n++
		}
	}
	if len(out) != n {
		return nil
	}
	return out
}

// Sync makes the listeners exactly those of svcs: listeners of ports no
// longer wanted are closed first (their ports are free at once, for this
// sync too), kept ones are never moved, and new ones are bound in a
// deterministic order — the ports recorded on the Services first, then the
// older Service (creation time, then namespace/name) before the newer.
// A port is the Service's own unless it needs privileges the agent lacks
// (then 8000+port) or is taken (then the next free one of port+1 …
// port+100, skipping ports recorded for other Services).
func (f *Forwarder) Sync(svcs []*corev1.Service) map[string]*Forwarded {
	sorted := append([]*corev1.Service(nil), svcs...)
	sort.SliceStable(sorted, func(i, j int) bool {
		a, b := sorted[i], sorted[j]
		if !a.CreationTimestamp.Equal(&b.CreationTimestamp) {
			return a.CreationTimestamp.Before(&b.CreationTimestamp)
		}
		return a.Namespace+"/"+a.Name < b.Namespace+"/"+b.Name
	})
	want := map[string]bool{}
	claims := map[int32]string{} // recorded loopback port -> listener key
	for _, svc := range sorted {
		key := svc.Namespace + "/" + svc.Name
		rec := recordedPorts(svc)
		i := 0
		for _, p := range svc.Spec.Ports {
			if !IsTCP(p) {
				continue
			}
			lk := listenerKey(key, p)
			want[lk] = true
			if rec != nil {
				if _, dup := claims[rec[i]]; !dup {
					claims[rec[i]] = lk
				}
			}
			i++
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for k, l := range f.listeners {
		if !want[k] {
			l.close()
			delete(f.listeners, k)
			f.log("forward %s port %d: closed 127.0.0.1:%d", l.svcKey, l.port.Port, l.hostPort)
		}
	}
	held := map[int32]string{}
	for k, l := range f.listeners {
		held[l.hostPort] = k
	}
	below, why := f.privileged()
	out := map[string]*Forwarded{}
	for _, svc := range sorted {
		key := svc.Namespace + "/" + svc.Name
		fw := &Forwarded{}
		rec := recordedPorts(svc)
		i := 0
		for _, p := range svc.Spec.Ports {
			if !IsTCP(p) {
				fw.UDP = append(fw.UDP, p)
				continue
			}
			lk := listenerKey(key, p)
			recorded := int32(0)
			if rec != nil {
				recorded = rec[i]
			}
			i++
			if l := f.listeners[lk]; l != nil {
				l.mu.Lock()
				l.port = p
				l.mu.Unlock()
				fw.Ports = append(fw.Ports, HostPort{Port: p, Host: l.hostPort})
				continue
			}
			hp := f.bind(svc, p, lk, recorded, below, why, held, claims)
			fw.Ports = append(fw.Ports, hp)
		}
		out[key] = fw
	}
	return out
}

// bind finds and binds the host port of one Service port.
func (f *Forwarder) bind(svc *corev1.Service, p corev1.ServicePort, lk string, recorded, below int32, why string, held map[int32]string, claims map[int32]string) HostPort {
	key := svc.Namespace + "/" + svc.Name
	free := func(port int32) bool {
		if _, ok := held[port]; ok {
			return false
		}
		c, ok := claims[port]
		return !ok || c == lk
	}
	wanted, reason := p.Port, ""
	if below > 0 && p.Port < below {
		wanted = 8000 + p.Port
		reason = fmt.Sprintf("port %d needs privileges (%s), so 127.0.0.1:%d", p.Port, why, wanted)
	}
	var candidates []int32
	if recorded > 0 && free(recorded) {
		candidates = append(candidates, recorded)
	}
	for n := int32(0); n <= remapSearch && wanted+n <= 65535; n++ {
		candidates = append(candidates, wanted+n)
	}
	var firstTaken string
	for _, port := range candidates {
		if (below > 0 && port < below) || !free(port) {
			if port == wanted && firstTaken == "" {
				if k, ok := held[port]; ok {
					firstTaken = fmt.Sprintf("127.0.0.1:%d is forwarded for Service %s", port, f.listeners[k].svcKey)
				} else if c, ok := claims[port]; ok {
					firstTaken = fmt.Sprintf("127.0.0.1:%d is recorded for %s", port, serviceOfListenerKey(c))
				}
			}
			continue
		}
		ln, err := f.listen(port)
		if errors.Is(err, syscall.EACCES) && port < 1024 && below == 0 {
			// Refused although the sysctl said otherwise (a sandbox):
			// the privileged rule applies.
			below, why = 1024, "binding it was refused"
			return f.bind(svc, p, lk, recorded, below, why, held, claims)
		}
		if err != nil {
			if port == wanted && firstTaken == "" {
				firstTaken = fmt.Sprintf("127.0.0.1:%d is taken", port)
				if h := f.holder(port); h != "" {
					firstTaken += " by " + h
				}
			}
			continue
		}
		l := &listener{key: lk, svcKey: key, ns: svc.Namespace, name: svc.Name, port: p, hostPort: port, ln: ln,
			conns: map[net.Conn]struct{}{}, done: make(chan struct{})}
		f.listeners[lk] = l
		held[port] = lk
		go f.serve(l)
		hp := HostPort{Port: p, Host: port}
		switch {
		case port == recorded && recorded != p.Port:
			// Kept from before: the URL stays; its reason was reported then.
		case port != p.Port:
			r := reason
			if port != wanted {
				if r != "" {
					r += ", "
				}
				r += fmt.Sprintf("%s, so 127.0.0.1:%d", firstTaken, port)
			}
			hp.Remap = r
		}
		f.log("forward %s port %d: listening on 127.0.0.1:%d", key, p.Port, port)
		return hp
	}
	msg := fmt.Sprintf("no free port among 127.0.0.1:%d-%d", wanted, min(wanted+remapSearch, 65535))
	if firstTaken != "" {
		msg = firstTaken + "; " + msg
	}
	return HostPort{Port: p, Error: msg}
}

func serviceOfListenerKey(lk string) string {
	// namespace/name/portname/port
	n := 0
	for i := len(lk) - 1; i >= 0; i-- {
		if lk[i] == '/' {
			n++
			if n == 2 {
				return "Service " + lk[:i]
			}
		}
	}
	return lk
}

// Close closes every listener and the connections they accepted.
func (f *Forwarder) Close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for k, l := range f.listeners {
		l.close()
		delete(f.listeners, k)
	}
}

// Listening lists the loopback ports held (tests).
func (f *Forwarder) Listening() []int32 {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []int32
	for _, l := range f.listeners {
		out = append(out, l.hostPort)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

func (l *listener) close() {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return
	}
	l.closed = true
	_ = l.ln.Close()
	for c := range l.conns {
		_ = c.Close()
	}
	l.mu.Unlock()
	<-l.done
}

func (f *Forwarder) serve(l *listener) {
	defer close(l.done)
	for {
		c, err := l.ln.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return
		}
		l.mu.Lock()
		if l.closed {
			l.mu.Unlock()
			_ = c.Close()
			return
		}
		l.conns[c] = struct{}{}
		l.mu.Unlock()
		go func() {
			defer func() {
				l.mu.Lock()
				delete(l.conns, c)
				l.mu.Unlock()
				_ = c.Close()
			}()
			f.handle(l, c)
		}()
	}
}

// maxTries bounds the endpoints one connection tries when pods cannot be
// reached.
const maxTries = 3

// handle forwards one accepted connection to a ready endpoint; when a pod
// cannot be reached at all, the next one is tried.
func (f *Forwarder) handle(l *listener, c net.Conn) {
	l.mu.Lock()
	port := l.port
	l.mu.Unlock()
	targets := readyTargets(f.slices(l.ns, l.name), port)
	if len(targets) == 0 {
		f.log("forward %s port %d: no ready endpoint; connection closed", l.svcKey, port.Port)
		return
	}
	start := l.next.Add(1) - 1
	for i := 0; i < min(len(targets), maxTries); i++ {
		t := targets[(start+uint64(i))%uint64(len(targets))]
		err := f.tunnels.Forward(context.Background(), t, c)
		if err == nil {
			return
		}
		f.log("forward %s port %d: %v", l.svcKey, port.Port, err)
		if !errors.Is(err, ErrNoTunnel) {
			return
		}
	}
}
