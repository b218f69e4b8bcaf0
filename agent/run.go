package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"k8s.io/client-go/kubernetes"

	"github.com/devcluster/devcluster/kube"
	"github.com/devcluster/devcluster/loadbalancer"
	"github.com/devcluster/devcluster/registry"
)

// Run is the agent process itself: it serves the registry on every listen
// address, records itself in the state directory once it is listening, and
// runs until ctx is cancelled (SIGTERM), then removes its record.
//
// clients builds the LoadBalancer controller's client (nil: from
// kubeconfig).
func Run(ctx context.Context, s Spec, log io.Writer, version string, clients ClientFactory) error {
	return RunWithTunnels(ctx, s, log, version, clients, nil)
}

// RunWithTunnels is Run with the controller's port-forward tunnels built
// by tunnels (nil: from kubeconfig).
func RunWithTunnels(ctx context.Context, s Spec, log io.Writer, version string, clients ClientFactory, tunnels TunnelFactory) error {
	if clients == nil {
		clients = KubeconfigClients
	}
	if tunnels == nil {
		tunnels = KubeconfigTunnels
	}
	if err := os.MkdirAll(s.StateDir, 0o700); err != nil {
		return err
	}
	mirrors, err := s.Mirrors.options(s.StateDir)
	if err != nil {
		return err
	}
	srv, err := registry.New(ctx, registry.Options{
		Mirrors: mirrors,
		DataDir: s.DataDir, Listen: s.Listen, Log: log, Verbose: s.Verbose,
		Identity: map[string]string{"cluster": s.Name, "stateDir": s.StateDir, "version": version},
		Holder:   fmt.Sprintf("the devcluster agent of cluster %q", s.Name),
		// A `registry gc` holds the directory for a moment: wait for it.
		LockWait: 10 * time.Second,
	})
	if err != nil {
		return err
	}
	rec := record{PID: os.Getpid(), Name: s.Name, Verbose: s.Verbose, Listen: srv.Addrs(), SpecListen: s.Listen, DataDir: s.DataDir, LB: s.LB, Mirrors: s.Mirrors, StartedAt: time.Now()}
	b, _ := json.MarshalIndent(rec, "", "  ")
	tmp := filepath.Join(s.StateDir, recordFile+".tmp")
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(s.StateDir, recordFile)); err != nil {
		return err
	}
	fmt.Fprintf(log, "%s agent for cluster %q: listening on %v, registry data in %q (pid %d)\n",
		time.Now().Format(time.RFC3339), s.Name, srv.Addrs(), s.DataDir, os.Getpid())
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var lbDone chan error
	if s.LB.runs() {
		client, err := clients(s.LB)
		if err != nil {
			return fmt.Errorf("LoadBalancer controller: %w", err)
		}
		t, err := tunnels(s.LB)
		if err != nil {
			return fmt.Errorf("LoadBalancer controller: port-forward tunnels: %w", err)
		}
		if closer, ok := t.(interface{ Close() }); ok {
			defer closer.Close()
		}
		logger := func(f string, a ...any) { fmt.Fprintf(log, time.Now().Format(time.RFC3339)+" "+f+"\n", a...) }
		mode := loadbalancer.Address(s.LB.Address)
		c := loadbalancer.NewWithOptions(client, loadbalancer.Options{IP: s.LB.NodeIP, Address: mode,
			Assign: s.LB.Address != AddressForward, Tunnels: t, Log: logger,
			OnForwards: func(urls map[string][]string) {
				if err := writeForwards(s.StateDir, urls); err != nil {
					logger("recording the forwards: %v", err)
				}
			}})
		lbDone = make(chan error, 1)
		go func() { lbDone <- c.Run(ctx, 2) }()
	}
	err = srv.Serve(ctx)
	cancel()
	if lbDone != nil {
		if lerr := <-lbDone; lerr != nil && err == nil && ctx.Err() == nil {
			err = lerr
		}
	}
	// Remove the record only if it is still ours (a replacement may have
	// written its own).
	if r, rerr := readRecord(s.StateDir); rerr == nil && r.PID == os.Getpid() {
		_ = os.Remove(filepath.Join(s.StateDir, recordFile))
	}
	if f, ferr := ReadForwards(s.StateDir); ferr == nil && f.PID == os.Getpid() {
		_ = os.Remove(filepath.Join(s.StateDir, forwardsFile))
	}
	fmt.Fprintf(log, "%s agent stopped\n", time.Now().Format(time.RFC3339))
	return err
}

// ClientFactory builds a Kubernetes client for the LoadBalancer controller.
type ClientFactory func(LBSpec) (kubernetes.Interface, error)

// TunnelFactory builds the port-forward tunnels of the controller.
type TunnelFactory func(LBSpec) (loadbalancer.Tunneler, error)

// KubeconfigTunnels forwards through the API server of the kubeconfig
// context.
func KubeconfigTunnels(lb LBSpec) (loadbalancer.Tunneler, error) {
	c, err := kube.KubeconfigLoader(lb.Kubeconfig)(lb.Context)
	if err != nil {
		return nil, err
	}
	return loadbalancer.NewTunnels(c.Config)
}

// KubeconfigClients builds the client from the kubeconfig context.
func KubeconfigClients(lb LBSpec) (kubernetes.Interface, error) {
	c, err := kube.KubeconfigLoader(lb.Kubeconfig)(lb.Context)
	if err != nil {
		return nil, err
	}
	return c.Kube, nil
}

// forwardsFile records the agent's bound forwards.
const forwardsFile = "forwards.json"

// Forwards are the loopback forwards an agent process holds, by Service
// (namespace/name): what `up` waits for, since the host-url annotation
// outlives the agent that wrote it (it keeps the ports across restarts).
type Forwards struct {
	PID      int                 `json:"pid"`
	Services map[string][]string `json:"services"`
}

func writeForwards(stateDir string, urls map[string][]string) error {
	b, _ := json.MarshalIndent(Forwards{PID: os.Getpid(), Services: urls}, "", "  ")
	tmp := filepath.Join(stateDir, forwardsFile+".tmp")
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(stateDir, forwardsFile))
}

// ReadForwards reads what the agent of stateDir last recorded.
func ReadForwards(stateDir string) (*Forwards, error) {
	b, err := os.ReadFile(filepath.Join(stateDir, forwardsFile))
	if err != nil {
		return nil, err
	}
	var f Forwards
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, err
	}
	return &f, nil
}
