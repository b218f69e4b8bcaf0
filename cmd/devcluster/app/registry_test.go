package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/devcluster/devcluster/bootstrap"
	"github.com/devcluster/devcluster/internal/run"
	"github.com/devcluster/devcluster/registry"
)

// randomTarball writes a `docker save` tarball of a random image of layers
// layers of size bytes each to path.
func randomTarball(t *testing.T, path string, size int64, layers int64) string {
	t.Helper()
	img, err := random.Image(size, layers)
	if err != nil {
		t.Fatal(err)
	}
	if err := tarball.WriteToFile(path, name.MustParseReference("example.com/app:dev"), img); err != nil {
		t.Fatal(err)
	}
	return path
}

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

// Without a terminal a push reports a line at each tenth, as a download of
// minikube or kind does, not one per MiB.
func TestPushProgressIsALinePerTenth(t *testing.T) {
	h := newHarness(t)
	h.writeConfig("  clusterAddress: 127.0.0.1\n")
	if code := h.run("up"); code != 0 {
		t.Fatalf("up: %d %s", code, h.stderr.String())
	}
	tarPath := randomTarball(t, filepath.Join(h.dir, "big.tar"), 8<<20, 4)
	if code := h.run("registry", "push", tarPath, "big:dev"); code != 0 {
		t.Fatalf("push: %d %s", code, h.stderr.String())
	}
	var lines []string
	for _, l := range strings.Split(h.stderr.String(), "\n") {
		if strings.Contains(l, "pushing big:dev: ") {
			lines = append(lines, l)
		}
	}
	if len(lines) < 2 || len(lines) > 11 {
		t.Errorf("%d progress lines for 32 MiB, want one per tenth:\n%s", len(lines), h.stderr.String())
	}
	if len(lines) > 0 && !strings.Contains(lines[len(lines)-1], "(100%)") {
		t.Errorf("the last line is not the end:\n%s", h.stderr.String())
	}
}

// gc refuses at once while a `registry serve` holds the storage: it only
// waits (up to 15 s) for the agent it stopped to let go.
func TestGCRefusesAtOnceBesideRegistryServe(t *testing.T) {
	h := newHarness(t)
	dataDir := filepath.Join(h.dir, ".local", "share", "devcluster", "devcluster", "registry")
	srv, err := registry.New(context.Background(), registry.Options{DataDir: dataDir, Listen: []string{"127.0.0.1:0"}, Holder: registry.ServeHolder})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	start := time.Now()
	code := h.run("registry", "gc")
	if code != ExitFailed || !strings.Contains(h.stderr.String(), "("+registry.ServeHolder+")") {
		t.Errorf("exit %d\n%s", code, h.stderr.String())
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("gc took %s to refuse", d.Round(time.Millisecond))
	}
}

// With no registry running, ls and push say so once: not
// go-containerregistry's two errors (https, then http).
func TestNoRegistryIsOneClearError(t *testing.T) {
	h := newHarness(t)
	tarPath := randomTarball(t, filepath.Join(h.dir, "app.tar"), 512, 1)
	for _, args := range [][]string{{"registry", "ls"}, {"registry", "push", tarPath, "app:dev"}} {
		code := h.run(args...)
		out := h.stderr.String()
		if code != ExitFailed || strings.Count(out, "connection refused") != 1 || strings.Contains(out, "https://") ||
			!strings.Contains(out, fmt.Sprintf("no registry answers at 127.0.0.1:%d", h.port)) {
			t.Errorf("%v: exit %d\n%s", args, code, out)
		}
	}
}

// A SRC that names a file or directory which does not exist is "no such
// file" (exit 2), not an image to look for in the Docker engine; anything
// else still is one.
func TestPushOfAMissingPathIsNoSuchFile(t *testing.T) {
	h := newHarness(t)
	if err := os.MkdirAll(filepath.Join(h.dir, "dist"), 0o755); err != nil {
		t.Fatal(err)
	}
	var docker []string
	h.runner = runFunc(func(_ context.Context, c run.Cmd) (run.Result, error) {
		if c.Name == "docker" {
			docker = append(docker, strings.Join(c.Args, " "))
			return run.Result{ExitCode: 1}, &run.Error{Argv: c.Argv(), ExitCode: 1, Err: errors.New("exit status 1"),
				Stderr: []byte("Error response from daemon: No such image: " + c.Args[len(c.Args)-1])}
		}
		return run.Result{}, &exec.Error{Name: c.Name, Err: exec.ErrNotFound}
	})
	for _, src := range []string{"nope.tar", "nope.tar.gz", "./nope", "../nope", "dist/app-oci", filepath.Join(h.dir, "missing.tar"), "~/images/app.tar"} {
		docker = nil
		code := h.run("registry", "push", src, "app:dev")
		if code != ExitUsage || !strings.Contains(h.stderr.String(), src+": no such file or directory") || len(docker) != 0 {
			t.Errorf("push %s: exit %d, docker %q\n%s", src, code, docker, h.stderr.String())
		}
	}
	for _, src := range []string{"nginx:1.27", "library/nginx", "ghcr.io/org/app:v1"} {
		docker = nil
		code := h.run("registry", "push", src, "app:dev")
		if code != ExitFailed || len(docker) != 1 || !strings.HasPrefix(docker[0], "save --platform "+bootstrap.ClusterPlatform().String()+" -o ") || !strings.Contains(h.stderr.String(), "from the Docker engine") {
			t.Errorf("push %s: exit %d, docker %q\n%s", src, code, docker, h.stderr.String())
		}
	}
}
