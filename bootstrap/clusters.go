package bootstrap

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/devcluster/devcluster/agent"
	"github.com/devcluster/devcluster/config"
	"github.com/devcluster/devcluster/internal/paths"
	"github.com/devcluster/devcluster/provider"
)

// clusterRecordFile is what up writes into a cluster's state directory, so
// that `list` knows the cluster, its provider and its registry; down
// removes it with the cluster.
const clusterRecordFile = "cluster.json"

// ClusterRecord is a cluster as up last left it.
type ClusterRecord struct {
	Name        string `json:"name"`
	Provider    string `json:"provider"`
	KubeContext string `json:"kubeContext,omitempty"`
	// RegistryPort is 0 when the cluster has no local registry.
	RegistryPort int       `json:"registryPort,omitempty"`
	DataDir      string    `json:"registryData,omitempty"`
	UpdatedAt    time.Time `json:"updatedAt"`
}

// writeClusterRecord records the cluster of cfg in its state directory.
func writeClusterRecord(deps Deps, cfg *config.Config, c *provider.Cluster) error {
	if deps.Dirs == nil {
		return nil
	}
	dirs, err := deps.Dirs(cfg.Name)
	if err != nil {
		return err
	}
	rec := ClusterRecord{Name: cfg.Name, Provider: cfg.Provider, KubeContext: c.KubeContext, UpdatedAt: time.Now().UTC().Truncate(time.Second)}
	if cfg.Registry.Enabled {
		rec.RegistryPort, rec.DataDir = cfg.Registry.Port, RegistryDataDir(cfg, dirs)
	}
	b, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dirs.State, 0o700); err != nil {
		return err
	}
	tmp := filepath.Join(dirs.State, clusterRecordFile+".tmp")
	if err := os.WriteFile(tmp, append(b, '\n'), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dirs.State, clusterRecordFile))
}

// removeClusterRecord forgets the cluster (down).
func removeClusterRecord(dirs paths.Dirs) {
	_ = os.Remove(filepath.Join(dirs.State, clusterRecordFile))
}

// ListedCluster is one line of `list`.
type ListedCluster struct {
	Name        string         `json:"name"`
	Provider    string         `json:"provider"`
	State       provider.State `json:"state"`
	Detail      string         `json:"detail,omitempty"`
	KubeContext string         `json:"kubeContext,omitempty"`
	// RegistryPort is 0 for a cluster without a local registry.
	RegistryPort int          `json:"registryPort,omitempty"`
	RegistryData string       `json:"registryData,omitempty"`
	Agent        *ListedAgent `json:"agent"`
	UpdatedAt    time.Time    `json:"updatedAt"`
}

// ListedAgent is the state of a cluster's agent.
type ListedAgent struct {
	Running bool `json:"running"`
	PID     int  `json:"pid,omitempty"`
}

// ListDeps are what List reads.
type ListDeps struct {
	// Root holds the clusters' state directories (paths.For(env, "").State).
	Root  string
	Agent agent.Manager
	// Provider is the provider of a recorded cluster.
	Provider func(rec ClusterRecord) provider.Provider
}

// List is the clusters devcluster knows on this machine: those up recorded
// and down has not removed, each with its provider's state now and its
// agent's. A cluster whose provider cannot be read is listed with the
// reason.
func List(ctx context.Context, deps ListDeps) ([]ListedCluster, error) {
	entries, err := os.ReadDir(deps.Root)
	if errors.Is(err, os.ErrNotExist) {
		return []ListedCluster{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading devcluster's state directory: %w", err)
	}
	out := []ListedCluster{}
	for _, rec := range records(deps.Root, entries) {
		dir := filepath.Join(deps.Root, rec.Name)
		l := ListedCluster{Name: rec.Name, Provider: rec.Provider, KubeContext: rec.KubeContext, RegistryPort: rec.RegistryPort,
			RegistryData: rec.DataDir, UpdatedAt: rec.UpdatedAt, State: provider.Absent}
		if p := deps.Provider(rec); p != nil {
			if c, err := p.Get(ctx, rec.Name); err != nil {
				l.State, l.Detail = "Unknown", err.Error()
			} else {
				l.State, l.Detail = c.State, c.Detail
			}
		}
		l.Agent = &ListedAgent{}
		if deps.Agent != nil {
			if st, err := deps.Agent.Status(ctx, dir); err == nil && st != nil && st.Running {
				l.Agent = &ListedAgent{Running: true, PID: st.PID}
			}
		}
		out = append(out, l)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// KnownClusters are the names of the clusters List lists, without asking
// their providers (shell completion).
func KnownClusters(root string) []string {
	entries, _ := os.ReadDir(root)
	var out []string
	for _, rec := range records(root, entries) {
		out = append(out, rec.Name)
	}
	return out
}

// records are the cluster records of the state directories in entries.
func records(root string, entries []os.DirEntry) []ClusterRecord {
	var out []ClusterRecord
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		rec, err := readClusterRecord(filepath.Join(root, e.Name()))
		if err != nil || rec.Name != e.Name() || config.ValidName(rec.Name) != nil {
			continue // not a cluster's directory, or not one up recorded
		}
		out = append(out, rec)
	}
	return out
}

func readClusterRecord(dir string) (ClusterRecord, error) {
	var rec ClusterRecord
	f, err := os.Open(filepath.Join(dir, clusterRecordFile))
	if err != nil {
		return rec, err
	}
	defer f.Close()
	// A record is a few hundred bytes: a larger file is not one.
	dec := json.NewDecoder(io.LimitReader(f, 64<<10))
	err = dec.Decode(&rec)
	return rec, err
}
