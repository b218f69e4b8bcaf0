package image

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/random"

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
	a, err := AddFiles(base, files)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := AddFiles(base, files)
	da, _ := a.Digest()
	db, _ := b.Digest()
	if da != db {
		t.Errorf("same content built twice: %s vs %s", da, db)
	}
	changed, _ := AddFiles(base, map[string][]byte{"usr/share/nginx/html/index.html": []byte("<h1>bye</h1>")})
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
	loaded, err := LoadBase(context.Background(), "oci:"+dir)
	if err != nil {
		t.Fatal(err)
	}
	if d1, _ := loaded.Digest(); func() bool { d2, _ := base.Digest(); return d1 != d2 }() {
		t.Error("LoadBase(oci:) returned another image")
	}
	host := serveRegistry(t)
	if _, err := registry.PushImage(context.Background(), a, host, "devcluster/sample-web:t1"); err != nil {
		t.Fatal(err)
	}
	fromRegistry, err := LoadBase(context.Background(), host+"/devcluster/sample-web:t1")
	if err != nil {
		t.Fatal(err)
	}
	if d, _ := fromRegistry.Digest(); d != da {
		t.Errorf("LoadBase(registry) digest %s, want %s", d, da)
	}
}

// A base image from a public registry is fetched over HTTPS only: the old
// name.Insecure parse let go-containerregistry fall back to plain HTTP for
// any host. Loopback and devcluster's own registry may use plain HTTP.
func TestLoadBaseUsesPlainHTTPOnlyForLoopbackAndTheLocalRegistry(t *testing.T) {
	// An HTTPS-only reference to a host that answers nothing: the scheme
	// is observed through a transport that records the request instead of
	// dialling out.
	var schemes []string
	rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		schemes = append(schemes, r.URL.Scheme+"://"+r.URL.Host)
		return nil, errors.New("no network in this test")
	})
	saved := remoteTransport
	remoteTransport = rt
	defer func() { remoteTransport = saved }()
	for _, tc := range []struct {
		ref       string
		plainHTTP []string
		want      string
	}{
		{"docker.io/library/nginx:stable", nil, "https://index.docker.io"},
		{"registry.example:5000/base:1", nil, "https://registry.example:5000"},
		{"registry.example:5000/base:1", []string{"registry.example:5000"}, "http://registry.example:5000"},
		{"localhost:5001/base:1", nil, "http://localhost:5001"},
		{"127.0.0.1:5001/base:1", nil, "http://127.0.0.1:5001"},
	} {
		schemes = nil
		_, _ = LoadBase(context.Background(), tc.ref, tc.plainHTTP...)
		if len(schemes) == 0 {
			t.Errorf("%s: no request made", tc.ref)
			continue
		}
		plain := strings.HasPrefix(tc.want, "http://")
		sawPlain := false
		for _, s := range schemes {
			if strings.HasPrefix(s, "http://") {
				sawPlain = true
			}
		}
		if plain != sawPlain || !slices.Contains(schemes, tc.want) {
			t.Errorf("%s: requested %q; want %s, plain HTTP %v", tc.ref, schemes, tc.want, plain)
		}
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
