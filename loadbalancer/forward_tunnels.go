package loadbalancer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/portforward"
	"k8s.io/client-go/transport/spdy"
	"k8s.io/streaming/pkg/httpstream"

	"github.com/devcluster/devcluster/internal/ui"
)

// Tunneler carries one accepted connection to a pod port and back.
type Tunneler interface {
	// Forward copies between local and target's port until either side
	// ends. An error wrapping ErrNoTunnel means nothing reached the pod
	// (the caller may try another one).
	Forward(ctx context.Context, target PodTarget, local net.Conn) error
}

// ErrNoTunnel: the pod could not be reached at all.
var ErrNoTunnel = errors.New("no port-forward connection to the pod")

// ErrRefused: the pod's port refused the connection (the kubelet said so
// on the error stream) and nothing came back from it — a pod shutting down
// before its endpoint is marked terminating. The client's bytes can be
// replayed to another pod.
var ErrRefused = errors.New("the pod refused the connection before answering")

// interrupter is a local connection that can be stopped being read from
// without closing it (a retry may still use it).
type interrupter interface{ Interrupt() }

const (
	// tunnelDialTimeout bounds opening a pod's port-forward connection.
	tunnelDialTimeout = 10 * time.Second
	// tunnelIdle is how long a pod's connection with no stream is kept.
	tunnelIdle = 2 * time.Minute
)

// Tunnels forwards through the API server's pods/portforward: one
// multiplexed connection per pod (WebSocket where the server offers it,
// else SPDY, as kubectl port-forward dials), kept and reused, with a fresh
// pair of streams (error and data) per TCP connection. A connection that
// dies is dropped and the next TCP connection dials again; one that carried
// no stream for tunnelIdle is closed.
type Tunnels struct {
	// dial opens a pod's connection (tests replace it).
	dial func(ns, pod string) (httpstream.Connection, error)

	mu    sync.Mutex
	conns map[string]*tunnel
	reqID atomic.Int64
	stop  chan struct{}
	once  sync.Once
}

type tunnel struct {
	ready  chan struct{} // closed once conn or err is set
	conn   httpstream.Connection
	err    error
	active atomic.Int32
	last   atomic.Int64 // unix nanoseconds of the last stream's end
}

// NewTunnels forwards through the API server of cfg.
func NewTunnels(cfg *rest.Config) (*Tunnels, error) {
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	transport, upgrader, err := spdy.RoundTripperFor(cfg)
	if err != nil {
		return nil, err
	}
	t := newTunnels(func(ns, pod string) (httpstream.Connection, error) {
		u := client.CoreV1().RESTClient().Post().Resource("pods").Namespace(ns).Name(pod).SubResource("portforward").URL()
		spdyDialer := spdy.NewDialerForStreaming(upgrader, &http.Client{Transport: transport}, http.MethodPost, u)
		var dialer httpstream.Dialer = spdyDialer
		if ws, err := portforward.NewSPDYOverWebsocketDialerForStreaming(u, cfg); err == nil {
			dialer = portforward.NewFallbackDialerForStreaming(ws, spdyDialer, func(err error) bool {
				return httpstream.IsUpgradeFailure(err) || httpstream.IsHTTPSProxyError(err)
			})
		}
		conn, _, err := dialer.Dial(portforward.PortForwardProtocolV1Name)
		return conn, err
	})
	return t, nil
}

func newTunnels(dial func(ns, pod string) (httpstream.Connection, error)) *Tunnels {
	t := &Tunnels{dial: dial, conns: map[string]*tunnel{}, stop: make(chan struct{})}
	go t.reap()
	return t
}

// Close closes every pod connection.
func (t *Tunnels) Close() {
	t.once.Do(func() { close(t.stop) })
	t.mu.Lock()
	conns := t.conns
	t.conns = map[string]*tunnel{}
	t.mu.Unlock()
	for _, c := range conns {
		select {
		case <-c.ready:
			if c.conn != nil {
				_ = c.conn.Close()
			}
		default:
		}
	}
}

// Open reports how many pod connections are open (for tests and status).
func (t *Tunnels) Open() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.conns)
}

func (t *Tunnels) reap() {
	tick := time.NewTicker(tunnelIdle / 4)
	defer tick.Stop()
	for {
		select {
		case <-t.stop:
			return
		case <-tick.C:
		}
		cutoff := time.Now().Add(-tunnelIdle).UnixNano()
		t.mu.Lock()
		for k, c := range t.conns {
			select {
			case <-c.ready:
			default:
				continue
			}
			if c.conn != nil && c.active.Load() == 0 && c.last.Load() < cutoff {
				_ = c.conn.Close()
				delete(t.conns, k)
			}
		}
		t.mu.Unlock()
	}
}

// get returns the pod's connection, dialling it once for every caller that
// asks meanwhile; fresh forces a new one (the old one failed).
func (t *Tunnels) get(ctx context.Context, target PodTarget, stale *tunnel) (*tunnel, error) {
	key := target.Key()
	t.mu.Lock()
	c := t.conns[key]
	if c != nil && c == stale {
		delete(t.conns, key)
		c = nil
	}
	if c == nil {
		c = &tunnel{ready: make(chan struct{})}
		c.last.Store(time.Now().UnixNano())
		t.conns[key] = c
		go t.open(key, c, target)
	}
	t.mu.Unlock()
	select {
	case <-c.ready:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if c.err != nil {
		return nil, c.err
	}
	select {
	case <-c.conn.CloseChan():
		// Died since: drop it and dial again, once.
		if stale == nil {
			return t.get(ctx, target, c)
		}
		return nil, fmt.Errorf("%w %s/%s: the connection closed at once", ErrNoTunnel, target.Namespace, target.Pod)
	default:
	}
	return c, nil
}

// open dials within tunnelDialTimeout (the dialers take no context); a
// connection that arrives later is closed.
func (t *Tunnels) open(key string, c *tunnel, target PodTarget) {
	type res struct {
		conn httpstream.Connection
		err  error
	}
	done := make(chan res, 1)
	go func() {
		conn, err := t.dial(target.Namespace, target.Pod)
		done <- res{conn, err}
	}()
	select {
	case r := <-done:
		c.conn, c.err = r.conn, r.err
	case <-time.After(tunnelDialTimeout):
		c.err = fmt.Errorf("no answer within %s", tunnelDialTimeout)
		go func() {
			if r := <-done; r.conn != nil {
				_ = r.conn.Close()
			}
		}()
	}
	if c.err != nil {
		c.err = fmt.Errorf("%w %s/%s: %v", ErrNoTunnel, target.Namespace, target.Pod, c.err)
	}
	close(c.ready)
	if c.err != nil {
		t.mu.Lock()
		if t.conns[key] == c {
			delete(t.conns, key)
		}
		t.mu.Unlock()
		return
	}
	go func() {
		select {
		case <-c.conn.CloseChan():
		case <-t.stop:
			return
		}
		t.mu.Lock()
		if t.conns[key] == c {
			delete(t.conns, key)
		}
		t.mu.Unlock()
	}()
}

// Forward implements Tunneler: an error stream and a data stream on the
// pod's connection, as kubectl port-forward opens them, but an error on one
// TCP connection (the pod refused it) ends only that connection.
func (t *Tunnels) Forward(ctx context.Context, target PodTarget, local net.Conn) error {
	var stale *tunnel
	for attempt := 0; ; attempt++ {
		c, err := t.get(ctx, target, stale)
		if err != nil {
			return err
		}
		err = t.streams(c, target, local)
		if errors.Is(err, ErrNoTunnel) && attempt == 0 {
			// The connection broke: drop it and dial a fresh one.
			_ = c.conn.Close()
			stale = c
			continue
		}
		return err
	}
}

func (t *Tunnels) streams(c *tunnel, target PodTarget, local net.Conn) error {
	c.active.Add(1)
	defer func() {
		c.last.Store(time.Now().UnixNano())
		c.active.Add(-1)
	}()
	headers := http.Header{}
	headers.Set(corev1.PortHeader, strconv.Itoa(int(target.Port)))
	headers.Set(corev1.PortForwardRequestIDHeader, strconv.FormatInt(t.reqID.Add(1), 10))
	errHeaders, dataHeaders := headers.Clone(), headers
	errHeaders.Set(corev1.StreamType, corev1.StreamTypeError)
	dataHeaders.Set(corev1.StreamType, corev1.StreamTypeData)
	// Both streams at once: each waits for the kubelet's reply, which
	// pairs them by request ID in whatever order they come (kubectl opens
	// them one after the other, a round trip more per connection).
	type created struct {
		s   httpstream.Stream
		err error
	}
	errCreated := make(chan created, 1)
	go func() {
		s, err := c.conn.CreateStream(errHeaders)
		errCreated <- created{s, err}
	}()
	data, dataErr := c.conn.CreateStream(dataHeaders)
	ec := <-errCreated
	if ec.err != nil || dataErr != nil {
		for _, s := range []httpstream.Stream{ec.s, data} {
			if s != nil {
				_ = s.Reset()
				c.conn.RemoveStreams(s)
			}
		}
		return fmt.Errorf("%w %s/%s: creating the streams: %v", ErrNoTunnel, target.Namespace, target.Pod, errors.Join(ec.err, dataErr))
	}
	errStream := ec.s
	// Nothing is written to the error stream.
	_ = errStream.Close()
	defer c.conn.RemoveStreams(errStream)
	defer c.conn.RemoveStreams(data)
	type streamErr struct {
		err error
		// refused: the kubelet could not connect to the pod's port, so
		// the pod read nothing and the connection may go to another.
		refused bool
	}
	errc := make(chan streamErr, 1)
	go func() {
		msg, err := io.ReadAll(io.LimitReader(errStream, 64<<10))
		switch {
		case err != nil:
			errc <- streamErr{err: fmt.Errorf("reading the error stream of %s/%s: %w", target.Namespace, target.Pod, err)}
		case len(msg) > 0:
			errc <- streamErr{err: fmt.Errorf("forwarding to %s/%s port %d: %s", target.Namespace, target.Pod, target.Port, ui.Clean(string(msg))),
				refused: connectFailed(string(msg))}
		default:
			errc <- streamErr{}
		}
	}()
	remoteDone, localDone := make(chan struct{}), make(chan struct{})
	var answered int64
	go func() {
		answered, _ = copyBuffered(local, data)
		close(remoteDone)
	}()
	go func() {
		_, _ = copyBuffered(data, local)
		// Tell the pod nothing more comes; its answer may still.
		_ = data.Close()
		close(localDone)
	}()
	select {
	case <-remoteDone:
	case <-c.conn.CloseChan():
	}
	// Unblocks the error stream's reader, as kubectl does.
	_ = data.Reset()
	if i, ok := local.(interrupter); ok {
		i.Interrupt()
	} else {
		_ = local.Close()
	}
	var se streamErr
	select {
	case se = <-errc:
	case <-time.After(5 * time.Second):
	}
	<-localDone
	// The data stream is reset: its copy ends, and answered is final.
	<-remoteDone
	if se.err != nil && se.refused && answered == 0 {
		return fmt.Errorf("%w: %v", ErrRefused, se.err)
	}
	return se.err
}

// connectFailed reports whether the kubelet's error-stream message says it
// could not connect to the pod's port (nothing reached the pod), as the
// container runtimes word it: "failed to connect to localhost:8080 inside
// namespace …", "connect: connection refused". Any other error may come
// after the pod read the request, which must then not be sent again.
func connectFailed(msg string) bool {
	m := strings.ToLower(msg)
	return strings.Contains(m, "failed to connect to") || strings.Contains(m, "connection refused")
}

// copyBufSize is the copy buffer of a forwarded connection: larger than
// io.Copy's 32 KiB, so a download takes fewer stream frames.
const copyBufSize = 256 << 10

var copyBufs = sync.Pool{New: func() any { b := make([]byte, copyBufSize); return &b }}

func copyBuffered(dst io.Writer, src io.Reader) (int64, error) {
	b := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(b)
	return io.CopyBuffer(dst, src, *b)
}
