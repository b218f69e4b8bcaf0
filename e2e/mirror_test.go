//go:build e2e

package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/devcluster/devcluster/e2e/harness"
	"github.com/devcluster/devcluster/registry"
)

// fakeHub is a registry on loopback standing in for Docker Hub: it logs
// every request it answers ("GET /v2/library/app/manifests/v1"), and can
// demand basic authentication.
type fakeHub struct {
	srv      *httptest.Server
	mu       sync.Mutex
	log      []string
	user, pw string
}

func startFakeHub(t *testing.T, images map[string]v1.Image) *fakeHub {
	t.Helper()
	reg, err := registry.New(context.Background(), registry.Options{DataDir: t.TempDir(), Listen: []string{"127.0.0.1:0"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(reg.Close)
	h := &fakeHub{}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		h.log = append(h.log, r.Method+" "+r.URL.Path)
		user, pw := h.user, h.pw
		h.mu.Unlock()
		if u, p, ok := r.BasicAuth(); user != "" && (!ok || u != user || p != pw) {
			w.Header().Set("WWW-Authenticate", `Basic realm="fake hub"`)
			w.Header().Set("Docker-Distribution-Api-Version", "registry/2.0")
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		reg.Handler().ServeHTTP(w, r)
	}))
	t.Cleanup(h.srv.Close)
	for ref, img := range images {
		if err := remote.Write(mustRef(t, h.host()+"/"+ref), img); err != nil {
			t.Fatal(err)
		}
	}
	h.take()
	return h
}

func (h *fakeHub) host() string { return strings.TrimPrefix(h.srv.URL, "http://") }

// take returns the log since the last call.
func (h *fakeHub) take() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	l := h.log
	h.log = nil
	return l
}

// contentGETs are the log's downloads of manifests and blobs.
func contentGETs(log []string) []string {
	var out []string
	for _, l := range log {
		if strings.HasPrefix(l, "GET /v2/") && (strings.Contains(l, "/manifests/") || strings.Contains(l, "/blobs/")) {
			out = append(out, l)
		}
	}
	return out
}

// mirrorUser is a user whose devcluster.yaml mirrors docker.io from hub,
// with containerd's view of the node's /etc/containerd.
func mirrorUser(t *testing.T, hub *fakeHub) (*user, string) {
	t.Helper()
	if nodeNet == nil {
		missing(t, "needs the node network namespace (root and iproute2)")
	}
	if err := harness.ContainerdAvailable(); err != nil {
		missing(t, "needs containerd: %v", err)
	}
	if _, err := os.Stat("/etc/containerd"); err != nil {
		missing(t, "needs /etc/containerd as a mount point for the simulated node's files")
	}
	u := newUser(t)
	u.mirrors = true
	nodeEtc := filepath.Join(u.home, "node-etc-containerd")
	if err := os.MkdirAll(nodeEtc, 0o755); err != nil {
		t.Fatal(err)
	}
	u.env = append(u.env, "STANDIN_SSH_EXEC="+filepath.Join(binDir, "node-exec"), "NODE_ETC_CONTAINERD="+nodeEtc)
	writeFile(t, filepath.Join(u.home, "devcluster.yaml"), "apiVersion: devcluster.dev/v1alpha1\nkind: Cluster\nworkloads:\n  samples: false\n"+
		"registry:\n  mirrors:\n    - upstream: docker.io\n      remote: "+hub.srv.URL+"\n")
	return u, nodeEtc
}

// fetch pulls ref with a fresh containerd (an empty content store) through
// the node's hosts.toml files.
func fetch(t *testing.T, u *user, nodeEtc, ref string) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir, err := os.MkdirTemp(u.home, "containerd-")
	if err != nil {
		t.Fatal(err)
	}
	c, err := harness.StartContainerd(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Stop()
	_, err = c.Ctr(ctx, "content", "fetch", "--hosts-dir", filepath.Join(nodeEtc, "certs.d"), ref)
	return err
}

// TestMirrorsEndToEnd: `up` mirrors docker.io from a loopback stand-in for
// Docker Hub without dialing it; containerd pulls docker.io/library/...
// through the agent (hosts.toml with the hub as the server), the hub sees
// each manifest and blob once and a second pull fetches nothing from it;
// with the hub stopped every tag fetched before is served, by a second
// cluster's agent too (through the first, then on its own once the first is
// down); `down --purge` keeps the store; `mirror prune --all` empties it.
func TestMirrorsEndToEnd(t *testing.T) {
	app, _ := random.Image(512<<10, 3)
	tool, _ := random.Image(256<<10, 2)
	hub := startFakeHub(t, map[string]v1.Image{"library/app:v1": app, "library/tool:v2": tool})
	u, nodeEtc := mirrorUser(t, hub)
	port, port2 := freePort(t), freePort(t)
	defer u.devcluster("down", "--name", "e2e-mir2")
	defer u.devcluster("down", "--name", "e2e-mir")
	if r := u.devcluster("up", "--name", "e2e-mir", "--registry-port", port); r.code != 0 {
		t.Fatalf("up: exit %d", r.code)
	}
	if l := hub.take(); len(l) != 0 {
		t.Errorf("up reached the upstream before any pull: %v", l)
	}
	b, err := os.ReadFile(filepath.Join(nodeEtc, "certs.d", "docker.io", "hosts.toml"))
	want := fmt.Sprintf("server = %q\n\n[host.\"http://192.168.49.1:%s\"]\n  capabilities = [\"pull\", \"resolve\"]\n", hub.srv.URL, port)
	if err != nil || string(b) != want {
		t.Fatalf("docker.io/hosts.toml on the node: %v\n%s\nwant:\n%s", err, b, want)
	}

	// Cold: every manifest and blob reaches the hub once.
	if err := fetch(t, u, nodeEtc, "docker.io/library/app:v1"); err != nil {
		t.Fatal(err)
	}
	cold := contentGETs(hub.take())
	seen := map[string]int{}
	for _, l := range cold {
		seen[l]++
	}
	// The manifest, the config and three layers.
	if len(seen) != 5 {
		t.Errorf("cold pull: %d distinct downloads from the hub, want 5: %v", len(seen), cold)
	}
	for l, n := range seen {
		if n != 1 {
			t.Errorf("cold pull fetched %s %d times", l, n)
		}
	}
	// Warm: nothing is downloaded from the hub (the tag is revalidated
	// with a HEAD).
	if err := fetch(t, u, nodeEtc, "docker.io/library/app:v1"); err != nil {
		t.Fatal(err)
	}
	if warm := hub.take(); len(contentGETs(warm)) != 0 {
		t.Errorf("warm pull downloaded from the hub: %v", warm)
	}
	appDigest, _ := app.Digest()
	if err := fetch(t, u, nodeEtc, "docker.io/library/app@"+appDigest.String()); err != nil {
		t.Fatal(err)
	}
	if warm := hub.take(); len(warm) != 0 {
		t.Errorf("warm pull by digest reached the hub: %v", warm)
	}
	if err := fetch(t, u, nodeEtc, "docker.io/library/tool:v2"); err != nil {
		t.Fatal(err)
	}

	// A write through the mirror is refused from the cluster side.
	code, _ := nodeNet.Exec("curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST", "http://192.168.49.1:"+port+"/v2/library/app/blobs/uploads/?ns=docker.io")
	if strings.TrimSpace(code) != "403" {
		t.Errorf("POST to the mirror from the node: HTTP %q, want 403", code)
	}

	// Offline: every tag fetched before is served.
	hub.srv.Close()
	for _, ref := range []string{"docker.io/library/app:v1", "docker.io/library/tool:v2"} {
		if err := fetch(t, u, nodeEtc, ref); err != nil {
			t.Errorf("offline pull of %s: %v", ref, err)
		}
	}

	// A second cluster uses the same store: its agent forwards to the one
	// that holds it, then takes it over when that one stops.
	if r := u.devcluster("up", "--name", "e2e-mir2", "--registry-port", port2); r.code != 0 {
		t.Fatalf("up of a second cluster: exit %d", r.code)
	}
	if err := fetch(t, u, nodeEtc, "docker.io/library/app:v1"); err != nil {
		t.Errorf("offline pull through the second cluster: %v", err)
	}
	if r := u.devcluster("down", "--name", "e2e-mir"); r.code != 0 {
		t.Fatalf("down: exit %d", r.code)
	}
	if err := fetch(t, u, nodeEtc, "docker.io/library/tool:v2"); err != nil {
		t.Errorf("offline pull through the second cluster after the first is down: %v", err)
	}
	if _, err := os.Stat(filepath.Join(u.home, ".cache", "devcluster", "mirrors", "docker.io")); err != nil {
		t.Errorf("the store is not in the user's cache: %v", err)
	}

	// down --purge keeps the store; prune --all empties it.
	if r := u.devcluster("down", "--name", "e2e-mir2", "--purge"); r.code != 0 {
		t.Fatalf("down --purge: exit %d", r.code)
	}
	var ls struct {
		Upstreams []registry.MirrorUpstream `json:"upstreams"`
	}
	r := u.devcluster("mirror", "ls", "-o", "json")
	if err := json.Unmarshal([]byte(r.stdout), &ls); err != nil || len(ls.Upstreams) != 1 || len(ls.Upstreams[0].Repositories) != 2 {
		t.Fatalf("mirror ls after down --purge: %v %+v", err, ls)
	}
	if r := u.devcluster("mirror", "prune", "--all"); r.code != 0 {
		t.Fatalf("mirror prune --all: exit %d", r.code)
	}
	r = u.devcluster("mirror", "ls", "-o", "json")
	if err := json.Unmarshal([]byte(r.stdout), &ls); err != nil || len(ls.Upstreams) != 0 {
		t.Errorf("mirror ls after prune --all: %v %+v", err, ls)
	}
}

// TestMirrorOfABasicAuthUpstream: an upstream that needs basic
// authentication gets the credentials of a Docker config file the test
// writes (DOCKER_CONFIG), and they are in no file devcluster writes.
func TestMirrorOfABasicAuthUpstream(t *testing.T) {
	img, _ := random.Image(64<<10, 1)
	hub := startFakeHub(t, map[string]v1.Image{"library/private:1": img})
	hub.mu.Lock()
	hub.user, hub.pw = "e2e-user", "e2e-secret-pw-8c1f"
	hub.mu.Unlock()
	u, nodeEtc := mirrorUser(t, hub)
	dockerDir := filepath.Join(u.home, "docker-config")
	auth := base64.StdEncoding.EncodeToString([]byte("e2e-user:e2e-secret-pw-8c1f"))
	if err := os.MkdirAll(dockerDir, 0o700); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dockerDir, "config.json"), fmt.Sprintf(`{"auths":{%q:{"auth":%q}}}`, hub.host(), auth))
	u.env = append(u.env, "DOCKER_CONFIG="+dockerDir)
	port := freePort(t)
	defer u.devcluster("down", "--name", "e2e-mirauth")
	if r := u.devcluster("up", "--name", "e2e-mirauth", "--registry-port", port); r.code != 0 {
		t.Fatalf("up: exit %d", r.code)
	}
	if err := fetch(t, u, nodeEtc, "docker.io/library/private:1"); err != nil {
		t.Fatalf("pull through the mirror of a basic-auth upstream: %v", err)
	}
	if got := contentGETs(hub.take()); len(got) < 2 {
		t.Errorf("the hub served %v", got)
	}
	// Through the mirror, not containerd's fallback to the hub (which has
	// no credentials): the store holds it.
	if r := u.devcluster("mirror", "ls"); !strings.Contains(r.stdout, "library/private") {
		t.Errorf("the mirror store lacks the image:\n%s", r.stdout)
	}
	// The password is in no file under the home but the Docker config.
	_ = filepath.WalkDir(u.home, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasPrefix(p, dockerDir) {
			return nil
		}
		if b, err := os.ReadFile(p); err == nil && (strings.Contains(string(b), "e2e-secret-pw-8c1f") || strings.Contains(string(b), auth)) {
			t.Errorf("%s holds the upstream's password", p)
		}
		return nil
	})
}
