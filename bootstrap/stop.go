package bootstrap

import (
	"context"
	"errors"
	"fmt"

	"github.com/devcluster/devcluster/config"
	"github.com/devcluster/devcluster/internal/paths"
	"github.com/devcluster/devcluster/internal/problem"
	"github.com/devcluster/devcluster/provider"
)

// StopResult is what `stop` reports.
type StopResult struct {
	Name string `json:"name"`
	// Was is the cluster's state before stop.
	Was provider.State `json:"was"`
	// Stopped says stop stopped it (false: it was stopped already).
	Stopped      bool `json:"stopped"`
	AgentStopped bool `json:"agentStopped"`
}

type stopState struct {
	deps    Deps
	cfg     *config.Config
	dirs    paths.Dirs
	stopper provider.Stoppable
	missing *provider.ToolMissing
	res     StopResult
}

// Stop stops the cluster and keeps it: its nodes free their CPU and memory
// and its agent (registry, LoadBalancer controller) stops; Up resumes both.
// A cluster that is stopped already is not an error; one that does not
// exist is (NotRunning), as is a provider that cannot stop its clusters
// (existing) and a cluster devcluster did not create.
func Stop(ctx context.Context, deps Deps, cfg *config.Config) (*StopResult, error) {
	s := &stopState{deps: deps, cfg: cfg, res: StopResult{Name: cfg.Name}}
	var ok bool
	if s.stopper, ok = deps.Provider.(provider.Stoppable); !ok {
		return &s.res, problem.New(problem.Usage, "", fmt.Errorf("devcluster does not stop a cluster it did not create (provider %s)", deps.Provider.Name()),
			"stop it with the tool that runs it; `devcluster down` removes only what devcluster put into it")
	}
	steps := []step[stopState]{
		{title: "Checking " + deps.Provider.Name(), run: func(ctx context.Context, s *stopState) (string, error) {
			var v string
			var err error
			v, s.missing, err = checkTool(ctx, s.deps.Provider)
			return v, err
		}},
		{title: fmt.Sprintf("Stopping cluster %q", cfg.Name), run: stopCluster},
	}
	if deps.Dirs != nil && deps.Agent != nil {
		dirs, err := deps.Dirs(cfg.Name)
		if err != nil {
			return &s.res, problem.New(problem.Failed, "locating devcluster's state directory", err, "set HOME or XDG_STATE_HOME")
		}
		s.dirs = dirs
		steps = append(steps, step[stopState]{title: "Stopping the agent", run: func(ctx context.Context, s *stopState) (string, error) {
			stopped, err := s.deps.Agent.Stop(ctx, s.dirs.State)
			if err != nil {
				return "", problem.New(problem.Failed, "stopping the registry agent", err, "")
			}
			s.res.AgentStopped = stopped
			if !stopped {
				return "not running", nil
			}
			return "stopped (up starts it again)", nil
		}})
	}
	err := runSteps(ctx, deps.Report, s, steps)
	return &s.res, err
}

func stopCluster(ctx context.Context, s *stopState) (string, error) {
	have, err := s.deps.Provider.Get(ctx, s.cfg.Name)
	if err != nil {
		return "", err
	}
	s.res.Was = have.State
	switch {
	case have.State == provider.Absent:
		why := fmt.Errorf("cluster %q does not exist", s.cfg.Name)
		if have.Detail != "" {
			why = fmt.Errorf("cluster %q does not exist (%s)", s.cfg.Name, have.Detail)
		}
		return "", problem.New(problem.NotRunning, "", why, "`devcluster up` creates it")
	case s.missing != nil:
		return "", problem.New(problem.Missing, "", errors.New(s.missing.Error()), "install "+s.missing.Tool+", or run `devcluster up`, which installs it")
	case have.Foreign != "":
		return "", foreignError(s.deps.Provider, have, "not stopping")
	case have.State == provider.Stopped:
		return "stopped already", nil
	}
	if err := s.stopper.Stop(ctx, s.cfg.Name, s.deps.Report.Progress); err != nil {
		return "", err
	}
	s.res.Stopped = true
	return "stopped (`devcluster up` resumes it)", nil
}
