package app

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/devcluster/devcluster/bootstrap"
	"github.com/devcluster/devcluster/internal/run"
	"github.com/devcluster/devcluster/registry"
)

// servedRegistry is a registry on a loopback port, for --address.
func servedRegistry(t *testing.T) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := registry.New(ctx, registry.Options{DataDir: t.TempDir(), Listen: []string{"127.0.0.1:0"}})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(ctx) }()
	t.Cleanup(func() { cancel(); <-done; srv.Close() })
	return srv.Addrs()[0]
}

// platformImage is a random image whose configuration names p.
func platformImage(t *testing.T, p v1.Platform) v1.Image {
	t.Helper()
	img, err := random.Image(1024, 1)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cfg = cfg.DeepCopy()
	cfg.OS, cfg.Architecture, cfg.Variant = p.OS, p.Architecture, p.Variant
	if img, err = mutate.ConfigFile(img, cfg); err != nil {
		t.Fatal(err)
	}
	return img
}

// A multi-platform image (an OCI layout of an index, as `docker buildx
// build --output type=oci` writes) is pushed as the platform the cluster
// runs, another with --platform, all of it with --platform all; a platform
// it lacks is named with those it has (exit 2).
func TestPushOfAMultiPlatformImage(t *testing.T) {
	h := newHarness(t)
	addr := servedRegistry(t)
	cluster := bootstrap.ClusterPlatform()
	other := v1.Platform{OS: "linux", Architecture: "arm64"}
	if cluster.Architecture == "arm64" {
		other = v1.Platform{OS: "linux", Architecture: "amd64"}
	}
	dir := filepath.Join(h.dir, "multi")
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	images := map[string]v1.Image{}
	for _, pl := range []v1.Platform{other, cluster} {
		img := platformImage(t, pl)
		images[pl.String()] = img
		if err := p.AppendImage(img, layout.WithPlatform(pl)); err != nil {
			t.Fatal(err)
		}
	}
	idx, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	digestOf := func(tag string) (v1.Hash, string) {
		t.Helper()
		d, err := remote.Head(mustRefInsecure(t, addr+"/app:"+tag))
		if err != nil {
			t.Fatalf("%s: %v", tag, err)
		}
		return d.Digest, string(d.MediaType)
	}
	if code := h.run("registry", "push", "--address", addr, dir, "app:default"); code != 0 {
		t.Fatalf("push: exit %d\n%s", code, h.stderr.String())
	}
	want, _ := images[cluster.String()].Digest()
	if got, mt := digestOf("default"); got != want || strings.Contains(mt, "index") {
		t.Errorf("pushed %s (%s), want the %s image %s", got, mt, cluster, want)
	}
	if code := h.run("registry", "push", "--address", addr, "--platform", other.String(), dir, "app:other"); code != 0 {
		t.Fatalf("push --platform %s: exit %d\n%s", other, code, h.stderr.String())
	}
	want, _ = images[other.String()].Digest()
	if got, _ := digestOf("other"); got != want {
		t.Errorf("--platform %s pushed %s, want %s", other, got, want)
	}
	if code := h.run("registry", "push", "--address", addr, "--platform", "all", dir, "app:all"); code != 0 {
		t.Fatalf("push --platform all: exit %d\n%s", code, h.stderr.String())
	}
	want, _ = idx.Digest()
	if got, _ := digestOf("all"); got != want {
		// The layout's index holds the multi-platform index as its one
		// entry only when written so; here the layout itself is it.
		t.Errorf("--platform all pushed %s, want the index %s", got, want)
	}
	code := h.run("registry", "push", "--address", addr, "--platform", "linux/s390x", dir, "app:s390x")
	if out := h.stderr.String(); code != ExitUsage || !strings.Contains(out, "has no linux/s390x image (it has "+other.String()+", "+cluster.String()+")") {
		t.Errorf("a platform the image lacks: exit %d\n%s", code, out)
	}
	if code := h.run("registry", "push", "--address", addr, "--platform", "s390x", dir, "app:bad"); code != ExitUsage || !strings.Contains(h.stderr.String(), "is not OS/ARCH") {
		t.Errorf("--platform s390x: exit %d\n%s", code, h.stderr.String())
	}
	// A single-platform image of another platform is refused, not pushed
	// to fail at the pod's start with "exec format error".
	single := filepath.Join(h.dir, "single")
	sp, err := layout.Write(single, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := sp.AppendImage(images[other.String()]); err != nil {
		t.Fatal(err)
	}
	if code := h.run("registry", "push", "--address", addr, single, "app:single"); code != ExitUsage || !strings.Contains(h.stderr.String(), "is a "+other.String()+" image; the cluster runs "+cluster.String()) {
		t.Errorf("an image of another platform: exit %d\n%s", code, h.stderr.String())
	}
}

// An engine that holds one platform per image (API before 1.48) refuses
// `docker save --platform`; the image is then saved without it.
func TestDockerSaveWithoutPlatformOnAnOlderEngine(t *testing.T) {
	h := newHarness(t)
	addr := servedRegistry(t)
	src := randomTarball(t, filepath.Join(h.dir, "engine.tar"), 1024, 1)
	var calls []string
	h.runner = runFunc(func(_ context.Context, c run.Cmd) (run.Result, error) {
		calls = append(calls, strings.Join(c.Args, " "))
		if c.Args[1] == "--platform" {
			stderr := `"--platform" requires API version 1.48, but the Docker daemon API version is 1.41`
			return run.Result{ExitCode: 1, Stderr: []byte(stderr)}, &run.Error{Argv: c.Argv(), ExitCode: 1, Err: errors.New("exit status 1"), Stderr: []byte(stderr)}
		}
		b, err := os.ReadFile(src)
		if err == nil {
			err = os.WriteFile(c.Args[2], b, 0o600)
		}
		return run.Result{}, err
	})
	if code := h.run("registry", "push", "--address", addr, "app:dev", "app:dev"); code != 0 {
		t.Fatalf("push from an older engine: exit %d\n%s", code, h.stderr.String())
	}
	if len(calls) != 2 || !strings.HasPrefix(calls[0], "save --platform "+bootstrap.ClusterPlatform().String()+" -o ") || !strings.HasPrefix(calls[1], "save -o ") {
		t.Errorf("docker calls: %q", calls)
	}
}

func mustRefInsecure(t *testing.T, s string) name.Reference {
	t.Helper()
	r, err := name.ParseReference(s, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
