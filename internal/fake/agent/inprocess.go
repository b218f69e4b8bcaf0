// Package agent is a stand-in for devcluster's agent manager: agents run
// as goroutines of the test process, serving the real registry and
// LoadBalancer controller (agent.RunWithTunnels), so tests exercise `up`,
// `down` and `registry gc` without spawning processes. Only tests import
// it.
package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"sync"
	"time"

	"k8s.io/client-go/kubernetes"

	"github.com/devcluster/devcluster/agent"
	"github.com/devcluster/devcluster/loadbalancer"
)

// startTimeout bounds how long Ensure waits for a started agent to answer
// its health check.
const startTimeout = 15 * time.Second

// InProcess runs agents as goroutines of the calling process.
type InProcess struct {
	// Clients builds the LoadBalancer controller's client; required when
	// a spec enables it (tests pass a fake clientset).
	Clients agent.ClientFactory
	// Tunnels carries forwarded connections; nil: a tunnel that reaches
	// no pod (listeners and host URLs still work).
	Tunnels agent.TunnelFactory

	mu      sync.Mutex
	running map[string]*inproc
}

type inproc struct {
	spec   agent.Spec
	cancel context.CancelFunc
	done   chan error
}

var _ agent.Manager = (*InProcess)(nil)

// Ensure implements agent.Manager: an agent already running with the same
// data directory, addresses and LoadBalancer settings is reused, one with
// others is replaced.
func (m *InProcess) Ensure(ctx context.Context, s agent.Spec) (*agent.Status, error) {
	m.mu.Lock()
	if m.running == nil {
		m.running = map[string]*inproc{}
	}
	cur := m.running[s.StateDir]
	m.mu.Unlock()
	action := "started"
	if cur != nil {
		if cur.spec.DataDir == s.DataDir && sameSet(cur.spec.Listen, s.Listen) && cur.spec.LB == s.LB {
			if st, ok := healthy(ctx, s.StateDir); ok {
				return status(st, s, "reused"), nil
			}
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
		clients = func(agent.LBSpec) (kubernetes.Interface, error) {
			return nil, errors.New("InProcess agent: no Clients factory for the LoadBalancer controller")
		}
	}
	tunnels := m.Tunnels
	if tunnels == nil {
		tunnels = func(agent.LBSpec) (loadbalancer.Tunneler, error) { return noTunnels{}, nil }
	}
	go func() { p.done <- agent.RunWithTunnels(runCtx, s, io.Discard, "test", clients, tunnels) }()
	deadline := time.Now().Add(startTimeout)
	for {
		if st, ok := healthy(ctx, s.StateDir); ok {
			m.mu.Lock()
			m.running[s.StateDir] = p
			m.mu.Unlock()
			return status(st, s, action), nil
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

// healthy reads the agent of stateDir as the product does (its record and
// its health check).
func healthy(ctx context.Context, stateDir string) (*agent.Status, bool) {
	st, err := (&agent.Process{}).Status(ctx, stateDir)
	return st, err == nil && st.Running
}

func status(st *agent.Status, s agent.Spec, action string) *agent.Status {
	return &agent.Status{Running: true, PID: st.PID, Listen: st.Listen, DataDir: s.DataDir, Action: action,
		LoadBalancerIP: s.LB.NodeIP, LoadBalancerAddress: s.LB.Address, Spec: s}
}

func sameSet(a, b []string) bool {
	x, y := slices.Clone(a), slices.Clone(b)
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(x, y)
}

// noTunnels reaches no pod.
type noTunnels struct{}

func (noTunnels) Forward(_ context.Context, t loadbalancer.PodTarget, _ net.Conn) error {
	return fmt.Errorf("%w %s/%s: the in-process agent has no port-forward tunnels", loadbalancer.ErrNoTunnel, t.Namespace, t.Pod)
}

// Status implements agent.Manager, as the product reads an agent.
func (m *InProcess) Status(ctx context.Context, stateDir string) (*agent.Status, error) {
	return (&agent.Process{}).Status(ctx, stateDir)
}

// Stop implements agent.Manager.
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
