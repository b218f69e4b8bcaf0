// Package lockfile is an exclusive, advisory lock on a file (flock on Unix,
// LockFileEx on Windows), held by one process at a time and released by the
// kernel when that process dies,
// so a crash never leaves a stale lock. The holder writes who it is into the
// file, so a second process can say what it waits for.
package lockfile

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/devcluster/devcluster/internal/proc"
)

// ErrLocked is matched (errors.Is) by a *LockedError.
var ErrLocked = errors.New("locked by another process")

// LockedError says that another process holds the lock.
type LockedError struct {
	Path string
	// Holder is what the holder wrote: "pid 123 (devcluster registry
	// serve)"; empty when unknown.
	Holder string
	// PID is the holder's process, 0 when unknown.
	PID int
}

func (e *LockedError) Error() string {
	who := "another process"
	if e.Holder != "" {
		who = e.Holder
	}
	return fmt.Sprintf("%s is locked by %s", e.Path, who)
}

// Is makes errors.Is(err, ErrLocked) true.
func (e *LockedError) Is(target error) bool { return target == ErrLocked }

// Lock is a held lock; Close releases it.
type Lock struct{ f *os.File }

// Acquire takes the exclusive lock of path (created 0600 if missing),
// waiting up to wait for a holder to release it (0: do not wait). what
// describes the caller for the message another process gets.
func Acquire(ctx context.Context, path, what string, wait time.Duration) (*Lock, error) {
	return AcquireFor(ctx, path, what, wait, nil)
}

// AcquireFor is Acquire waiting only for a holder that waitFor accepts, by
// its PID and what it says it is (the what it locked with): a holder it
// refuses (a server, which will not let go) makes it return the
// *LockedError at once. A holder that has not written itself into the file
// yet is waited for. A nil waitFor waits for any holder.
func AcquireFor(ctx context.Context, path, what string, wait time.Duration, waitFor func(pid int, what string) bool) (*Lock, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening lock file: %w", err)
	}
	deadline := time.Now().Add(wait)
	for {
		busy, err := tryLock(f)
		if err != nil {
			_ = f.Close()
			return nil, fmt.Errorf("locking %s: %w", path, err)
		}
		if !busy {
			break
		}
		if h, pid, who := holder(path); !time.Now().Before(deadline) || (waitFor != nil && pid != 0 && !waitFor(pid, who)) {
			_ = f.Close()
			return nil, &LockedError{Path: path, Holder: h, PID: pid}
		}
		select {
		case <-ctx.Done():
			_ = f.Close()
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(fmt.Sprintf("pid %d (%s)\n", os.Getpid(), what)), 0)
	}
	return &Lock{f: f}, nil
}

// holder returns the holder line of a lock file whose PID still exists,
// "pid 123 (devcluster registry serve)", that PID and what it said it is.
func holder(path string) (line string, pid int, what string) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", 0, ""
	}
	line = strings.TrimSpace(string(b))
	f := strings.Fields(line)
	if len(f) < 2 || f[0] != "pid" {
		return "", 0, ""
	}
	pid, err = strconv.Atoi(f[1])
	if err != nil || pid <= 0 {
		return "", 0, ""
	}
	if !proc.Exists(pid) {
		return "", 0, ""
	}
	_, rest, _ := strings.Cut(line, "(")
	return line, pid, strings.TrimSuffix(rest, ")")
}

// Close releases the lock. The file stays: removing it would let two
// processes lock different inodes of the same name.
func (l *Lock) Close() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}
