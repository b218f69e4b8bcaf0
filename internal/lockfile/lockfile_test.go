package lockfile

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestAcquireIsExclusiveAndNamesItsHolder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lock")
	l, err := Acquire(context.Background(), path, "first", 0)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = Acquire(context.Background(), path, "second", 200*time.Millisecond)
	var le *LockedError
	if !errors.As(err, &le) || !errors.Is(err, ErrLocked) {
		t.Fatalf("second Acquire = %v, want a *LockedError", err)
	}
	if d := time.Since(start); d < 150*time.Millisecond || d > 5*time.Second {
		t.Errorf("second Acquire waited %v, want about 200ms", d)
	}
	if le.PID != os.Getpid() || !strings.Contains(le.Holder, "(first)") || !strings.Contains(err.Error(), "pid "+strconv.Itoa(os.Getpid())) {
		t.Errorf("LockedError = %+v (%v)", le, err)
	}
	// A waitFor that refuses the holder: no wait at all.
	start = time.Now()
	_, err = AcquireFor(context.Background(), path, "third", 10*time.Second, func(int, string) bool { return false })
	if !errors.Is(err, ErrLocked) || time.Since(start) > 2*time.Second {
		t.Errorf("AcquireFor refusing the holder = %v after %v", err, time.Since(start))
	}
	// Cancelled while waiting.
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := Acquire(ctx, path, "fourth", time.Minute); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Acquire with a cancelled context = %v", err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l2, err := Acquire(context.Background(), path, "after", 0)
	if err != nil {
		t.Fatalf("Acquire after Close: %v", err)
	}
	_ = l2.Close()
	if err := (*Lock)(nil).Close(); err != nil {
		t.Error(err)
	}
}

func TestHolderOfAGoneProcessIsUnknown(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lock")
	// The largest PID no system hands out.
	if err := os.WriteFile(path, []byte("pid 2147483646 (ghost)\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if line, pid, _ := holder(path); line != "" || pid != 0 {
		t.Errorf("holder = %q, %d; want nothing for a PID that does not exist", line, pid)
	}
	if err := os.WriteFile(path, []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if line, pid, _ := holder(path); line != "" || pid != 0 {
		t.Errorf("holder of garbage = %q, %d", line, pid)
	}
}
