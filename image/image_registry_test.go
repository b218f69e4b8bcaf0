package image_test

import (
	"context"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/random"

	"github.com/devcluster/devcluster/image"
	"github.com/devcluster/devcluster/registry"
)

// serveRegistry runs devcluster's registry on a free loopback port until
// the test ends.
func serveRegistry(t *testing.T) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s, err := registry.New(ctx, registry.Options{DataDir: t.TempDir(), Listen: []string{"127.0.0.1:0"}})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return s.Addrs()[0]
}

func TestAddFilesIsReproducibleAndLoadBase(t *testing.T) {
	base, _ := random.Image(1024, 1)
	files := map[string][]byte{"usr/share/nginx/html/index.html": []byte("<h1>hi</h1>")}
	a, err := image.AddFiles(base, files)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := image.AddFiles(base, files)
	da, _ := a.Digest()
	db, _ := b.Digest()
	if da != db {
		t.Errorf("same content built twice: %s vs %s", da, db)
	}
	changed, _ := image.AddFiles(base, map[string][]byte{"usr/share/nginx/html/index.html": []byte("<h1>bye</h1>")})
	if dc, _ := changed.Digest(); dc == da {
		t.Error("different content, same digest")
	}
	dir := t.TempDir()
	if _, err := layout.Write(dir, empty.Index); err != nil {
		t.Fatal(err)
	}
	p, _ := layout.FromPath(dir)
	if err := p.AppendImage(base); err != nil {
		t.Fatal(err)
	}
	loaded, err := image.LoadBase(context.Background(), "oci:"+dir)
	if err != nil {
		t.Fatal(err)
	}
	if d1, _ := loaded.Digest(); func() bool { d2, _ := base.Digest(); return d1 != d2 }() {
		t.Error("image.LoadBase(oci:) returned another image")
	}
	host := serveRegistry(t)
	if _, err := registry.PushImage(context.Background(), a, host, "devcluster/sample-web:t1"); err != nil {
		t.Fatal(err)
	}
	fromRegistry, err := image.LoadBase(context.Background(), host+"/devcluster/sample-web:t1")
	if err != nil {
		t.Fatal(err)
	}
	if d, _ := fromRegistry.Digest(); d != da {
		t.Errorf("image.LoadBase(registry) digest %s, want %s", d, da)
	}
}
