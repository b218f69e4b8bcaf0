package registry

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/distribution/distribution/v3/registry/storage"

	"github.com/devcluster/devcluster/internal/lockfile"
)

// MirrorRepo is one repository of a mirror store.
type MirrorRepo struct {
	Repository string   `json:"repository"`
	Tags       []string `json:"tags"`
	// SizeBytes is the size of the blobs the repository references
	// (blobs shared with other repositories count in each).
	SizeBytes int64 `json:"sizeBytes"`
	// LastUse is the last pull of one of its manifests through the mirror,
	// else when its newest tag was fetched.
	LastUse time.Time `json:"lastUse"`
}

// MirrorUpstream is what the store holds for one upstream.
type MirrorUpstream struct {
	Upstream string `json:"upstream"`
	Dir      string `json:"dir"`
	// SizeBytes is the upstream's storage on disk.
	SizeBytes    int64        `json:"sizeBytes"`
	Repositories []MirrorRepo `json:"repositories"`
}

// ListMirrors reads what the mirror store at storeDir holds, per upstream
// (sorted), without the lock: it only reads.
func ListMirrors(storeDir string) ([]MirrorUpstream, error) {
	entries, err := os.ReadDir(storeDir)
	if errors.Is(err, os.ErrNotExist) {
		return []MirrorUpstream{}, nil
	}
	if err != nil {
		return nil, err
	}
	out := []MirrorUpstream{}
	for _, e := range entries {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		dir := filepath.Join(storeDir, e.Name())
		up := MirrorUpstream{Upstream: e.Name(), Dir: dir, SizeBytes: SizeOf(dir), Repositories: listRepos(dir)}
		out = append(out, up)
	}
	return out, nil
}

// listRepos reads the repositories of one upstream's storage.
func listRepos(dir string) []MirrorRepo {
	root := filepath.Join(dir, "docker", "registry", "v2", "repositories")
	usage := ReadUsage(dir)
	repos := []MirrorRepo{}
	_ = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || !d.IsDir() || d.Name() != "_manifests" {
			return nil
		}
		repoDir := filepath.Dir(p)
		name, _ := filepath.Rel(root, repoDir)
		r := MirrorRepo{Repository: filepath.ToSlash(name), Tags: []string{}, LastUse: usage[filepath.ToSlash(name)]}
		tags, _ := os.ReadDir(filepath.Join(p, "tags"))
		for _, t := range tags {
			link := filepath.Join(p, "tags", t.Name(), "current", "link")
			fi, err := os.Stat(link)
			if err != nil {
				continue
			}
			r.Tags = append(r.Tags, t.Name())
			if r.LastUse.Before(fi.ModTime()) && usage[r.Repository].IsZero() {
				r.LastUse = fi.ModTime().UTC()
			}
		}
		r.SizeBytes = linkedBlobsSize(dir, repoDir)
		repos = append(repos, r)
		return filepath.SkipDir
	})
	slices.SortFunc(repos, func(a, b MirrorRepo) int { return cmp.Compare(a.Repository, b.Repository) })
	return repos
}

// linkedBlobsSize sums the blobs a repository links: layers, configs and
// its manifests' revisions.
func linkedBlobsSize(dir, repoDir string) int64 {
	seen := map[string]bool{}
	var n int64
	for _, sub := range []string{"_layers", filepath.Join("_manifests", "revisions")} {
		_ = filepath.WalkDir(filepath.Join(repoDir, sub), func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || d.Name() != "link" {
				return nil
			}
			b, err := os.ReadFile(p)
			alg, hex, ok := strings.Cut(strings.TrimSpace(string(b)), ":")
			if err != nil || !ok || len(hex) < 2 || seen[alg+hex] {
				return nil
			}
			seen[alg+hex] = true
			if fi, err := os.Stat(filepath.Join(dir, "docker", "registry", "v2", "blobs", alg, hex[:2], hex, "data")); err == nil {
				n += fi.Size()
			}
			return nil
		})
	}
	return n
}

// PruneOptions select what PruneMirrors deletes.
type PruneOptions struct {
	// All empties the store.
	All bool
	// OlderThan deletes the repositories not used for that long.
	OlderThan time.Duration
	// Now is the time OlderThan counts back from (zero: time.Now()).
	Now time.Time
	// LockWait bounds the wait for the store's holder to let go.
	LockWait time.Duration
	// DryRun only reports.
	DryRun bool
}

// PrunedRepo is a repository a prune deleted.
type PrunedRepo struct {
	Upstream   string    `json:"upstream"`
	Repository string    `json:"repository"`
	LastUse    time.Time `json:"lastUse"`
	SizeBytes  int64     `json:"sizeBytes"`
}

// PruneResult is what a prune did.
type PruneResult struct {
	Removed     []PrunedRepo `json:"removed"`
	BytesBefore int64        `json:"bytesBefore"`
	BytesAfter  int64        `json:"bytesAfter"`
	DryRun      bool         `json:"dryRun,omitempty"`
}

// SelectPrune is what a prune with o deletes from the listed store.
func SelectPrune(ups []MirrorUpstream, o PruneOptions) []PrunedRepo {
	now := o.Now
	if now.IsZero() {
		now = time.Now()
	}
	out := []PrunedRepo{}
	for _, u := range ups {
		for _, r := range u.Repositories {
			if o.All || now.Sub(r.LastUse) > o.OlderThan {
				out = append(out, PrunedRepo{Upstream: u.Upstream, Repository: r.Repository, LastUse: r.LastUse, SizeBytes: r.SizeBytes})
			}
		}
	}
	return out
}

// PruneMirrors deletes from the mirror store what o selects, then the blobs
// nothing references any more, under the store's lock: the process serving
// the store is asked to let go first, and takes it again on its next pull.
func PruneMirrors(ctx context.Context, storeDir string, o PruneOptions) (*PruneResult, error) {
	if !o.All && o.OlderThan <= 0 {
		return nil, errors.New("prune needs --all or a positive --older-than")
	}
	if err := os.MkdirAll(storeDir, 0o700); err != nil {
		return nil, err
	}
	var lock *lockfile.Lock
	if !o.DryRun {
		l, err := takeStore(ctx, storeDir, o.LockWait)
		if err != nil {
			return nil, err
		}
		lock = l
		defer lock.Close()
	}
	ups, err := ListMirrors(storeDir)
	if err != nil {
		return nil, err
	}
	res := &PruneResult{BytesBefore: SizeOf(storeDir), DryRun: o.DryRun}
	res.Removed = SelectPrune(ups, o)
	if o.DryRun {
		res.BytesAfter = res.BytesBefore
		return res, nil
	}
	for _, u := range ups {
		if o.All {
			if err := os.RemoveAll(u.Dir); err != nil {
				return nil, err
			}
			continue
		}
		removed := false
		usage := readUsage(u.Dir)
		for _, r := range res.Removed {
			if r.Upstream != u.Upstream {
				continue
			}
			if err := os.RemoveAll(filepath.Join(u.Dir, "docker", "registry", "v2", "repositories", filepath.FromSlash(r.Repository))); err != nil {
				return nil, err
			}
			delete(usage.Repos, r.Repository)
			usage.dirty, removed = true, true
		}
		if !removed {
			continue
		}
		m := &mirrorSet{usage: map[string]*usageLog{u.Upstream: usage}}
		m.saveUsage(true)
		if err := sweep(ctx, u.Dir); err != nil {
			return nil, err
		}
	}
	res.BytesAfter = SizeOf(storeDir)
	return res, nil
}

// takeStore takes the store's lock for a prune, asking whichever agent
// holds it to let go (again, when another cluster's agent took it over
// meanwhile), for up to wait.
func takeStore(ctx context.Context, storeDir string, wait time.Duration) (*lockfile.Lock, error) {
	deadline := time.Now().Add(wait)
	// Keep the servers that let go from taking the store back meanwhile
	// (removed once the lock is ours, which then keeps them waiting).
	intent := filepath.Join(storeDir, pruneIntentFile)
	if err := writeFileAtomic(intent, []byte(strconv.Itoa(os.Getpid()))); err != nil {
		return nil, fmt.Errorf("the mirror store %s: %w", storeDir, err)
	}
	defer os.Remove(intent)
	for {
		AskRelease(ctx, storeDir)
		step := min(time.Until(deadline), 2*time.Second)
		l, err := lockfile.Acquire(ctx, filepath.Join(storeDir, LockFile), "devcluster mirror prune", max(step, 0))
		if err == nil {
			return l, nil
		}
		if !errors.Is(err, lockfile.ErrLocked) || !time.Now().Before(deadline) {
			return nil, fmt.Errorf("the mirror store %s is in use: %w", storeDir, err)
		}
	}
}

// sweep deletes the blobs of dir's storage that nothing references.
func sweep(ctx context.Context, dir string) error {
	if _, err := os.Stat(filepath.Join(dir, "docker", "registry", "v2", "repositories")); err != nil {
		return nil
	}
	disk, reg, err := openStorage(ctx, dir)
	if err != nil {
		return err
	}
	return storage.MarkAndSweep(ctx, disk, reg, storage.GCOpts{Quiet: true})
}
