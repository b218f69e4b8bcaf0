package registry

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// usageLog is when each repository of one upstream's store was last pulled
// through the mirror (a manifest served), kept in the store beside
// Distribution's storage for `mirror ls` and `mirror prune --older-than`.
type usageLog struct {
	dir   string
	Repos map[string]time.Time `json:"repositories"`
	dirty bool
}

func readUsage(dir string) *usageLog {
	u := &usageLog{dir: dir, Repos: map[string]time.Time{}}
	if b, err := os.ReadFile(filepath.Join(dir, usageFile)); err == nil {
		_ = json.Unmarshal(b, u)
		if u.Repos == nil {
			u.Repos = map[string]time.Time{}
		}
	}
	return u
}

// ReadUsage returns when each repository of an upstream's store (its
// directory) was last used.
func ReadUsage(dir string) map[string]time.Time { return readUsage(dir).Repos }

// manifestRepo is the repository of a manifest request path
// (/v2/<name>/manifests/<reference>), or "".
func manifestRepo(p string) string {
	rest, ok := strings.CutPrefix(p, "/v2/")
	if !ok {
		return ""
	}
	i := strings.LastIndex(rest, "/manifests/")
	if i <= 0 {
		return ""
	}
	return rest[:i]
}

// usageSaveEvery bounds how often a busy mirror rewrites its usage files.
const usageSaveEvery = 10 * time.Second

// used notes a manifest served from upstream's store.
func (m *mirrorSet) used(upstream, path string) {
	repo := manifestRepo(path)
	if repo == "" {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	u := m.usage[upstream]
	if u == nil {
		return
	}
	u.Repos[repo] = time.Now().UTC()
	u.dirty = true
	m.saveUsage(false)
}

// saveUsage writes the changed usage files (at most every usageSaveEvery
// unless forced). Called with m.mu held, by the holder of the store only.
func (m *mirrorSet) saveUsage(force bool) {
	if !force && time.Since(m.lastSave) < usageSaveEvery {
		return
	}
	m.lastSave = time.Now()
	for _, u := range m.usage {
		if !u.dirty {
			continue
		}
		if b, err := json.Marshal(u); err == nil && writeFileAtomic(filepath.Join(u.dir, usageFile), b) == nil {
			u.dirty = false
		}
	}
}
