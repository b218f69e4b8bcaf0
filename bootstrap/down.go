package bootstrap

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/devcluster/devcluster/agent"
	"github.com/devcluster/devcluster/registry"

	"github.com/devcluster/devcluster/config"
	"github.com/devcluster/devcluster/internal/problem"
	"github.com/devcluster/devcluster/provider"
)

// DownOptions are the options of Down.
type DownOptions struct {
	// Purge also deletes the registry's data and the agent's state.
	Purge bool
	// Protect are directories that are never deleted, nor any directory
	// that contains one of them (the working directory, the home
	// directory). "/" is always protected.
	Protect []string
}

// DownResult is what `down` reports.
type DownResult struct {
	Name         string `json:"name"`
	Deleted      bool   `json:"deleted"`
	AgentStopped bool   `json:"agentStopped"`
	// Purged lists the directories removed by --purge.
	Purged []string `json:"purged"`
	// Kept is the registry data left in place (without --purge, or when
	// --purge refused to delete it).
	Kept string `json:"kept,omitempty"`
	// KeptReason says why --purge kept it.
	KeptReason string `json:"keptReason,omitempty"`
}

// purgeRegistryData deletes a registry data directory, but only one that
// devcluster created and that holds nothing but registry storage: it must
// carry devcluster's marker (or be the default location under devcluster's
// own data directory), hold only Distribution's docker/registry/v2 tree and
// devcluster's files, not be or contain a protected directory, and not be in
// use by a registry (its lock is taken for the deletion).
func purgeRegistryData(ctx context.Context, dir string, isDefault bool, protect []string) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		abs = real
	}
	for _, p := range append([]string{"/"}, protect...) {
		if p == "" {
			continue
		}
		pa, err := filepath.Abs(p)
		if err != nil {
			continue
		}
		if real, err := filepath.EvalSymlinks(pa); err == nil {
			pa = real
		}
		if pa == abs || strings.HasPrefix(pa, abs+string(filepath.Separator)) || abs == "/" {
			return fmt.Errorf("refusing to delete %s: it is or contains %s", abs, pa)
		}
	}
	if err := registry.OwnedDataDir(abs); err != nil {
		if !isDefault || !errors.Is(err, registry.ErrNotMarked) {
			return fmt.Errorf("refusing to delete it: %w", err)
		}
	}
	lock, err := registry.LockDir(ctx, abs, "devcluster down --purge", 0)
	if err != nil {
		return fmt.Errorf("refusing to delete it while it is in use: %w", err)
	}
	defer lock.Close()
	if err := os.RemoveAll(abs); err != nil {
		return fmt.Errorf("deleting it: %w", err)
	}
	return nil
}

// removeOwnDir deletes the named files of one of devcluster's own
// directories, then the directory if it is empty. It reports whether the
// directory is gone.
func removeOwnDir(dir string, files []string) bool {
	if _, err := os.Stat(dir); err != nil {
		return false
	}
	for _, f := range files {
		_ = os.Remove(filepath.Join(dir, f))
	}
	return os.Remove(dir) == nil
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
			if _, err := os.Stat(data); err == nil {
				if err := purgeRegistryData(ctx, data, data == dirs.RegistryData(), opts.Protect); err != nil {
					out.Kept = data
					out.KeptReason = err.Error()
					deps.Report.Warn("kept " + data + ": " + err.Error())
				} else {
					out.Purged = append(out.Purged, data)
				}
			}
			// devcluster's own per-cluster directories: only the files it
			// writes there, then the directories if nothing else is left.
			for _, d := range []struct {
				dir   string
				files []string
			}{
				{dirs.Data, nil},
				{dirs.State, agent.StateFiles},
			} {
				if removeOwnDir(d.dir, d.files) {
					out.Purged = append(out.Purged, d.dir)
				}
			}
			if out.Kept != "" {
				return fmt.Sprintf("kept %s; deleted %d director(ies)", out.Kept, len(out.Purged)), nil
			}
			return fmt.Sprintf("deleted %d director(ies)", len(out.Purged)), nil
		}})
	}
	return out, runSteps(ctx, s, steps)
}
