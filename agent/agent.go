// Package agent runs and manages devcluster's background agent: one
// process per cluster that serves the local registry and runs the
// LoadBalancer controller after `devcluster up` has returned.
//
// The agent is started detached (its own session, log file, record file) by
// Ensure, through the run package, which reuses a healthy agent with the same
// settings, replaces one with other settings, and replaces a dead one;
// starting and stopping one cluster's agent is serialised by a lock file.
// Identity is checked through the agent's health endpoint, and a stale PID
// is only signalled when its command line names exactly this cluster's
// state directory, so a recycled PID is never signalled.
package agent

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/devcluster/devcluster/internal/lockfile"
	"github.com/devcluster/devcluster/internal/proc"
	"github.com/devcluster/devcluster/internal/run"
	"github.com/devcluster/devcluster/registry"
)

// Spec is what the agent of one cluster should be.
type Spec struct {
	Name     string
	StateDir string
	// DataDir is the registry's storage; empty runs no registry.
	DataDir string
	// Listen are the registry's host:port addresses; the first is loopback
	// and is used for health checks. Without a registry it is a loopback
	// address for the health endpoint only (port 0 picks one).
	Listen []string
	// LB runs the LoadBalancer controller when NodeIP is set.
	LB      LBSpec
	Verbose bool
	// Mirrors are served beside the registry (needs DataDir).
	Mirrors MirrorSpec
}

// LBSpec configures the agent's LoadBalancer controller.
type LBSpec struct {
	// NodeIP is the IP handed out in node mode (`minikube ip`).
	NodeIP string `json:"nodeIP,omitempty"`
	// Address is the controller's mode: node (NodeIP), localhost (every
	// LoadBalancer Service forwarded to 127.0.0.1) or forward (no
	// LoadBalancer status, only Services annotated devcluster.dev/forward).
	// Empty: node when NodeIP is set, else no controller.
	Address string `json:"address,omitempty"`
	// Kubeconfig is an explicit kubeconfig file ("" = client-go's rules).
	Kubeconfig string `json:"kubeconfig,omitempty"`
	// Context is the kubeconfig context of the cluster.
	Context string `json:"context,omitempty"`
}

// AddressForward is LBSpec.Address for an agent that assigns no
// LoadBalancer status and forwards only the Services that ask.
const AddressForward = "forward"

// runs reports whether the spec runs the controller.
func (l LBSpec) runs() bool { return l.NodeIP != "" || l.Address != "" }

// Status is an agent as found or started.
type Status struct {
	Running bool     `json:"running"`
	PID     int      `json:"pid,omitempty"`
	Listen  []string `json:"listen,omitempty"`
	DataDir string   `json:"dataDir,omitempty"`
	LogPath string   `json:"log,omitempty"`
	// Action is what Ensure did: started, reused, replaced.
	Action string `json:"action,omitempty"`
	// Detail explains a stopped or replaced agent.
	Detail string `json:"detail,omitempty"`
	// LoadBalancerIP is the IP the agent's LoadBalancer controller hands
	// out ("" when it does not run one).
	LoadBalancerIP string `json:"loadBalancerIP,omitempty"`
	// LoadBalancerAddress is the controller's mode (LBSpec.Address).
	LoadBalancerAddress string `json:"loadBalancerAddress,omitempty"`
	// Version is the build of devcluster the agent runs (BuildVersion),
	// as it reports it.
	Version string `json:"version,omitempty"`
	// Spec is what the agent was started with (from its record), so it can
	// be started again exactly so (after `registry gc`).
	Spec Spec `json:"-"`
}

// Manager starts, inspects and stops agents.
type Manager interface {
	Ensure(ctx context.Context, s Spec) (*Status, error)
	Status(ctx context.Context, stateDir string) (*Status, error)
	Stop(ctx context.Context, stateDir string) (bool, error)
}

// fromRecord fills what the record says: the LoadBalancer controller and
// the spec the agent runs with.
func (s *Status) fromRecord(r *record, stateDir string) {
	if r != nil {
		s.LoadBalancerIP, s.LoadBalancerAddress = r.LB.NodeIP, r.LB.Address
		s.Spec = Spec{Name: r.Name, StateDir: stateDir, DataDir: r.DataDir, Listen: slices.Clone(r.SpecListen), LB: r.LB, Verbose: r.Verbose, Mirrors: r.Mirrors}
	}
}

// record is agent.json in the state directory.
type record struct {
	PID  int    `json:"pid"`
	Name string `json:"name"`
	// Listen are the bound addresses; SpecListen what was asked (port 0
	// stays 0 there, so a re-run compares like with like).
	Listen     []string   `json:"listen"`
	SpecListen []string   `json:"specListen"`
	DataDir    string     `json:"dataDir"`
	LB         LBSpec     `json:"loadBalancer"`
	Mirrors    MirrorSpec `json:"mirrors,omitzero"`
	Verbose    bool       `json:"verbose,omitempty"`
	StartedAt  time.Time  `json:"startedAt"`
}

// matches reports whether a running agent's record fits the spec.
func (r *record) matches(s Spec) bool {
	return r.DataDir == s.DataDir && sameSet(r.SpecListen, s.Listen) && r.LB == s.LB && r.Mirrors.equal(s.Mirrors)
}

const (
	recordFile = "agent.json"
	logFile    = "agent.log"
	// lockFile serialises starting and stopping one cluster's agent, so two
	// concurrent `up` runs never start two agents.
	lockFile = "agent.lock"
	// lockWait bounds the wait for another devcluster command that starts
	// or stops the same agent.
	lockWait = 2 * time.Minute
	// startTimeout bounds how long Ensure waits for a new agent's health.
	startTimeout = 15 * time.Second
	// stopGrace is how long a stopping agent gets before SIGKILL.
	stopGrace = 10 * time.Second
)

// StateFiles are the files an agent keeps in its state directory.
var StateFiles = []string{recordFile, recordFile + ".tmp", logFile, lockFile, forwardsFile, forwardsFile + ".tmp", mirrorHelperFile, mirrorHelperFile + ".tmp"}

func readRecord(stateDir string) (*record, error) {
	b, err := os.ReadFile(filepath.Join(stateDir, recordFile))
	if err != nil {
		return nil, err
	}
	var r record
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("reading %s: %w", filepath.Join(stateDir, recordFile), err)
	}
	return &r, nil
}

// health asks the agent at addr who it is.
func health(ctx context.Context, addr string) (*registry.Health, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+registry.HealthPath, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("health check: HTTP %d", resp.StatusCode)
	}
	var h registry.Health
	return &h, json.NewDecoder(resp.Body).Decode(&h)
}

// alive reports whether the recorded agent answers as the agent of stateDir.
func alive(ctx context.Context, stateDir string, r *record) (*registry.Health, bool) {
	if r == nil || len(r.Listen) == 0 {
		return nil, false
	}
	h, err := health(ctx, r.Listen[0])
	if err != nil || h.PID != r.PID || h.Identity["stateDir"] != stateDir {
		return nil, false
	}
	return h, true
}

// Process manages agents as detached processes of an executable (normally
// devcluster itself, run as `devcluster agent ...`).
type Process struct {
	// Executable is the program; Args come before the agent flags.
	Executable string
	Args       []string
	// Release is the devcluster release Executable is (app.Version).
	// With the executable's fingerprint it makes the identity an agent
	// must report to be reused (BuildVersion): one of another build is
	// replaced. Empty: the build is not compared.
	Release string
}

// build is the identity a reusable agent reports ("" when not compared).
func (p *Process) build() string {
	if p.Release == "" {
		return ""
	}
	return BuildVersion(p.Release, p.Executable)
}

var _ Manager = (*Process)(nil)

// lockAgent takes the per-cluster lock around starting and stopping.
func lockAgent(ctx context.Context, stateDir, what string) (*lockfile.Lock, error) {
	if err := os.MkdirAll(stateDir, 0o700); err != nil {
		return nil, fmt.Errorf("creating the agent state directory: %w", err)
	}
	l, err := lockfile.Acquire(ctx, filepath.Join(stateDir, lockFile), what, lockWait)
	if errors.Is(err, lockfile.ErrLocked) {
		return nil, fmt.Errorf("another devcluster command is starting or stopping this cluster's agent and did not finish within %s: %w", lockWait, err)
	}
	return l, err
}

// Ensure implements Manager.
func (p *Process) Ensure(ctx context.Context, s Spec) (*Status, error) {
	lock, err := lockAgent(ctx, s.StateDir, "devcluster starting the agent of "+s.Name)
	if err != nil {
		return nil, err
	}
	defer lock.Close()
	logPath := filepath.Join(s.StateDir, logFile)
	r, _ := readRecord(s.StateDir)
	action, detail := "started", ""
	if h, ok := alive(ctx, s.StateDir, r); ok {
		running, want := h.Identity["version"], p.build()
		sameBuild := want == "" || running == want
		if r.matches(s) && sameBuild {
			st := &Status{Running: true, PID: r.PID, Listen: r.Listen, DataDir: r.DataDir, LogPath: logPath, Action: "reused", Version: running}
			st.fromRecord(r, s.StateDir)
			return st, nil
		}
		if _, err := p.stop(ctx, s.StateDir); err != nil {
			return nil, err
		}
		action = "replaced"
		if !sameBuild {
			detail = fmt.Sprintf("the agent ran devcluster %s; this is %s", cmp.Or(running, "of an unknown version"), want)
		} else {
			detail = "the agent ran with other settings"
		}
	} else if r != nil {
		action = "replaced"
		detail = fmt.Sprintf("the agent (last pid %d) no longer answered", r.PID)
		stopStale(r, s.StateDir)
	}
	if err := freeAddresses(s.Listen); err != nil {
		return nil, err
	}
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	// Global flags go before the command: `devcluster --verbose agent ...`.
	args := append([]string(nil), p.Args...)
	if s.Verbose {
		args = append(args, "--verbose")
	}
	args = append(args, "agent", "--name", s.Name, "--state-dir", s.StateDir)
	if s.DataDir != "" {
		args = append(args, "--data-dir", s.DataDir)
	}
	for _, l := range s.Listen {
		args = append(args, "--listen", l)
	}
	if s.LB.runs() {
		if s.LB.NodeIP != "" {
			args = append(args, "--lb-ip", s.LB.NodeIP)
		}
		if s.LB.Address != "" {
			args = append(args, "--lb-address", s.LB.Address)
		}
		args = append(args, "--context", s.LB.Context)
		if s.LB.Kubeconfig != "" {
			args = append(args, "--kubeconfig", s.LB.Kubeconfig)
		}
	}
	args = append(args, s.Mirrors.args()...)
	fmt.Fprintf(logf, "--- %s starting agent: %s %v\n", time.Now().Format(time.RFC3339), p.Executable, args)
	proc, err := run.StartBackground(run.Cmd{Name: p.Executable, Args: args}, logf)
	if err != nil {
		return nil, fmt.Errorf("starting the agent: %w", err)
	}
	deadline := time.Now().Add(startTimeout)
	for {
		if r, err := readRecord(s.StateDir); err == nil && r.PID == proc.PID() {
			if h, ok := alive(ctx, s.StateDir, r); ok {
				st := &Status{Running: true, PID: r.PID, Listen: r.Listen, DataDir: r.DataDir, LogPath: logPath, Action: action,
					Detail: detail, Version: h.Identity["version"]}
				st.fromRecord(r, s.StateDir)
				return st, nil
			}
		}
		select {
		case <-proc.Exited():
			return nil, fmt.Errorf("the agent exited during start-up (%v); its log %s ends with:\n%s", proc.Err(), logPath, tail(logPath, 15))
		case <-ctx.Done():
			_ = proc.Kill()
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			_ = proc.Kill()
			return nil, fmt.Errorf("the agent did not become healthy within %s; its log %s ends with:\n%s", startTimeout, logPath, tail(logPath, 15))
		}
	}
}

// Status implements Manager.
func (p *Process) Status(ctx context.Context, stateDir string) (*Status, error) {
	st := &Status{LogPath: filepath.Join(stateDir, logFile)}
	r, err := readRecord(stateDir)
	if errors.Is(err, os.ErrNotExist) {
		st.Detail = "not running"
		return st, nil
	} else if err != nil {
		return nil, err
	}
	st.Listen, st.DataDir = r.Listen, r.DataDir
	st.fromRecord(r, stateDir)
	if h, ok := alive(ctx, stateDir, r); ok {
		st.Running, st.PID, st.Version = true, r.PID, h.Identity["version"]
		return st, nil
	}
	st.Detail = "not answering (last PID " + strconv.Itoa(r.PID) + ")"
	return st, nil
}

// Stop implements Manager: SIGTERM to the agent that answers for stateDir,
// SIGKILL after a grace period. It reports whether an agent was running.
func (p *Process) Stop(ctx context.Context, stateDir string) (bool, error) {
	if _, err := os.Stat(stateDir); errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	lock, err := lockAgent(ctx, stateDir, "devcluster stopping the agent")
	if err != nil {
		return false, err
	}
	defer lock.Close()
	return p.stop(ctx, stateDir)
}

func (p *Process) stop(ctx context.Context, stateDir string) (bool, error) {
	r, err := readRecord(stateDir)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	h, ok := alive(ctx, stateDir, r)
	if !ok {
		stopStale(r, stateDir)
		_ = os.Remove(filepath.Join(stateDir, recordFile))
		return false, nil
	}
	proc.Terminate(h.PID, stopGrace)
	_ = os.Remove(filepath.Join(stateDir, recordFile))
	return true, nil
}
