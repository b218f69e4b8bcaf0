package registry

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// upstream is a registry on loopback standing in for Docker Hub, counting
// the requests (and body bytes) it answers.
type upstream struct {
	srv *httptest.Server
	mu  sync.Mutex
	log []string
	n   int64
	// hang, when set, is waited for instead of answering.
	hang atomic.Pointer[chan struct{}]
}

func (u *upstream) ServeHTTP(w http.ResponseWriter, r *http.Request, next http.Handler) {
	if c := u.hang.Load(); c != nil {
		u.mu.Lock()
		u.log = append(u.log, "hung "+r.Method+" "+r.URL.Path)
		u.mu.Unlock()
		<-*c
		return
	}
	u.mu.Lock()
	u.log = append(u.log, r.Method+" "+r.URL.Path)
	u.mu.Unlock()
	cw := &countingWriter{ResponseWriter: w}
	next.ServeHTTP(cw, r)
	u.mu.Lock()
	u.n += cw.n
	u.mu.Unlock()
}

type countingWriter struct {
	http.ResponseWriter
	n int64
}

func (c *countingWriter) Write(b []byte) (int, error) {
	n, err := c.ResponseWriter.Write(b)
	c.n += int64(n)
	return n, err
}

// take returns the requests and bytes since the last call.
func (u *upstream) take() ([]string, int64) {
	u.mu.Lock()
	defer u.mu.Unlock()
	l, n := u.log, u.n
	u.log, u.n = nil, 0
	return l, n
}

// startUpstream runs a registry holding img as library/app:v1.
func startUpstream(t *testing.T, img v1.Image) *upstream {
	t.Helper()
	reg, err := New(context.Background(), Options{DataDir: t.TempDir(), Listen: []string{"127.0.0.1:0"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(reg.Close)
	u := &upstream{}
	u.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { u.ServeHTTP(w, r, reg.Handler()) }))
	t.Cleanup(u.srv.Close)
	host := strings.TrimPrefix(u.srv.URL, "http://")
	if err := remote.Write(mustRef(t, host+"/library/app:v1"), img); err != nil {
		t.Fatal(err)
	}
	u.take()
	return u
}

// nsTransport adds containerd's ?ns= to every request, as it does for a
// mirror (through a transport of its own: the mirror bounds this process's
// default one).
type nsTransport struct{ ns string }

var clientTransport = &http.Transport{}

func (n nsTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	q := r.URL.Query()
	q.Set(MirrorQuery, n.ns)
	r.URL.RawQuery = q.Encode()
	return clientTransport.RoundTrip(r)
}

// startMirror runs a registry serving store's mirror of docker.io from
// remoteURL.
func startMirror(t *testing.T, store, remoteURL string) (*Server, string, func()) {
	t.Helper()
	return startMirrorWith(t, MirrorOptions{StoreDir: store, Mirrors: []Mirror{{Upstream: "docker.io", Remote: remoteURL}}, TTL: 24 * time.Hour, StoreWait: 5 * time.Second})
}

func startMirrorWith(t *testing.T, o MirrorOptions) (*Server, string, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s, err := New(ctx, Options{DataDir: t.TempDir(), Listen: []string{"127.0.0.1:0"}, Mirrors: &o})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx) }()
	var once sync.Once
	stop := func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(stop)
	return s, s.Addrs()[0], stop
}

// pullAll reads the manifest and every blob of ref through the mirror.
func pullAll(t *testing.T, ref string) (v1.Hash, error) {
	t.Helper()
	img, err := remote.Image(mustRef(t, ref), remote.WithTransport(nsTransport{"docker.io"}))
	if err != nil {
		return v1.Hash{}, err
	}
	layers, err := img.Layers()
	if err != nil {
		return v1.Hash{}, err
	}
	for _, l := range layers {
		rc, err := l.Compressed()
		if err != nil {
			return v1.Hash{}, err
		}
		_, err = io.Copy(io.Discard, rc)
		rc.Close()
		if err != nil {
			return v1.Hash{}, err
		}
	}
	if _, err := img.RawConfigFile(); err != nil {
		return v1.Hash{}, err
	}
	return img.Digest()
}

func gets(log []string) []string {
	var out []string
	for _, l := range log {
		if strings.HasPrefix(l, "GET /v2/library/") {
			out = append(out, l)
		}
	}
	return out
}

func TestMirrorFetchesOnceAndServesOffline(t *testing.T) {
	img, err := random.Image(1<<20, 3)
	if err != nil {
		t.Fatal(err)
	}
	up := startUpstream(t, img)
	store := t.TempDir()
	_, host, stop := startMirror(t, store, up.srv.URL)

	want, err := pullAll(t, host+"/library/app:v1")
	if err != nil {
		t.Fatal(err)
	}
	log, n := up.take()
	// The manifest, the config and three layers, each fetched once.
	if g := gets(log); len(g) != 5 || n < 3<<20 {
		t.Fatalf("cold pull: %d GETs of content (want 5), %d bytes: %v", len(g), n, log)
	}

	// Warm by digest: nothing reaches the upstream.
	if _, err := pullAll(t, host+"/library/app@"+want.String()); err != nil {
		t.Fatal(err)
	}
	if log, n := up.take(); len(log) != 0 || n != 0 {
		t.Errorf("warm pull by digest reached the upstream: %v (%d bytes)", log, n)
	}
	// Warm by tag: the tag is revalidated (devcluster's bounded probe of
	// /v2/, Distribution's ping and a HEAD of the tag), no content fetched.
	if _, err := pullAll(t, host+"/library/app:v1"); err != nil {
		t.Fatal(err)
	}
	if log, n := up.take(); len(gets(log)) != 0 || n > 4 || len(log) > 3 {
		t.Errorf("warm pull by tag: %v (%d bytes); want at most two pings of /v2/ and one HEAD of the tag", log, n)
	}

	// A write through the mirror is refused, even from loopback.
	req, _ := http.NewRequest(http.MethodPut, "http://"+host+"/v2/library/app/manifests/v2?ns=docker.io", strings.NewReader("{}"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("PUT through the mirror: HTTP %d, want 403", resp.StatusCode)
	}

	// Upstream gone: the tag and its content are served from the store, by
	// this server and by a new one started while the upstream is down.
	up.srv.Close()
	if got, err := pullAll(t, host+"/library/app:v1"); err != nil || got != want {
		t.Fatalf("offline pull by tag: %v %v", got, err)
	}
	stop()
	_, host2, _ := startMirror(t, store, up.srv.URL)
	if got, err := pullAll(t, host2+"/library/app:v1"); err != nil || got != want {
		t.Fatalf("offline pull after a restart: %v %v", got, err)
	}
	if _, err := pullAll(t, host2+"/library/other:v1"); err == nil {
		t.Error("an image never fetched was served offline")
	}
	if u := ReadUsage(store + "/docker.io"); u["library/app"].IsZero() {
		t.Errorf("no last use recorded: %v", u)
	}
}

func TestSecondServerForwardsToTheStoreHolder(t *testing.T) {
	img, err := random.Image(1024, 2)
	if err != nil {
		t.Fatal(err)
	}
	up := startUpstream(t, img)
	store := t.TempDir()
	_, host1, stop1 := startMirror(t, store, up.srv.URL)
	_, host2, _ := startMirror(t, store, up.srv.URL)
	if _, err := pullAll(t, host1+"/library/app:v1"); err != nil {
		t.Fatal(err)
	}
	up.take()
	h, err := ReadStoreHolder(store)
	if err != nil || h.Addr != host1 {
		t.Fatalf("holder %+v %v, want %s", h, err, host1)
	}
	// The second server serves the same store through the first.
	want, _ := img.Digest()
	if got, err := pullAll(t, host2+"/library/app@"+want.String()); err != nil || got != want {
		t.Fatalf("pull through the second server: %v %v", got, err)
	}
	if log, _ := up.take(); len(log) != 0 {
		t.Errorf("the second server reached the upstream: %v", log)
	}
	// The first one gone, the second takes the store over.
	stop1()
	if got, err := pullAll(t, host2+"/library/app@"+want.String()); err != nil || got != want {
		t.Fatalf("pull after the holder stopped: %v %v", got, err)
	}
	if h, err := ReadStoreHolder(store); err != nil || h.Addr != host2 {
		t.Fatalf("holder after hand-over %+v %v, want %s", h, err, host2)
	}
	if log, _ := up.take(); len(gets(log)) != 0 {
		t.Errorf("the hand-over fetched again: %v", log)
	}
}

// An upstream that accepts connections and never answers: the mirror
// still serves what it has, within the bounds, and asks it only once while
// it is down.
func TestMirrorServesBesideAnUpstreamThatHangs(t *testing.T) {
	img, _ := random.Image(1024, 1)
	up := startUpstream(t, img)
	store := t.TempDir()
	_, host, _ := startMirror(t, store, up.srv.URL)
	want, _ := img.Digest()
	if _, err := pullAll(t, host+"/library/app:v1"); err != nil {
		t.Fatal(err)
	}
	oldTimeout := probeTimeout
	probeTimeout = 300 * time.Millisecond
	t.Cleanup(func() { probeTimeout = oldTimeout })
	release := make(chan struct{})
	up.take()
	up.hang.Store(&release)
	t.Cleanup(func() { close(release) })
	for i := 0; i < 3; i++ {
		start := time.Now()
		got, err := pullAll(t, host+"/library/app:v1")
		if err != nil || got != want {
			t.Fatalf("pull %d beside a hung upstream: %v %v", i, got, err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("pull %d took %s", i, d)
		}
	}
	if log, _ := up.take(); len(log) != 1 {
		t.Errorf("the hung upstream was asked %v, want once (then skipped while it is down)", log)
	}
}

// A request for a registry this server does not mirror (a hosts.toml left
// on a node after its mirror was turned off) is a 404, never the local
// repository of the same name; the local registry's own names (its port)
// and requests without ns are served from what was pushed here.
func TestUnmirroredNameIsNotServedFromTheLocalRegistry(t *testing.T) {
	img, _ := random.Image(512, 1)
	up := startUpstream(t, img)
	_, host, _ := startMirror(t, t.TempDir(), up.srv.URL)
	local, _ := random.Image(512, 1)
	if err := remote.Write(mustRef(t, host+"/acme/api:1.2"), local); err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(host)
	for _, tc := range []struct {
		ns   string
		want int
	}{
		{"", http.StatusOK},
		{"localhost:" + port, http.StatusOK},
		{"192.168.49.1:" + port, http.StatusOK},
		{"ghcr.io", http.StatusNotFound},
		{"registry.example.com:5000", http.StatusNotFound},
	} {
		req, _ := http.NewRequest(http.MethodHead, "http://"+host+"/v2/acme/api/manifests/1.2", nil)
		if tc.ns != "" {
			req.URL.RawQuery = MirrorQuery + "=" + tc.ns
		}
		req.Header.Set("Accept", "application/vnd.docker.distribution.manifest.v2+json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("ns=%q: HTTP %d, want %d", tc.ns, resp.StatusCode, tc.want)
		}
	}
}
