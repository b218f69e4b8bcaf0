package bootstrap

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/devcluster/devcluster/agent"
	"github.com/devcluster/devcluster/config"
	"github.com/devcluster/devcluster/internal/problem"
	"github.com/devcluster/devcluster/internal/text"
	"github.com/devcluster/devcluster/registry"
)

// GCOptions are the options of CollectGarbage.
type GCOptions struct {
	// RemoveUntagged also deletes manifests no tag points to.
	RemoveUntagged bool
	// DryRun only reports what would be deleted.
	DryRun bool
	// Log receives Distribution's log lines (verbose mode); nil discards.
	Log io.Writer
}

// GCResult is what `registry gc` reports.
type GCResult struct {
	*registry.GCResult
	DataDir string `json:"dataDir"`
	// AgentRestarted is true when the agent was stopped for the collection
	// and started again with its previous settings.
	AgentRestarted bool `json:"agentRestarted"`
}

// gcLockWait bounds how long gc waits for the data directory after the
// agent stopped (its process lets go of the lock as it exits).
const gcLockWait = 15 * time.Second

// CollectGarbage runs Distribution's stop-the-world garbage collector on
// the cluster's registry storage: it stops the cluster's agent, collects
// while holding the data directory's lock (so no registry serves it
// meanwhile; another server on the directory makes it refuse), and starts
// the agent again with exactly the settings it had — registry addresses
// and LoadBalancer controller alike. The agent is restarted even when the
// collection fails.
func CollectGarbage(ctx context.Context, deps Deps, cfg *config.Config, o GCOptions) (*GCResult, error) {
	dirs, err := deps.Dirs(cfg.Name)
	if err != nil {
		return nil, problem.New(problem.Failed, "locating devcluster's data directory", err, "set HOME or XDG_DATA_HOME")
	}
	s := &gcState{deps: deps, opts: o, stateDir: dirs.State, name: cfg.Name, dataDir: RegistryDataDir(cfg, dirs)}
	if st, err := deps.Agent.Status(ctx, dirs.State); err == nil && st.Running {
		s.prev = st
		if st.Spec.DataDir != "" {
			s.dataDir = st.Spec.DataDir
		}
	}
	steps := []step[gcState]{}
	if s.prev != nil {
		steps = append(steps, step[gcState]{title: "Stopping the agent", run: gcStopAgent})
	}
	steps = append(steps, step[gcState]{title: "Collecting garbage in " + s.dataDir, run: collect})
	if s.prev != nil {
		steps = append(steps, step[gcState]{title: "Starting the agent again", run: gcRestartAgent})
	}
	if err := runSteps(ctx, deps.Report, s, steps); err != nil {
		return nil, err
	}
	if s.gcErr != nil {
		return nil, s.gcErr
	}
	return &GCResult{GCResult: s.res, DataDir: s.dataDir, AgentRestarted: s.restarted}, nil
}

// gcState is the state of one `registry gc`.
type gcState struct {
	deps     Deps
	opts     GCOptions
	name     string
	stateDir string
	dataDir  string
	prev     *agent.Status // the agent that ran before, with its spec

	res       *registry.GCResult // collect
	gcErr     error              // collect, reported after the agent is back
	restarted bool               // gcRestartAgent
}

func gcStopAgent(ctx context.Context, s *gcState) (string, error) {
	if _, err := s.deps.Agent.Stop(ctx, s.stateDir); err != nil {
		return "", problem.New(problem.Failed, "stopping the agent", err, "")
	}
	return fmt.Sprintf("stopped (pid %d)", s.prev.PID), nil
}

func collect(ctx context.Context, s *gcState) (string, error) {
	// Only the agent just stopped lets go of the storage by itself: beside
	// anything else (a `registry serve`) gc refuses at once.
	stopped := 0
	if s.prev != nil {
		stopped = s.prev.PID
	}
	res, err := registry.GarbageCollect(ctx, s.dataDir, registry.GCOptions{
		RemoveUntagged: s.opts.RemoveUntagged, DryRun: s.opts.DryRun, Log: s.opts.Log,
		LockWait: gcLockWait, WaitFor: func(pid int) bool { return pid == stopped }})
	if err != nil {
		s.gcErr = gcProblem(err, s.dataDir)
		if s.prev == nil {
			return "", s.gcErr
		}
		return "failed; starting the agent again", nil
	}
	s.res = res
	if s.opts.DryRun {
		return fmt.Sprintf("would free %s: %s (dry run: nothing deleted)", HumanBytes(res.Bytes), GCCounts(res)), nil
	}
	return fmt.Sprintf("freed %s: %s (%s → %s)", HumanBytes(res.Bytes), GCCounts(res), HumanBytes(res.BytesBefore), HumanBytes(res.BytesAfter)), nil
}

// GCCounts says how much a collection deletes: "1 manifest and 3 blobs",
// "nothing".
func GCCounts(r *registry.GCResult) string {
	plural := func(n int, what string) string {
		if n == 1 {
			return "1 " + what
		}
		return fmt.Sprintf("%d %ss", n, what)
	}
	switch m, b := len(r.Manifests), len(r.Blobs); {
	case m == 0 && b == 0:
		return "nothing"
	case m == 0:
		return plural(b, "blob")
	case b == 0:
		return plural(m, "manifest")
	default:
		return plural(m, "manifest") + " and " + plural(b, "blob")
	}
}

func gcRestartAgent(ctx context.Context, s *gcState) (string, error) {
	spec := s.prev.Spec
	spec.StateDir = s.stateDir
	if spec.Name == "" {
		spec.Name = s.name
	}
	st, err := s.deps.Agent.Ensure(ctx, spec)
	if err != nil {
		return "", problem.New(problem.Failed, "starting the agent again after gc", err, "run `devcluster up`")
	}
	s.restarted = true
	return fmt.Sprintf("running (pid %d) with its previous settings", st.PID), nil
}

func gcProblem(err error, dir string) error {
	if errors.Is(err, registry.ErrLocked) {
		return problem.New(problem.Failed, "garbage collection", err,
			"stop the other registry (a `devcluster registry serve` on the same directory) and run gc again")
	}
	return problem.New(problem.Failed, "garbage collection of "+dir, err, "")
}

// HumanBytes renders a byte count in binary units: 1.5 MiB (text.Bytes).
func HumanBytes(n int64) string { return text.Bytes(n) }
