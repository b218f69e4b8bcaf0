package registry

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/devcluster/devcluster/internal/lockfile"
)

// LockFile is the lock file inside a registry data directory. Every process
// that serves or collects the storage (the agent, `registry serve`,
// `registry gc`, `down --purge`) holds an exclusive flock on it, so no two of
// them ever use the same directory at once: Distribution's garbage collector
// deletes blobs that a concurrent push has uploaded but not yet linked.
const LockFile = ".devcluster.lock"

// MarkerFile marks a data directory that devcluster itself created; only a
// marked directory is ever deleted by `down --purge`.
const MarkerFile = ".devcluster-registry"

// How processes name themselves in the lock: `devcluster registry serve`,
// and a garbage collection.
const (
	ServeHolder = "devcluster registry serve"
	gcHolder    = "devcluster registry gc"
)

// secretFile keeps the HTTP secret that signs upload state (see
// httpSecret).
const secretFile = ".http-secret"

// ErrLocked is matched (errors.Is) when another process holds a data
// directory; the error names the holder.
var ErrLocked = lockfile.ErrLocked

// LockDir takes the exclusive lock of the data directory dir (which must
// exist), waiting up to wait for a holder to release it (0: do not wait).
// what describes the caller for the message another process gets.
func LockDir(ctx context.Context, dir, what string, wait time.Duration) (*lockfile.Lock, error) {
	return lockDir(ctx, dir, what, wait, nil)
}

// lockDir is LockDir waiting only for a holder waitFor accepts (see
// lockfile.AcquireFor).
func lockDir(ctx context.Context, dir, what string, wait time.Duration, waitFor func(pid int, what string) bool) (*lockfile.Lock, error) {
	l, err := lockfile.AcquireFor(ctx, filepath.Join(dir, LockFile), what, wait, waitFor)
	var le *lockfile.LockedError
	if errors.As(err, &le) {
		who := le.Holder
		if who == "" {
			who = "another process"
		}
		return nil, fmt.Errorf("the registry data directory %s is in use by %s; only one registry or garbage collection may use it at a time: %w", dir, who, ErrLocked)
	}
	return l, err
}

// PrepareDataDir creates dir (0700) when it does not exist and marks it as
// devcluster's own. An existing empty directory is marked too; an existing
// directory with other content is used as it is but not marked, so `down
// --purge` never deletes it.
func PrepareDataDir(dir string) error {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("creating the registry data directory: %w", err)
		}
	case err != nil:
		return fmt.Errorf("reading the registry data directory: %w", err)
	default:
		for _, e := range entries {
			switch e.Name() {
			case MarkerFile, LockFile, secretFile:
			default:
				return nil
			}
		}
	}
	if _, err := os.Stat(filepath.Join(dir, MarkerFile)); err == nil {
		return nil
	}
	return os.WriteFile(filepath.Join(dir, MarkerFile),
		[]byte("This directory is the storage of a devcluster registry; `devcluster down --purge` may delete it.\n"), 0o600)
}

// OwnedDataDir reports whether dir is a registry data directory devcluster
// created: it carries the marker, and holds nothing but Distribution's
// storage (docker/registry/v2) and devcluster's own files. The error says
// why not.
func OwnedDataDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	marked := false
	for _, e := range entries {
		switch e.Name() {
		case MarkerFile:
			marked = true
		case LockFile, secretFile:
		case "docker":
			if fi, err := os.Stat(filepath.Join(dir, "docker", "registry", "v2")); err != nil || !fi.IsDir() {
				return fmt.Errorf("%s/docker does not look like registry storage (no docker/registry/v2)", dir)
			}
			sub, _ := os.ReadDir(filepath.Join(dir, "docker"))
			if len(sub) != 1 {
				return fmt.Errorf("%s/docker holds more than registry storage", dir)
			}
		default:
			return fmt.Errorf("%s holds %q, which is not registry storage", dir, e.Name())
		}
	}
	if !marked {
		return fmt.Errorf("%s has no %s marker: devcluster did not create it: %w", dir, MarkerFile, ErrNotMarked)
	}
	return nil
}

// ErrNotMarked is matched when a directory lacks devcluster's marker.
var ErrNotMarked = errors.New("not marked as devcluster's")
