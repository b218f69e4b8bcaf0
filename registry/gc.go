package registry

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/distribution/distribution/v3"
	"github.com/distribution/distribution/v3/registry/storage"
	"github.com/distribution/distribution/v3/registry/storage/driver"
	"github.com/distribution/distribution/v3/registry/storage/driver/factory"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// GCResult reports a garbage collection: what it deleted (in a dry run,
// what it would delete), with sizes.
type GCResult struct {
	// BytesBefore and BytesAfter are the storage's size on disk; a dry run
	// leaves it as it was.
	BytesBefore int64 `json:"bytesBefore"`
	BytesAfter  int64 `json:"bytesAfter"`
	DryRun      bool  `json:"dryRun"`
	// Manifests are the manifests deleted (only with RemoveUntagged: those
	// no tag points to), sorted by repository and digest.
	Manifests []DeletedManifest `json:"manifests"`
	// Blobs are the blobs (layers, configs) nothing references any more,
	// sorted by digest.
	Blobs []DeletedBlob `json:"blobs"`
	// Bytes is the size of everything listed: what the collection frees
	// (would free) on disk.
	Bytes int64 `json:"bytes"`
}

// DeletedManifest is a manifest a collection deletes.
type DeletedManifest struct {
	Repository string `json:"repository"`
	Digest     string `json:"digest"`
	// Size is what deleting it frees: the manifest itself and its links.
	Size int64 `json:"size"`
}

// DeletedBlob is a blob a collection deletes.
type DeletedBlob struct {
	Digest string `json:"digest"`
	// Size is what deleting it frees: its content and the repositories'
	// links to it.
	Size int64 `json:"size"`
}

// GCOptions configure GarbageCollect.
type GCOptions struct {
	// RemoveUntagged also deletes manifests no tag references.
	RemoveUntagged bool
	// DryRun only reports.
	DryRun bool
	// LockWait bounds the wait for another holder of the data directory
	// (a stopping agent) to let go; after it gc refuses.
	LockWait time.Duration
	// WaitFor says which holder, by its PID, is worth waiting for (the
	// agent that was stopped); gc refuses at once beside any other, such
	// as a `registry serve`. Nil waits for any holder.
	WaitFor func(pid int) bool
	// Log receives Distribution's log lines; nil discards them.
	Log io.Writer
}

// GarbageCollect deletes blobs no manifest references (and, with
// RemoveUntagged, manifests no tag references) from the storage in dataDir.
// Distribution's collector is stop-the-world: it holds the data directory's
// lock while it runs, so no registry serves the directory meanwhile, and it
// refuses (ErrLocked, naming the holder) when one does.
func GarbageCollect(ctx context.Context, dataDir string, o GCOptions) (*GCResult, error) {
	if fi, err := os.Stat(dataDir); err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("no registry storage at %s", dataDir)
	}
	var waitFor func(int, string) bool
	if o.WaitFor != nil {
		waitFor = func(pid int, _ string) bool { return o.WaitFor(pid) }
	}
	lock, err := lockDir(ctx, dataDir, gcHolder, o.LockWait, waitFor)
	if err != nil {
		return nil, err
	}
	defer lock.Close()
	setLogging(o.Log, false)
	res := &GCResult{BytesBefore: SizeOf(dataDir), DryRun: o.DryRun, Manifests: []DeletedManifest{}, Blobs: []DeletedBlob{}}
	if _, err := os.Stat(filepath.Join(dataDir, "docker", "registry", "v2", "repositories")); errors.Is(err, os.ErrNotExist) {
		// Nothing was ever pushed: nothing to collect.
		res.BytesAfter = res.BytesBefore
		return res, nil
	}
	disk, reg, err := openStorage(ctx, dataDir)
	if err != nil {
		return nil, err
	}
	// Distribution decides what goes; its sweep deletes through rec, which
	// notes every path with its size first, and in a dry run deletes
	// nothing. Its own dry run would only print to stdout.
	rec := &recordingDriver{StorageDriver: disk, dryRun: o.DryRun}
	if err := storage.MarkAndSweep(ctx, rec, reg, storage.GCOpts{RemoveUntagged: o.RemoveUntagged, Quiet: true}); err != nil {
		return nil, fmt.Errorf("garbage collecting %s: %w", dataDir, err)
	}
	res.Manifests, res.Blobs, res.Bytes = rec.report()
	res.BytesAfter = SizeOf(dataDir)
	return res, nil
}

// openStorage opens the filesystem storage in dir, deletes enabled.
func openStorage(ctx context.Context, dir string) (driver.StorageDriver, distribution.Namespace, error) {
	disk, err := factory.Create(ctx, "filesystem", map[string]any{"rootdirectory": dir})
	if err != nil {
		return nil, nil, fmt.Errorf("opening registry storage %s: %w", dir, err)
	}
	reg, err := storage.NewRegistry(ctx, disk, storage.EnableDelete)
	if err != nil {
		return nil, nil, fmt.Errorf("opening registry storage %s: %w", dir, err)
	}
	return disk, reg, nil
}

// recordingDriver is the storage as the collector's sweep sees it: Delete
// notes what a path holds before deleting it, or instead of deleting it in
// a dry run, where every other write is refused too.
type recordingDriver struct {
	driver.StorageDriver
	dryRun  bool
	deleted []deletedPath
}

type deletedPath struct {
	path string
	size int64
}

var errDryRun = errors.New("a dry run of the garbage collection writes nothing")

func (r *recordingDriver) Delete(ctx context.Context, path string) error {
	size, err := r.sizeOf(ctx, path)
	if err != nil {
		return err
	}
	if !r.dryRun {
		if err := r.StorageDriver.Delete(ctx, path); err != nil {
			return err
		}
	}
	r.deleted = append(r.deleted, deletedPath{path, size})
	return nil
}

func (r *recordingDriver) PutContent(ctx context.Context, path string, content []byte) error {
	if r.dryRun {
		return errDryRun
	}
	return r.StorageDriver.PutContent(ctx, path, content)
}

func (r *recordingDriver) Writer(ctx context.Context, path string, append bool) (driver.FileWriter, error) {
	if r.dryRun {
		return nil, errDryRun
	}
	return r.StorageDriver.Writer(ctx, path, append)
}

func (r *recordingDriver) Move(ctx context.Context, from, to string) error {
	if r.dryRun {
		return errDryRun
	}
	return r.StorageDriver.Move(ctx, from, to)
}

// sizeOf sums the files at or below path.
func (r *recordingDriver) sizeOf(ctx context.Context, path string) (int64, error) {
	fi, err := r.Stat(ctx, path)
	if err != nil {
		return 0, err
	}
	if !fi.IsDir() {
		return fi.Size(), nil
	}
	var n int64
	err = r.Walk(ctx, path, func(fi driver.FileInfo) error {
		if !fi.IsDir() {
			n += fi.Size()
		}
		return nil
	})
	return n, err
}

// Paths of Distribution's storage layout (registry/storage/paths.go).
const (
	blobsRoot = "/docker/registry/v2/blobs/"
	reposRoot = "/docker/registry/v2/repositories/"
)

// report turns the deleted paths into manifests and blobs, each with the
// size of everything deleted for it: a manifest's revision and tag-history
// links and its own blob; a blob's content and its layer links.
func (r *recordingDriver) report() ([]DeletedManifest, []DeletedBlob, int64) {
	manifests := map[[2]string]int64{}
	blobs := map[string]int64{}
	var total int64
	for _, d := range r.deleted {
		total += d.size
		switch repo, rest, kind := splitRepoPath(d.path); kind {
		case "_manifests":
			// revisions/<alg>/<hex> or tags/<tag>/index/<alg>/<hex>
			if dg := digestAt(rest); dg != "" {
				manifests[[2]string{repo, dg}] += d.size
				continue
			}
		case "_layers":
			// <alg>/<hex>/link
			if dg := digestAt(strings.TrimSuffix(rest, "/link")); dg != "" {
				blobs[dg] += d.size
				continue
			}
		default:
			// <alg>/<first two hex digits>/<hex>
			if parts := strings.Split(strings.TrimPrefix(d.path, blobsRoot), "/"); strings.HasPrefix(d.path, blobsRoot) && len(parts) == 3 {
				if dg := digestAt(parts[0] + "/" + parts[2]); dg != "" {
					blobs[dg] += d.size
					continue
				}
			}
		}
		// A path of a layout this release does not know: still counted.
		blobs[d.path] += d.size
	}
	keys := slices.SortedFunc(maps.Keys(manifests), func(a, b [2]string) int {
		return cmp.Or(cmp.Compare(a[0], b[0]), cmp.Compare(a[1], b[1]))
	})
	outM := make([]DeletedManifest, 0, len(keys))
	for _, k := range keys {
		size := manifests[k]
		// The manifest's own blob is part of the manifest.
		if n, ok := blobs[k[1]]; ok {
			size += n
			delete(blobs, k[1])
		}
		outM = append(outM, DeletedManifest{Repository: k[0], Digest: k[1], Size: size})
	}
	outB := make([]DeletedBlob, 0, len(blobs))
	for _, dg := range slices.Sorted(maps.Keys(blobs)) {
		outB = append(outB, DeletedBlob{Digest: dg, Size: blobs[dg]})
	}
	return outM, outB, total
}

// splitRepoPath splits a path below the repositories into the repository
// name (which may hold slashes), the kind of its directory (_manifests,
// _layers) and the rest.
func splitRepoPath(p string) (repo, rest, kind string) {
	tail, ok := strings.CutPrefix(p, reposRoot)
	if !ok {
		return "", "", ""
	}
	for _, k := range []string{"_manifests", "_layers"} {
		if repo, rest, ok := strings.Cut(tail, "/"+k+"/"); ok {
			return repo, rest, k
		}
	}
	return "", "", ""
}

// digestAt reads the digest at the end of a path: .../<alg>/<hex>.
func digestAt(p string) string {
	parts := strings.Split(strings.Trim(p, "/"), "/")
	if len(parts) < 2 {
		return ""
	}
	h, err := v1.NewHash(parts[len(parts)-2] + ":" + parts[len(parts)-1])
	if err != nil {
		return ""
	}
	return h.String()
}

// SizeOf sums the sizes of the regular files below dir.
func SizeOf(dir string) int64 {
	var n int64
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}
