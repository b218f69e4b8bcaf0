package bootstrap

import (
	"context"
	"fmt"
	"os"

	"github.com/devcluster/devcluster/bootstrap/config"
	"github.com/devcluster/devcluster/bootstrap/provider"
	"github.com/devcluster/devcluster/internal/problem"
)

// DownOptions are the options of Down.
type DownOptions struct {
	// Purge also deletes the registry's data and the agent's state.
	Purge bool
}

// DownResult is what `down` reports.
type DownResult struct {
	Name         string `json:"name"`
	Deleted      bool   `json:"deleted"`
	AgentStopped bool   `json:"agentStopped"`
	// Purged lists the directories removed by --purge.
	Purged []string `json:"purged"`
	// Kept is the registry data left in place (without --purge).
	Kept string `json:"kept,omitempty"`
}

// Down stops the cluster's agent and deletes the cluster. Deleting a cluster
// that does not exist is not an error. Registry data is kept unless
// opts.Purge.
func Down(ctx context.Context, deps Deps, cfg *config.Config, opts DownOptions) (*DownResult, error) {
	name := cfg.Name
	s := &operation{deps: deps, cfg: cfg}
	out := &DownResult{Name: name, Purged: []string{}}
	steps := []step{{title: "Checking " + deps.Provider.Name(), run: checkProvider}}
	if deps.Agent != nil && deps.Dirs != nil {
		steps = append(steps, step{title: "Stopping the agent", run: func(ctx context.Context, s *operation) (string, error) {
			dirs, err := deps.Dirs(name)
			if err != nil {
				return "", err
			}
			stopped, err := deps.Agent.Stop(ctx, dirs.State)
			if err != nil {
				return "", problem.New(problem.Failed, "stopping the registry agent", err, "")
			}
			out.AgentStopped = stopped
			if !stopped {
				return "not running", nil
			}
			return "stopped", nil
		}})
	}
	steps = append(steps, step{title: fmt.Sprintf("Deleting cluster %q", name), run: func(ctx context.Context, s *operation) (string, error) {
		have, err := deps.Provider.Get(ctx, name)
		if err != nil {
			return "", err
		}
		if have.State == provider.Absent {
			return "not found, nothing to delete", nil
		}
		if err := deps.Provider.Delete(ctx, name, deps.Report.Progress); err != nil {
			return "", err
		}
		out.Deleted = true
		return "deleted", nil
	}})
	if deps.Dirs != nil {
		steps = append(steps, step{title: "Registry data", run: func(ctx context.Context, s *operation) (string, error) {
			dirs, err := deps.Dirs(name)
			if err != nil {
				return "", err
			}
			data := RegistryDataDir(cfg, dirs)
			if !opts.Purge {
				if _, err := os.Stat(data); err != nil {
					return "none", nil
				}
				out.Kept = data
				return "kept in " + data + " (--purge deletes it)", nil
			}
			for _, d := range []string{data, dirs.Data, dirs.State} {
				if _, err := os.Stat(d); err != nil {
					continue
				}
				if err := os.RemoveAll(d); err != nil {
					return "", problem.New(problem.Failed, "deleting "+d, err, "")
				}
				out.Purged = append(out.Purged, d)
			}
			return fmt.Sprintf("deleted %d director(ies)", len(out.Purged)), nil
		}})
	}
	return out, runSteps(ctx, s, steps)
}
