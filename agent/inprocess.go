package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"k8s.io/client-go/kubernetes"

	"github.com/devcluster/devcluster/loadbalancer"
)

// InProcess runs agents as goroutines of the calling process, serving the
// real registry: for tests that exercise `up` and `down` without spawning
// processes.
type InProcess struct {
	// Clients builds the LoadBalancer controller's client; required when
	// a spec enables it (tests pass a fake clientset).
	Clients ClientFactory
	// Tunnels carries forwarded connections; nil: a tunnel that reaches
	// no pod (listeners and host URLs still work).
	Tunnels TunnelFactory

	mu      sync.Mutex
	running map[string]*inproc
}

type inproc struct {
	spec   Spec
	cancel context.CancelFunc
	done   chan error
}

var _ Manager = (*InProcess)(nil)

// Ensure implements Manager.
func (m *InProcess) Ensure(ctx context.Context, s Spec) (*Status, error) {
	m.mu.Lock()
	if m.running == nil {
		m.running = map[string]*inproc{}
	}
	cur := m.running[s.StateDir]
	m.mu.Unlock()
	action := "started"
	if cur != nil {
		if cur.spec.DataDir == s.DataDir && sameSet(cur.spec.Listen, s.Listen) && cur.spec.LB == s.LB {
			r, _ := readRecord(s.StateDir)
			return &Status{Running: true, PID: r.PID, Listen: r.Listen, DataDir: s.DataDir, Action: "reused", LoadBalancerIP: s.LB.NodeIP, LoadBalancerAddress: s.LB.Address, Spec: s}, nil
		}
		if _, err := m.Stop(ctx, s.StateDir); err != nil {
			return nil, err
		}
		action = "replaced"
	}
	runCtx, cancel := context.WithCancel(context.Background())
	p := &inproc{spec: s, cancel: cancel, done: make(chan error, 1)}
	clients := m.Clients
	if clients == nil {
		clients = func(LBSpec) (kubernetes.Interface, error) {
			return nil, errors.New("InProcess agent: no Clients factory for the LoadBalancer controller")
		}
	}
	tunnels := m.Tunnels
	if tunnels == nil {
		tunnels = func(LBSpec) (loadbalancer.Tunneler, error) { return noTunnels{}, nil }
	}
	go func() { p.done <- RunWithTunnels(runCtx, s, io.Discard, "test", clients, tunnels) }()
	deadline := time.Now().Add(startTimeout)
	for {
		if r, err := readRecord(s.StateDir); err == nil {
			if _, ok := alive(ctx, s.StateDir, r); ok {
				m.mu.Lock()
				m.running[s.StateDir] = p
				m.mu.Unlock()
				return &Status{Running: true, PID: r.PID, Listen: r.Listen, DataDir: s.DataDir, Action: action, LoadBalancerIP: s.LB.NodeIP, LoadBalancerAddress: s.LB.Address, Spec: s}, nil
			}
		}
		select {
		case err := <-p.done:
			cancel()
			return nil, fmt.Errorf("the agent stopped during start-up: %w", err)
		case <-ctx.Done():
			cancel()
			return nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			cancel()
			return nil, errors.New("the in-process agent did not become healthy")
		}
	}
}

// noTunnels reaches no pod.
type noTunnels struct{}

func (noTunnels) Forward(_ context.Context, t loadbalancer.PodTarget, _ net.Conn) error {
	return fmt.Errorf("%w %s/%s: the in-process agent has no port-forward tunnels", loadbalancer.ErrNoTunnel, t.Namespace, t.Pod)
}

// Status implements Manager.
func (m *InProcess) Status(ctx context.Context, stateDir string) (*Status, error) {
	return (&Process{}).Status(ctx, stateDir)
}

// Stop implements Manager.
func (m *InProcess) Stop(_ context.Context, stateDir string) (bool, error) {
	m.mu.Lock()
	p := m.running[stateDir]
	delete(m.running, stateDir)
	m.mu.Unlock()
	if p == nil {
		return false, nil
	}
	p.cancel()
	<-p.done
	return true, nil
}

// StopAll stops every agent (test cleanup).
func (m *InProcess) StopAll() {
	m.mu.Lock()
	dirs := make([]string, 0, len(m.running))
	for d := range m.running {
		dirs = append(dirs, d)
	}
	m.mu.Unlock()
	for _, d := range dirs {
		_, _ = m.Stop(context.Background(), d)
	}
}
