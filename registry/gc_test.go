package registry

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// files lists every regular file below dir with its size.
func files(t *testing.T, dir string) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			fi, err := d.Info()
			if err != nil {
				return err
			}
			out[p] = fi.Size()
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// blobsOf are the digests and sizes of an image's config and layers.
func blobsOf(t *testing.T, img v1.Image) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	cfg, _ := img.ConfigName()
	raw, _ := img.RawConfigFile()
	out[cfg.String()] = int64(len(raw))
	layers, _ := img.Layers()
	for _, l := range layers {
		d, _ := l.Digest()
		n, _ := l.Size()
		out[d.String()] = n
	}
	return out
}

// A dry run lists exactly what a collection deletes — the untagged
// manifest (with --delete-untagged) and the blobs nothing references, each
// with its size — and deletes nothing; the real run then deletes the same
// list and frees exactly its total.
func TestGCListsWhatItDeletes(t *testing.T) {
	dir := t.TempDir()
	_, host, stop := startStoppable(t, dir)
	old, _ := random.Image(2048, 2)
	if err := remote.Write(mustRef(t, host+"/app:v1"), old); err != nil {
		t.Fatal(err)
	}
	// Re-tagging app:v1 leaves the old manifest untagged.
	cur, _ := random.Image(1024, 1)
	if err := remote.Write(mustRef(t, host+"/app:v1"), cur); err != nil {
		t.Fatal(err)
	}
	// A layer uploaded by a push that never wrote its manifest.
	orphan, _ := random.Layer(4096, "application/vnd.oci.image.layer.v1.tar")
	repo := mustRef(t, host+"/app:v1").Context()
	if err := remote.WriteLayer(repo, orphan); err != nil {
		t.Fatal(err)
	}
	stop()
	oldDigest, _ := old.Digest()
	rawOld, _ := old.RawManifest()
	orphanDigest, _ := orphan.Digest()
	orphanSize, _ := orphan.Size()

	for _, untagged := range []bool{false, true} {
		wantBlobs := map[string]int64{orphanDigest.String(): orphanSize}
		var wantManifests []string
		if untagged {
			for d, n := range blobsOf(t, old) {
				wantBlobs[d] = n
			}
			wantManifests = []string{"app@" + oldDigest.String()}
		}
		storage := filepath.Join(dir, "docker")
		before := files(t, storage)
		dry, err := GarbageCollect(context.Background(), dir, GCOptions{DryRun: true, RemoveUntagged: untagged})
		if err != nil {
			t.Fatal(err)
		}
		if after := files(t, storage); !maps.Equal(after, before) {
			t.Fatalf("the dry run changed the storage: %d files before, %d after", len(before), len(after))
		}
		if !dry.DryRun || dry.BytesAfter != dry.BytesBefore {
			t.Errorf("dry run: %+v", dry)
		}
		var gotManifests []string
		var total int64
		for _, m := range dry.Manifests {
			gotManifests = append(gotManifests, m.Repository+"@"+m.Digest)
			if m.Size < int64(len(rawOld)) {
				t.Errorf("manifest %s: size %d, less than its %d bytes", m.Digest, m.Size, len(rawOld))
			}
			total += m.Size
		}
		if !slices.Equal(gotManifests, wantManifests) {
			t.Errorf("untagged %v: manifests %q, want %q", untagged, gotManifests, wantManifests)
		}
		got := map[string]int64{}
		for _, b := range dry.Blobs {
			got[b.Digest] = b.Size
			total += b.Size
		}
		for d, n := range wantBlobs {
			if got[d] < n {
				t.Errorf("untagged %v: blob %s listed with %d bytes, want at least its %d", untagged, d, got[d], n)
			}
		}
		if len(got) != len(wantBlobs) {
			t.Errorf("untagged %v: blobs %v, want %v", untagged, got, wantBlobs)
		}
		if total != dry.Bytes || dry.Bytes == 0 {
			t.Errorf("untagged %v: total %d, the items add up to %d", untagged, dry.Bytes, total)
		}
		if !untagged {
			continue
		}
		real, err := GarbageCollect(context.Background(), dir, GCOptions{RemoveUntagged: true})
		if err != nil {
			t.Fatal(err)
		}
		if freed := real.BytesBefore - real.BytesAfter; freed != dry.Bytes || real.Bytes != dry.Bytes {
			t.Errorf("the collection freed %d bytes and reports %d; the dry run announced %d", freed, real.Bytes, dry.Bytes)
		}
		if !slices.Equal(real.Manifests, dry.Manifests) ||
			!slices.Equal(real.Blobs, dry.Blobs) {
			t.Errorf("deleted %+v %+v, the dry run listed %+v %+v", real.Manifests, real.Blobs, dry.Manifests, dry.Blobs)
		}
		for p := range files(t, dir) {
			if strings.Contains(p, strings.TrimPrefix(orphanDigest.String(), "sha256:")) {
				t.Errorf("left: %s", p)
			}
		}
		// The image app:v1 still pulls.
		_, host, stop = startStoppable(t, dir)
		if _, err := remote.Image(mustRef(t, host+"/app:v1")); err != nil {
			t.Errorf("app:v1 after gc: %v", err)
		}
		stop()
		again, err := GarbageCollect(context.Background(), dir, GCOptions{DryRun: true, RemoveUntagged: true})
		if err != nil || len(again.Manifests)+len(again.Blobs) != 0 || again.Bytes != 0 {
			t.Errorf("after the collection a dry run still lists %+v (%v)", again, err)
		}
	}
}

// gc waits only for the holder it was told to wait for (the agent it
// stopped); beside any other it refuses at once, naming it.
func TestGCWaitsOnlyForTheHolderItExpects(t *testing.T) {
	dir := t.TempDir()
	s, err := New(context.Background(), Options{DataDir: dir, Listen: []string{"127.0.0.1:0"}, Holder: ServeHolder})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	start := time.Now()
	_, err = GarbageCollect(context.Background(), dir, GCOptions{LockWait: 10 * time.Second, WaitFor: func(pid int) bool { return pid == -1 }})
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), fmt.Sprintf("pid %d (%s)", os.Getpid(), ServeHolder)) {
		t.Fatalf("gc beside registry serve: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("gc waited %s before refusing", d)
	}
	// The holder it waits for: it runs once that one lets go.
	go func() { time.Sleep(300 * time.Millisecond); s.Close() }()
	if _, err := GarbageCollect(context.Background(), dir, GCOptions{LockWait: 10 * time.Second, WaitFor: func(pid int) bool { return pid == os.Getpid() }}); err != nil {
		t.Fatalf("gc did not wait for the holder it expects: %v", err)
	}
}

// A server (the agent) started while the storage is held waits only for a
// garbage collection to end; beside a `registry serve` it refuses at once.
func TestServerWaitsOnlyForAGarbageCollection(t *testing.T) {
	dir := t.TempDir()
	serve, err := New(context.Background(), Options{DataDir: dir, Listen: []string{"127.0.0.1:0"}, Holder: ServeHolder})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = New(context.Background(), Options{DataDir: dir, Listen: []string{"127.0.0.1:0"}, LockWait: 10 * time.Second})
	if !errors.Is(err, ErrLocked) || time.Since(start) > 2*time.Second {
		t.Fatalf("beside registry serve: %v after %s", err, time.Since(start))
	}
	serve.Close()
	gc, err := LockDir(context.Background(), dir, gcHolder, 0)
	if err != nil {
		t.Fatal(err)
	}
	go func() { time.Sleep(300 * time.Millisecond); _ = gc.Close() }()
	s, err := New(context.Background(), Options{DataDir: dir, Listen: []string{"127.0.0.1:0"}, LockWait: 10 * time.Second})
	if err != nil {
		t.Fatalf("the server did not wait for the collection: %v", err)
	}
	s.Close()
}
