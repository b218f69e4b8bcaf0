package app

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/devcluster/devcluster/bootstrap"
)

// `registry gc --dry-run` lists what a collection would delete, with sizes
// and their total (it used to compare the storage's size before and after a
// run that deletes nothing: always 0 B); -o json carries the list; the real
// run lists what it deleted and frees that total.
func TestRegistryGCDryRunListsWhatItWouldDelete(t *testing.T) {
	h := newHarness(t)
	h.writeConfig("  clusterAddress: 127.0.0.1\n")
	if code := h.run("up"); code != 0 {
		t.Fatalf("up: %d %s", code, h.stderr.String())
	}
	host := fmt.Sprintf("127.0.0.1:%d", h.port)
	ref, err := name.ParseReference(host+"/app:v1", name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	old, _ := random.Image(2048, 2)
	cur, _ := random.Image(1024, 1)
	// Re-tagging app:v1 leaves the old manifest untagged.
	for _, img := range []v1.Image{old, cur} {
		if err := remote.Write(ref, img); err != nil {
			t.Fatal(err)
		}
	}
	orphan, _ := random.Layer(4096, "application/vnd.oci.image.layer.v1.tar")
	if err := remote.WriteLayer(ref.Context(), orphan); err != nil {
		t.Fatal(err)
	}
	oldDigest, _ := old.Digest()
	orphanDigest, _ := orphan.Digest()

	if code := h.run("registry", "gc", "--dry-run", "--delete-untagged", "-o", "json"); code != 0 {
		t.Fatalf("gc --dry-run: %d %s", code, h.stderr.String())
	}
	var dry bootstrap.GCResult
	if err := json.Unmarshal(h.stdout.Bytes(), &dry); err != nil {
		t.Fatalf("%v\n%s", err, h.stdout.String())
	}
	if !dry.DryRun || len(dry.Manifests) != 1 || dry.Manifests[0].Repository != "app" || dry.Manifests[0].Digest != oldDigest.String() ||
		len(dry.Blobs) != 4 || dry.Bytes < 4096+2*2048 || dry.BytesAfter != dry.BytesBefore {
		t.Errorf("dry run: %s", h.stdout.String())
	}
	if !strings.Contains(h.stdout.String(), orphanDigest.String()) {
		t.Errorf("the orphan blob is not listed: %s", h.stdout.String())
	}
	if code := h.run("registry", "gc", "--dry-run", "--delete-untagged"); code != 0 {
		t.Fatalf("gc --dry-run: %d %s", code, h.stderr.String())
	}
	for _, want := range []string{"Would delete 1 manifest and 4 blobs, " + bootstrap.HumanBytes(dry.Bytes) + ":", "manifest  app@" + oldDigest.String(),
		"blob      " + orphanDigest.String(), "nothing was deleted (dry run)"} {
		if !strings.Contains(h.stdout.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, h.stdout.String())
		}
	}
	if !strings.Contains(h.stderr.String(), "would free "+bootstrap.HumanBytes(dry.Bytes)+": 1 manifest and 4 blobs") {
		t.Errorf("progress:\n%s", h.stderr.String())
	}

	if code := h.run("registry", "gc", "--delete-untagged", "-o", "json"); code != 0 {
		t.Fatalf("gc: %d %s", code, h.stderr.String())
	}
	var res bootstrap.GCResult
	if err := json.Unmarshal(h.stdout.Bytes(), &res); err != nil {
		t.Fatalf("%v\n%s", err, h.stdout.String())
	}
	if res.DryRun || res.Bytes != dry.Bytes || res.BytesBefore-res.BytesAfter != dry.Bytes || len(res.Manifests) != 1 || len(res.Blobs) != 4 {
		t.Errorf("gc freed %d, reports %d; the dry run said %d:\n%s", res.BytesBefore-res.BytesAfter, res.Bytes, dry.Bytes, h.stdout.String())
	}
	if code := h.run("registry", "gc", "--delete-untagged"); code != 0 || !strings.Contains(h.stdout.String(), "Nothing to delete.") {
		t.Errorf("second gc: %d\n%s", code, h.stdout.String())
	}
}
