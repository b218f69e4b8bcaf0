package registry

import (
	"context"
	"fmt"
	"io/fs"
	"path/filepath"

	"github.com/distribution/distribution/v3/registry/storage"
	"github.com/distribution/distribution/v3/registry/storage/driver/factory"
)

// GCResult reports a garbage collection.
type GCResult struct {
	BytesBefore int64 `json:"bytesBefore"`
	BytesAfter  int64 `json:"bytesAfter"`
	DryRun      bool  `json:"dryRun"`
}

// GarbageCollect deletes blobs no manifest references (and, with
// removeUntagged, manifests no tag references) from the storage in dataDir.
// Distribution's collector is stop-the-world: the registry must not be
// serving that directory while it runs.
func GarbageCollect(ctx context.Context, dataDir string, removeUntagged, dryRun bool) (*GCResult, error) {
	res := &GCResult{BytesBefore: SizeOf(dataDir), DryRun: dryRun}
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
