package kube

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// A manifest larger than the limit is refused by its size, unread.
func TestLoadManifestsRefusesAHugeFileUnread(t *testing.T) {
	huge := filepath.Join(t.TempDir(), "huge.yaml")
	if err := os.WriteFile(huge, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(huge, 768<<20); err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err := LoadManifests([]string{huge})
	runtime.ReadMemStats(&after)
	if err == nil || !strings.Contains(err.Error(), "larger than 32 MiB") {
		t.Errorf("a 768 MiB manifest: %v", err)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 4<<20 {
		t.Errorf("refusing a 768 MiB manifest allocated %d MiB", alloc>>20)
	}
}
