package minikube

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/devcluster/devcluster/internal/run"
)

// miniPath is minikube's localpath.MiniPath: $MINIKUBE_HOME (itself when it
// ends in .minikube, else its .minikube), or ~/.minikube.
func (m *Minikube) miniPath() (string, error) {
	if h, _ := m.env("MINIKUBE_HOME"); h != "" {
		if filepath.Base(h) == ".minikube" {
			return h, nil
		}
		return filepath.Join(h, ".minikube"), nil
	}
	home, _ := m.env("HOME")
	if home == "" {
		return "", errors.New("neither MINIKUBE_HOME nor HOME is set: cannot find minikube's profiles")
	}
	return filepath.Join(home, ".minikube"), nil
}

// errNoProfile means the profile has no saved configuration.
var errNoProfile = errors.New("no such profile")

// errInvalidProfile means the profile's configuration cannot be used
// (minikube's `profile list` lists it as invalid).
var errInvalidProfile = errors.New("invalid profile")

// readProfile reads the profile's saved ClusterConfig from
// <MiniPath>/profiles/<name>/config.json — the file `minikube profile list`
// reads, a long-stable on-disk contract — without starting minikube. A
// configuration minikube would list as invalid (unreadable, no driver, a
// node without a Kubernetes version: config.Profile.IsValid) is
// errInvalidProfile.
func (m *Minikube) readProfile(name string) (*clusterConfig, error) {
	mini, err := m.miniPath()
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(filepath.Join(mini, "profiles", name, "config.json"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, errNoProfile
	}
	if err != nil {
		return nil, fmt.Errorf("reading minikube's profile %q: %w", name, err)
	}
	var cc clusterConfig
	if err := json.Unmarshal(b, &cc); err != nil {
		return nil, fmt.Errorf("%w: %v", errInvalidProfile, err)
	}
	if cc.Driver == "" {
		return nil, fmt.Errorf("%w: no driver", errInvalidProfile)
	}
	for _, n := range cc.Nodes {
		if n.KubernetesVersion == "" {
			return nil, fmt.Errorf("%w: a node without a Kubernetes version", errInvalidProfile)
		}
	}
	return &cc, nil
}

// versionCacheEntry remembers the version of one minikube executable.
type versionCacheEntry struct {
	Path    string    `json:"path"`
	Size    int64     `json:"size"`
	ModTime time.Time `json:"modTime"`
	Version string    `json:"version"`
}

// cachedVersion returns the version recorded for the executable as it is
// now (same path, size and modification time), or "".
func (m *Minikube) cachedVersion() (string, versionCacheEntry) {
	if m.versionCache == "" {
		return "", versionCacheEntry{}
	}
	path, err := run.Which(m.runner, m.binary)
	if err != nil {
		return "", versionCacheEntry{}
	}
	fi, err := os.Stat(path)
	if err != nil {
		return "", versionCacheEntry{}
	}
	now := versionCacheEntry{Path: path, Size: fi.Size(), ModTime: fi.ModTime().UTC()}
	b, err := os.ReadFile(m.versionCache)
	if err != nil {
		return "", now
	}
	var entries []versionCacheEntry
	if json.Unmarshal(b, &entries) != nil {
		return "", now
	}
	for _, e := range entries {
		if e.Path == now.Path && e.Size == now.Size && e.ModTime.Equal(now.ModTime) && e.Version != "" {
			return e.Version, now
		}
	}
	return "", now
}

// rememberVersion records the version of the executable described by e.
func (m *Minikube) rememberVersion(e versionCacheEntry) {
	if m.versionCache == "" || e.Path == "" {
		return
	}
	var entries []versionCacheEntry
	if b, err := os.ReadFile(m.versionCache); err == nil {
		_ = json.Unmarshal(b, &entries)
	}
	out := []versionCacheEntry{e}
	for _, old := range entries {
		if old.Path != e.Path && len(out) < 16 {
			out = append(out, old)
		}
	}
	b, _ := json.MarshalIndent(out, "", "  ")
	if err := os.MkdirAll(filepath.Dir(m.versionCache), 0o700); err != nil {
		return
	}
	tmp := m.versionCache + ".tmp"
	if os.WriteFile(tmp, b, 0o600) == nil {
		_ = os.Rename(tmp, m.versionCache)
	}
}
