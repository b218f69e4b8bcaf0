package bootstrap

import (
	"context"
	"errors"
	"fmt"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"os"
	"path/filepath"
	"strings"

	"github.com/devcluster/devcluster/agent"
	"github.com/devcluster/devcluster/kube"
	"github.com/devcluster/devcluster/loadbalancer"
	"github.com/devcluster/devcluster/manifests"
	"github.com/devcluster/devcluster/registry"

	"github.com/devcluster/devcluster/config"
	"github.com/devcluster/devcluster/internal/paths"
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
	// Removed and Left are, for a cluster devcluster did not create
	// (provider existing), the objects of its own it deleted from the
	// cluster and those it found but left (not created by devcluster).
	Removed []string `json:"removed,omitempty"`
	Left    []string `json:"left,omitempty"`
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

// downState is the state of one `down`: inputs first, then what each step
// found or did.
type downState struct {
	deps Deps
	cfg  *config.Config
	opts DownOptions
	dirs paths.Dirs // set when Deps.Dirs is

	missing      *provider.ToolMissing // checkTool: the provider's tool is not installed
	deleted      bool                  // deleteCluster
	agentStopped bool                  // stopAgent
	purged       []string              // registryData
	removed      []string              // removeOwn
	left         []string              // removeOwn
	kept         string                // registryData
	keptReason   string                // registryData
}

// Down deletes the cluster and stops its agent. Deleting a cluster
// that does not exist is not an error. Registry data is kept unless
// opts.Purge, and then deleted only where that is safe (see
// purgeRegistryData).
func Down(ctx context.Context, deps Deps, cfg *config.Config, opts DownOptions) (*DownResult, error) {
	s := &downState{deps: deps, cfg: cfg, opts: opts}
	steps := []step[downState]{{title: "Checking " + deps.Provider.Name(), run: func(ctx context.Context, s *downState) (string, error) {
		var v string
		var err error
		v, s.missing, err = checkTool(ctx, s.deps.Provider)
		return v, err
	}}}
	// The cluster goes first: when down refuses (a cluster devcluster did
	// not create) or fails, nothing else has changed and the agent still
	// serves the cluster.
	if config.ExternalProvider(cfg.Provider) {
		steps = append(steps, step[downState]{title: "Removing what devcluster put into the cluster", run: removeOwn})
	} else {
		steps = append(steps, step[downState]{title: fmt.Sprintf("Deleting cluster %q", cfg.Name), run: deleteCluster})
	}
	if deps.Dirs != nil {
		dirs, err := deps.Dirs(cfg.Name)
		if err != nil {
			return nil, problem.New(problem.Failed, "locating devcluster's data directory", err, "set HOME or XDG_DATA_HOME and XDG_STATE_HOME")
		}
		s.dirs = dirs
		if deps.Agent != nil {
			steps = append(steps, step[downState]{title: "Stopping the agent", run: stopAgent})
		}
		steps = append(steps, step[downState]{title: "Registry data", run: registryData})
	}
	err := runSteps(ctx, deps.Report, s, steps)
	if err == nil && deps.Dirs != nil {
		removeClusterRecord(s.dirs)
	}
	return &DownResult{Name: cfg.Name, Deleted: s.deleted, AgentStopped: s.agentStopped, Purged: append([]string{}, s.purged...),
		Kept: s.kept, KeptReason: s.keptReason, Removed: s.removed, Left: s.left}, err
}

func stopAgent(ctx context.Context, s *downState) (string, error) {
	stopped, err := s.deps.Agent.Stop(ctx, s.dirs.State)
	if err != nil {
		return "", problem.New(problem.Failed, "stopping the registry agent", err, "")
	}
	s.agentStopped = stopped
	if !stopped {
		return "not running", nil
	}
	return "stopped", nil
}

func deleteCluster(ctx context.Context, s *downState) (string, error) {
	have, err := s.deps.Provider.Get(ctx, s.cfg.Name)
	if err != nil {
		return "", err
	}
	notInstalled(have, s.missing)
	switch {
	case have.State == provider.Absent && have.Detail != "":
		return "not found (" + have.Detail + "), nothing to delete", nil
	case have.State == provider.Absent:
		return "not found, nothing to delete", nil
	case have.Foreign != "":
		return "", foreignError(s.deps.Provider, have, "not deleting")
	}
	if err := s.deps.Provider.Delete(ctx, s.cfg.Name, s.deps.Report.Progress); err != nil {
		return "", err
	}
	s.deleted = true
	return "deleted", nil
}

// registryData keeps the registry's data, or with --purge deletes it where
// that is safe, and then devcluster's own per-cluster directories.
// removeOwn is down on a cluster devcluster did not create: the cluster
// stays; only the registry's KEP-1755 ConfigMap, the samples' and the
// dashboard's namespaces and the dashboard's ClusterRoleBinding go, and only
// when they carry devcluster's managed-by label; the forwards `service`
// asked for are withdrawn.
func removeOwn(ctx context.Context, s *downState) (string, error) {
	c, err := connectCluster(ctx, s.deps, s.cfg.Context, fromCluster, answering)
	if err != nil {
		return "", err
	}
	// The forwards `service` asked for first: the Services stay, the
	// requests go (the agent that answered them stops below).
	withdrawn, err := kube.WithdrawServiceAnnotations(ctx, c.Kube, loadbalancer.ForwardAnnotation)
	for _, w := range withdrawn {
		s.removed = append(s.removed, "the forward of Service "+w)
	}
	switch {
	case apierrors.IsForbidden(err):
		// Listing Services in every namespace needs more than a
		// namespace-scoped user has: the rest of down still runs.
		s.left = append(s.left, "the forwards `devcluster service` asked for (listing Services in every namespace is forbidden to this context; remove the "+loadbalancer.ForwardAnnotation+" annotation yourself)")
	case err != nil:
		return "", problem.New(problem.Failed, "withdrawing the forwards `devcluster service` asked for", err, "check the context's permissions")
	}
	removed, left, err := kube.RemoveOwn(ctx, c.Kube, []string{manifests.SampleNamespace, manifests.DashboardNamespace})
	s.removed, s.left = append(s.removed, removed...), append(s.left, left...)
	if err == nil {
		removed, left, err = kube.RemoveOwnClusterRoleBindings(ctx, c.Kube, []string{manifests.DashboardClusterRoleBinding})
		s.removed, s.left = append(s.removed, removed...), append(s.left, left...)
	}
	if err != nil {
		return "", problem.New(problem.Failed, "removing devcluster's objects from the cluster", err, "check the context's permissions")
	}
	for _, l := range s.left {
		s.deps.Report.Warn("left " + l)
	}
	if len(s.removed) == 0 {
		return "nothing of devcluster's in the cluster", nil
	}
	return "removed " + strings.Join(s.removed, ", "), nil
}

func registryData(ctx context.Context, s *downState) (string, error) {
	data := RegistryDataDir(s.cfg, s.dirs)
	if !s.opts.Purge {
		if _, err := os.Stat(data); err != nil {
			return "none", nil
		}
		s.kept = data
		return "kept in " + data + " (--purge deletes it)", nil
	}
	if _, err := os.Stat(data); err == nil {
		if err := purgeRegistryData(ctx, data, data == s.dirs.RegistryData(), s.opts.Protect); err != nil {
			s.kept, s.keptReason = data, err.Error()
			s.deps.Report.Warn("kept " + data + ": " + err.Error())
		} else {
			s.purged = append(s.purged, data)
		}
	}
	// devcluster's own per-cluster directories: only the files it writes
	// there, then the directories if nothing else is left.
	for _, d := range []struct {
		dir   string
		files []string
	}{{s.dirs.Data, nil}, {s.dirs.State, append([]string{clusterRecordFile, clusterRecordFile + ".tmp"}, agent.StateFiles...)}} {
		if removeOwnDir(d.dir, d.files) {
			s.purged = append(s.purged, d.dir)
		}
	}
	if s.kept != "" {
		return fmt.Sprintf("kept %s; deleted %d director(ies)", s.kept, len(s.purged)), nil
	}
	return fmt.Sprintf("deleted %d director(ies)", len(s.purged)), nil
}
