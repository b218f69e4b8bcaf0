package registry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/distribution/distribution/v3/registry/storage"
	"github.com/distribution/distribution/v3/registry/storage/driver/factory"
)

// GCResult reports a garbage collection.
type GCResult struct {
	BytesBefore int64 `json:"bytesBefore"`
	BytesAfter  int64 `json:"bytesAfter"`
	DryRun      bool  `json:"dryRun"`
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
	lock, err := LockDir(ctx, dataDir, "devcluster registry gc", o.LockWait)
	if err != nil {
		return nil, err
	}
	defer lock.Close()
	setLogging(o.Log, false)
	removeUntagged, dryRun := o.RemoveUntagged, o.DryRun
	res := &GCResult{BytesBefore: SizeOf(dataDir), DryRun: dryRun}
	if _, err := os.Stat(filepath.Join(dataDir, "docker", "registry", "v2", "repositories")); errors.Is(err, os.ErrNotExist) {
		// Nothing was ever pushed: nothing to collect.
		res.BytesAfter = res.BytesBefore
		return res, nil
	}
	driver, err := factory.Create(ctx, "filesystem", map[string]any{"rootdirectory": dataDir})
	if err != nil {
		return nil, fmt.Errorf("opening registry storage %s: %w", dataDir, err)
	}
	reg, err := storage.NewRegistry(ctx, driver, storage.EnableDelete)
	if err != nil {
		return nil, fmt.Errorf("opening registry storage %s: %w", dataDir, err)
	}
	if err := storage.MarkAndSweep(ctx, driver, reg, storage.GCOpts{DryRun: dryRun, RemoveUntagged: removeUntagged, Quiet: true}); err != nil {
		return nil, fmt.Errorf("garbage collecting %s: %w", dataDir, err)
	}
	res.BytesAfter = SizeOf(dataDir)
	return res, nil
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
