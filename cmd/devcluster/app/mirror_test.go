package app

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/devcluster/devcluster/registry"
)

// nsTransport adds containerd's ?ns= to every request, as it does for a
// mirror.
type nsTransport struct{ ns string }

func (n nsTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	q := r.URL.Query()
	q.Set(registry.MirrorQuery, n.ns)
	r.URL.RawQuery = q.Encode()
	return http.DefaultTransport.RoundTrip(r)
}

// up serves docker.io's mirror from a loopback upstream; `mirror ls` lists
// what a pull brought in; `down --purge` keeps it; `mirror prune --all`
// empties it; bad prune arguments are usage errors.
func TestMirrorLsPruneAndPurge(t *testing.T) {
	h := newHarness(t)
	up, err := registry.New(t.Context(), registry.Options{DataDir: t.TempDir(), Listen: []string{"127.0.0.1:0"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(up.Close)
	var requests atomic.Int64
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		up.Handler().ServeHTTP(w, r)
	}))
	t.Cleanup(upstream.Close)
	img, _ := random.Image(4096, 2)
	upRef, _ := name.ParseReference(strings.TrimPrefix(upstream.URL, "http://")+"/library/base:1", name.Insecure)
	if err := remote.Write(upRef, img); err != nil {
		t.Fatal(err)
	}
	h.writeConfig("  clusterAddress: 127.0.0.1\n  mirrors:\n    - upstream: docker.io\n      remote: " + upstream.URL + "\n")
	requests.Store(0)
	if code := h.run("up"); code != 0 {
		t.Fatalf("up: %d %s", code, h.stderr.String())
	}
	if n := requests.Load(); n != 0 {
		t.Errorf("up reached the upstream %d times before any pull", n)
	}
	ref, _ := name.ParseReference(fmt.Sprintf("127.0.0.1:%d/library/base:1", h.port), name.Insecure)
	if _, err := remote.Image(ref, remote.WithTransport(nsTransport{"docker.io"})); err != nil {
		t.Fatal(err)
	}
	var ls struct {
		Store     string                    `json:"store"`
		Upstreams []registry.MirrorUpstream `json:"upstreams"`
	}
	lsJSON := func() {
		t.Helper()
		if code := h.run("mirror", "ls", "-o", "json"); code != 0 {
			t.Fatalf("mirror ls: %d %s", code, h.stderr.String())
		}
		if err := json.Unmarshal(h.stdout.Bytes(), &ls); err != nil {
			t.Fatalf("%v: %s", err, h.stdout.String())
		}
	}
	lsJSON()
	if len(ls.Upstreams) != 1 || len(ls.Upstreams[0].Repositories) != 1 || ls.Upstreams[0].Repositories[0].Repository != "library/base" ||
		strings.Join(ls.Upstreams[0].Repositories[0].Tags, ",") != "1" || !strings.HasPrefix(ls.Store, h.dir) {
		t.Fatalf("mirror ls: %+v", ls)
	}
	if code := h.run("mirror", "ls"); code != 0 || !strings.Contains(h.stdout.String(), "docker.io  library/base") {
		t.Errorf("mirror ls: %d\n%s", code, h.stdout.String())
	}
	if code := h.run("down", "--purge"); code != 0 {
		t.Fatalf("down --purge: %d %s", code, h.stderr.String())
	}
	lsJSON()
	if len(ls.Upstreams) != 1 || len(ls.Upstreams[0].Repositories) != 1 {
		t.Fatalf("down --purge deleted the mirror store: %+v", ls)
	}
	for _, bad := range [][]string{{"mirror", "prune"}, {"mirror", "prune", "--all", "--older-than", "1d"}, {"mirror", "prune", "--older-than", "soon"}} {
		if code := h.run(bad...); code != ExitUsage {
			t.Errorf("%v: exit %d, want %d", bad, code, ExitUsage)
		}
	}
	if code := h.run("mirror", "prune", "--older-than", "7d", "-o", "json"); code != 0 || !strings.Contains(h.stdout.String(), `"removed": []`) {
		t.Errorf("prune --older-than 7d of a fresh pull: %d %s", code, h.stdout.String())
	}
	if code := h.run("mirror", "prune", "--all"); code != 0 || !strings.Contains(h.stdout.String(), "Deleted 1 repository.") {
		t.Fatalf("prune --all: %d %s %s", code, h.stdout.String(), h.stderr.String())
	}
	lsJSON()
	if len(ls.Upstreams) != 0 {
		t.Errorf("after prune --all: %+v", ls)
	}
}
