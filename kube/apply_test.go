package kube

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/devcluster/devcluster/internal/fake/kubeapi"
)

// sparseFile makes a file of size bytes that takes no room.
func sparseFile(t *testing.T, path string, size int64) string {
	t.Helper()
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, size); err != nil {
		t.Fatal(err)
	}
	return path
}

// allocatedBy is how many bytes f allocates.
func allocatedBy(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// A manifest larger than the limit is refused by its size, unread.
func TestLoadManifestsRefusesAHugeFileUnread(t *testing.T) {
	huge := sparseFile(t, filepath.Join(t.TempDir(), "huge.yaml"), 768<<20)
	var err error
	if alloc := allocatedBy(func() { _, err = LoadManifests([]string{huge}) }); alloc > 4<<20 {
		t.Errorf("refusing a 768 MiB manifest allocated %d MiB", alloc>>20)
	}
	if err == nil || !strings.Contains(err.Error(), "larger than 32 MiB") {
		t.Errorf("a 768 MiB manifest: %v", err)
	}
}

// Fields devcluster wrote with an update (an --image patch, a rollback)
// are its own to apply again; another manager's are a conflict.
func TestApplyTakesDevclustersOwnUpdatedFields(t *testing.T) {
	ctx := context.Background()
	api := kubeapi.New(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "apps"}})
	a := &Applier{Dynamic: api.Dynamic, Mapper: api.Mapper}
	objs, err := DecodeManifests("cm.yaml", []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg, namespace: apps}\ndata: {k: v1}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Apply(ctx, objs, ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	update := func(manager, value string) {
		t.Helper()
		cm, err := api.Clientset.CoreV1().ConfigMaps("apps").Get(ctx, "cfg", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		cm.Data["k"] = value
		if _, err := api.Clientset.CoreV1().ConfigMaps("apps").Update(ctx, cm, metav1.UpdateOptions{FieldManager: manager}); err != nil {
			t.Fatal(err)
		}
	}
	update(FieldManager, "rolled back")
	for _, dry := range []bool{true, false} {
		if _, err := a.Apply(ctx, objs, ApplyOptions{DryRunOnly: dry}); err != nil {
			t.Errorf("applying again after devcluster's own update (dry run %v): %v", dry, err)
		}
	}
	if cm, _ := api.Clientset.CoreV1().ConfigMaps("apps").Get(ctx, "cfg", metav1.GetOptions{}); cm.Data["k"] != "v1" {
		t.Errorf("data after the apply: %v", cm.Data)
	}
	update("colleague", "theirs")
	if _, err := a.Apply(ctx, objs, ApplyOptions{}); err == nil || !strings.Contains(err.Error(), `conflict with "colleague"`) {
		t.Errorf("applying over another manager's field: %v", err)
	}
}

// Files under the limit each but over it together are refused unread.
func TestLoadManifestsBoundsTheirTotal(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"a.yaml", "b.yaml", "c.yaml"} {
		sparseFile(t, filepath.Join(dir, n), 30<<20)
	}
	var err error
	if alloc := allocatedBy(func() { _, err = LoadManifests([]string{dir}) }); alloc > 4<<20 {
		t.Errorf("refusing 90 MiB of manifests allocated %d MiB", alloc>>20)
	}
	if err == nil || !strings.Contains(err.Error(), "more than 64 MiB together") {
		t.Errorf("90 MiB of manifests: %v", err)
	}
}
