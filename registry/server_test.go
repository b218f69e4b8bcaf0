package registry

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/devcluster/devcluster/image"
)

// start runs a server on a free loopback port until the test ends.
func start(t *testing.T, dir string) (*Server, string) {
	s, host, _ := startStoppable(t, dir)
	return s, host
}

// startStoppable is start with a function that stops the server early.
func startStoppable(t *testing.T, dir string) (*Server, string, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s, err := New(ctx, Options{DataDir: dir, Listen: []string{"127.0.0.1:0"}})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx) }()
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Serve: %v", err)
			}
		}
	}
	t.Cleanup(stop)
	return s, s.Addrs()[0], stop
}

func TestPushPullListAndRestart(t *testing.T) {
	dir := t.TempDir()
	_, host, stop := startStoppable(t, dir)
	img, err := random.Image(2048, 3)
	if err != nil {
		t.Fatal(err)
	}
	tarPath := filepath.Join(t.TempDir(), "img.tar")
	ref, _ := name.ParseReference("example.com/app:v1")
	if err := tarball.WriteToFile(tarPath, ref, img); err != nil {
		t.Fatal(err)
	}
	src, err := image.OpenSource(tarPath)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Push(context.Background(), src, host, "team/app:v1", nil)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := img.Digest()
	if res.Digest != want.String() || res.Reference != host+"/team/app:v1" {
		t.Errorf("push result = %+v, want digest %s", res, want)
	}
	repos, err := List(context.Background(), host)
	if err != nil {
		t.Fatal(err)
	}
	if len(repos) != 1 || repos[0].Name != "team/app" || len(repos[0].Tags) != 1 || repos[0].Tags[0] != "v1" {
		t.Errorf("List = %+v", repos)
	}

	// Restart on the same directory: the tag and its content are still there.
	stop()
	_, host2 := start(t, dir)
	pulled, err := remote.Image(mustRef(t, host2+"/team/app:v1"))
	if err != nil {
		t.Fatalf("pull after restart: %v", err)
	}
	if d, _ := pulled.Digest(); d != want {
		t.Errorf("digest after restart = %s, want %s", d, want)
	}
	layers, _ := pulled.Layers()
	for _, l := range layers {
		rc, err := l.Compressed()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(io.Discard, rc); err != nil {
			t.Fatalf("reading a layer after restart: %v", err)
		}
		rc.Close()
	}
}

func TestPushOCILayoutIndex(t *testing.T) {
	_, host := start(t, t.TempDir())
	dir := t.TempDir()
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		img, _ := random.Image(512, 1)
		if err := p.AppendImage(img); err != nil {
			t.Fatal(err)
		}
	}
	src, err := image.OpenSource(dir)
	if err != nil {
		t.Fatal(err)
	}
	if src.Index == nil {
		t.Fatal("a layout with two images must push as an index")
	}
	if _, err := Push(context.Background(), src, host, "multi", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := remote.Index(mustRef(t, host+"/multi:latest")); err != nil {
		t.Errorf("pulling the index: %v", err)
	}
}

// uploadCounter counts request body bytes of blob uploads.
type uploadCounter struct {
	next  http.Handler
	mu    sync.Mutex
	bytes int64
}

func (u *uploadCounter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.Contains(r.URL.Path, "/blobs/uploads/") && r.Body != nil {
		b, _ := io.ReadAll(r.Body)
		u.mu.Lock()
		u.bytes += int64(len(b))
		u.mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(b))
	}
	u.next.ServeHTTP(w, r)
}

func (u *uploadCounter) take() int64 {
	u.mu.Lock()
	defer u.mu.Unlock()
	n := u.bytes
	u.bytes = 0
	return n
}

func TestRepushUploadsOnlyChangedLayers(t *testing.T) {
	s, _ := start(t, t.TempDir())
	counter := &uploadCounter{next: s.Handler()}
	srv := httptest.NewServer(counter)
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")

	base, _ := random.Image(1<<20, 3)
	if _, err := Push(context.Background(), &image.Source{Image: base, Desc: "base"}, host, "app:v1", nil); err != nil {
		t.Fatal(err)
	}
	if n := counter.take(); n < 3<<20 {
		t.Fatalf("first push uploaded %d bytes, want at least 3 MiB", n)
	}
	if _, err := Push(context.Background(), &image.Source{Image: base, Desc: "base"}, host, "app:v2", nil); err != nil {
		t.Fatal(err)
	}
	if n := counter.take(); n > 64<<10 {
		t.Errorf("re-push of an unchanged image uploaded %d bytes, want only the config", n)
	}
	extra, _ := random.Layer(1<<20, types.DockerLayer)
	changed, err := mutate.AppendLayers(base, extra)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Push(context.Background(), &image.Source{Image: changed, Desc: "changed"}, host, "app:v3", nil); err != nil {
		t.Fatal(err)
	}
	size, _ := extra.Size()
	if n := counter.take(); n < size || n > size+64<<10 {
		t.Errorf("push with one new layer uploaded %d bytes, want that layer (%d) plus the config", n, size)
	}
}

func TestWritesOnlyFromLoopback(t *testing.T) {
	s, _ := start(t, t.TempDir())
	cases := []struct {
		method, remote string
		want           int
	}{
		{http.MethodPost, "192.168.49.2:40000", http.StatusForbidden},
		{http.MethodPut, "10.244.0.7:40000", http.StatusForbidden},
		{http.MethodDelete, "[fd00::2]:40000", http.StatusForbidden},
		{http.MethodPatch, "192.168.49.2:40000", http.StatusForbidden},
		{http.MethodPost, "127.0.0.1:40000", http.StatusAccepted},
		{http.MethodPost, "[::1]:40000", http.StatusAccepted},
		{http.MethodGet, "192.168.49.2:40000", http.StatusOK},
	}
	for _, tc := range cases {
		path := "/v2/"
		if tc.method != http.MethodGet {
			path = "/v2/app/blobs/uploads/"
		}
		req := httptest.NewRequest(tc.method, path, strings.NewReader(""))
		req.RemoteAddr = tc.remote
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, req)
		if tc.method == http.MethodPut || tc.method == http.MethodDelete || tc.method == http.MethodPatch {
			if rec.Code != tc.want {
				t.Errorf("%s from %s: HTTP %d, want %d", tc.method, tc.remote, rec.Code, tc.want)
			}
			continue
		}
		if rec.Code != tc.want {
			t.Errorf("%s %s from %s: HTTP %d, want %d (%s)", tc.method, path, tc.remote, rec.Code, tc.want, rec.Body.String())
		}
		if rec.Code == http.StatusForbidden && !strings.Contains(rec.Body.String(), `"code":"DENIED"`) {
			t.Errorf("refusal is not a registry error: %s", rec.Body.String())
		}
	}
}

func TestHealth(t *testing.T) {
	dir := t.TempDir()
	_, host := start(t, dir)
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Get("http://" + host + HealthPath)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var h Health
	if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
		t.Fatal(err)
	}
	if h.Status != "ok" || h.PID != os.Getpid() || h.DataDir != dir || len(h.Listen) != 1 || h.Listen[0] != host {
		t.Errorf("health = %+v", h)
	}
}

func TestBadSource(t *testing.T) {
	dir := t.TempDir()
	if _, err := image.OpenSource(dir); err == nil || !strings.Contains(err.Error(), "no index.json") {
		t.Errorf("empty dir: %v", err)
	}
	f := filepath.Join(dir, "x.tar")
	_ = os.WriteFile(f, []byte("not a tarball"), 0o600)
	if _, err := image.OpenSource(f); err == nil || !strings.Contains(err.Error(), "not a docker-archive tarball") {
		t.Errorf("junk file: %v", err)
	}
}

func mustRef(t *testing.T, s string) name.Reference {
	t.Helper()
	r, err := name.ParseReference(s, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// BuildKit keeps its layer cache (--cache-to type=registry,mode=max) as an
// OCI image manifest whose config is application/vnd.buildkit.cacheconfig.v0:
// the registry stores it and gives it back byte for byte, so the cache in
// devcluster's registry survives `devcluster down`.
func TestBuildKitCacheManifestRoundTrips(t *testing.T) {
	_, host := start(t, t.TempDir())
	img, err := random.Image(4096, 2)
	if err != nil {
		t.Fatal(err)
	}
	img = mutate.MediaType(img, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, "application/vnd.buildkit.cacheconfig.v0")
	ref := mustRef(t, host+"/app:buildcache")
	if err := remote.Write(ref, img); err != nil {
		t.Fatal(err)
	}
	want, _ := img.RawManifest()
	desc, err := remote.Get(ref)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(desc.Manifest, want) {
		t.Errorf("manifest changed on the way:\n%s\nwant\n%s", desc.Manifest, want)
	}
	if desc.MediaType != types.OCIManifestSchema1 {
		t.Errorf("media type %s", desc.MediaType)
	}
	got, err := desc.Image()
	if err != nil {
		t.Fatal(err)
	}
	m, _ := got.Manifest()
	if m.Config.MediaType != "application/vnd.buildkit.cacheconfig.v0" {
		t.Errorf("config media type %s", m.Config.MediaType)
	}
	layers, _ := got.Layers()
	for _, l := range layers {
		rc, err := l.Compressed()
		if err != nil {
			t.Fatal(err)
		}
		d, _ := l.Digest()
		h := sha256.New()
		_, _ = io.Copy(h, rc)
		rc.Close()
		if "sha256:"+hex.EncodeToString(h.Sum(nil)) != d.String() {
			t.Errorf("layer %s does not verify", d)
		}
	}
}
