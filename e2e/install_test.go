//go:build e2e

package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/devcluster/devcluster/bootstrap"
	"github.com/devcluster/devcluster/e2e/harness"
)

// pinnedDevcluster builds devcluster with extra checksums linked in (the
// install package's linkedPins), so a binary built here can stand for the
// pinned release.
func pinnedDevcluster(t *testing.T, pins string) string {
	t.Helper()
	return linkedDevcluster(t, "github.com/devcluster/devcluster/install.linkedPins="+pins)
}

// linkedDevcluster builds devcluster with a string variable set at link
// time (-X name=value) into the test's directory.
func linkedDevcluster(t *testing.T, variable string) string {
	t.Helper()
	root, err := harness.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "devcluster")
	cmd := exec.Command("go", "build", "-ldflags", "-X "+variable, "-o", out, "./cmd/devcluster")
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building devcluster with -X %s: %v\n%s", variable, err, b)
	}
	return out
}

// releaseServer serves <url>/v0.33.0/kind-<os>-<arch> on loopback in the
// mode stored in mode: "good" (the binary), "bad" (one byte changed),
// "truncated" (half of it, then the connection closes) or "html" (a
// proxy's page).
func releaseServer(t *testing.T, good []byte, mode *atomic.Value, requests *atomic.Int32) string {
	t.Helper()
	asset := fmt.Sprintf("/kind/v0.33.0/kind-%s-%s", runtime.GOOS, runtime.GOARCH)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		if r.URL.Path != asset {
			http.NotFound(w, r)
			return
		}
		body := good
		switch mode.Load() {
		case "bad":
			body = append([]byte(nil), good...)
			body[len(body)/2] ^= 0xff
		case "truncated":
			w.Header().Set("Content-Length", fmt.Sprint(len(good)))
			_, _ = w.Write(good[:len(good)/2])
			w.(http.Flusher).Flush()
			if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
				_ = conn.Close()
			}
			return
		case "html":
			w.Header().Set("Content-Type", "text/html")
			_, _ = w.Write([]byte("<html><body>Proxy authentication required</body></html>"))
			return
		}
		w.Header().Set("Content-Length", fmt.Sprint(len(body)))
		_, _ = w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/kind"
}

// TestKindInstalledWhenMissing: with no kind on PATH, `up` in CI downloads
// the pinned release from a release server on loopback (the base URL
// overridden as for a mirror). A wrong checksum, a truncated download and
// an HTML page are refused with nothing installed and no cluster created;
// --no-install keeps exit 5; the good binary is installed once, real kind
// then creates the cluster on the docker stand-in, and later commands use
// the installed kind without downloading again.
func TestKindInstalledWhenMissing(t *testing.T) {
	kindBin := buildKind(t)
	good, err := os.ReadFile(kindBin)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256(good)
	sum := hex.EncodeToString(h[:])
	pinned := pinnedDevcluster(t, fmt.Sprintf("kind/%s/%s=%s", runtime.GOOS, runtime.GOARCH, sum))
	var mode atomic.Value
	var requests atomic.Int32
	// The mirror's URL carries a credential, which nothing may show: not
	// the log, GitHub's annotations, the job summary nor the diagnostics.
	const secret = "m1rr0r-T0KEN"
	base := strings.Replace(releaseServer(t, good, &mode, &requests), "http://", "http://ci:"+secret+"@", 1)

	u := dockerUser(t)
	summary := filepath.Join(u.home, "summary.md")
	u.env = append(u.env, "DEVCLUSTER_KIND_URL="+base, "GITHUB_ACTIONS=true", "GITHUB_STEP_SUMMARY="+summary)
	noSecret := func(when string, r result) {
		t.Helper()
		if strings.Contains(r.stdout+r.stderr, secret) {
			t.Errorf("%s: the mirror's credential is shown:\n%s", when, r.stderr)
		}
		_ = filepath.WalkDir(u.home, func(p string, d os.DirEntry, err error) error {
			if err == nil && d.Type().IsRegular() && !strings.HasPrefix(p, filepath.Join(u.home, ".cache")) {
				if b, err := os.ReadFile(p); err == nil && strings.Contains(string(b), secret) {
					t.Errorf("%s: %s holds the mirror's credential", when, p)
				}
			}
			return nil
		})
	}
	port := freePort(t)
	writeFile(t, filepath.Join(u.home, "devcluster.yaml"), `apiVersion: devcluster.dev/v1alpha1
kind: Cluster
name: e2e-kindinst
provider: kind
registry:
  port: `+port+`
loadBalancer:
  address: node  # the node IP is the docker stand-in's, in no namespace of this test: never probed
workloads:
  samples: false
`)
	t.Cleanup(func() { u.exec(pinned, "down") })
	tools := filepath.Join(u.home, ".cache", "devcluster", "bin")
	docker := filepath.Join(binDir, "docker")
	noCluster := func(when string) {
		t.Helper()
		if r := u.exec(docker, "ps", "-a", "--format", "{{.Names}}"); strings.TrimSpace(r.stdout) != "" {
			t.Errorf("%s: containers were created: %q", when, r.stdout)
		}
		entries, _ := os.ReadDir(tools)
		for _, e := range entries {
			t.Errorf("%s: left in %s: %s", when, tools, e.Name())
		}
	}

	for _, tc := range []struct{ mode, want string }{
		{"bad", "its sha256 is "},
		{"truncated", "the download ended after"},
		{"html", "web page (text/html)"},
	} {
		mode.Store(tc.mode)
		r := u.exec(pinned, "up")
		if r.code != 1 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%s: exit %d, want 1 and %q", tc.mode, r.code, tc.want)
		}
		noSecret(tc.mode, r)
		noCluster(tc.mode)
	}

	mode.Store("good")
	before := requests.Load()
	if r := u.exec(pinned, "up", "--no-install"); r.code != 5 || !strings.Contains(r.stderr, "kind is not installed") || requests.Load() != before {
		t.Errorf("--no-install: exit %d, %d downloads", r.code, requests.Load()-before)
	}
	noCluster("--no-install")

	r := u.exec(pinned, "up", "-o", "json")
	if r.code != 0 {
		t.Fatalf("up with a good release: exit %d", r.code)
	}
	var res bootstrap.Result
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		t.Fatal(err)
	}
	if len(res.Actions) == 0 || res.Actions[0] != "kind v0.33.0 installed" || res.Cluster == nil || res.Cluster.State != "Running" || res.Cluster.Provider != "kind" {
		t.Errorf("up: actions %v, cluster %+v", res.Actions, res.Cluster)
	}
	if requests.Load() != before+1 {
		t.Errorf("%d downloads for one install", requests.Load()-before)
	}
	installed := filepath.Join(tools, "kind-v0.33.0")
	b, err := os.ReadFile(installed)
	if st, _ := os.Stat(installed); err != nil || sha256.Sum256(b) != h || st.Mode().Perm() != 0o755 {
		t.Fatalf("installed kind: %v", err)
	}
	if !strings.Contains(r.stderr, "sha256 "+sum+" verified") {
		t.Errorf("up did not say the checksum was verified")
	}
	noSecret("install", r)

	// Later commands, of the released build too, use the installed kind.
	again := u.exec(pinned, "up", "-o", "json")
	var res2 bootstrap.Result
	if again.code != 0 || json.Unmarshal([]byte(again.stdout), &res2) != nil || res2.Changed {
		t.Errorf("re-run: exit %d, actions %v", again.code, res2.Actions)
	}
	if st := u.devcluster("status"); st.code != 0 || !strings.Contains(st.stdout, "e2e-kindinst-control-plane") {
		t.Errorf("status: exit %d\n%s", st.code, st.stdout)
	}
	if requests.Load() != before+1 {
		t.Errorf("the installed kind was downloaded again (%d downloads)", requests.Load()-before)
	}
	if d := u.devcluster("down"); d.code != 0 {
		t.Errorf("down: exit %d", d.code)
	}
	if r := u.exec(docker, "ps", "-a", "--format", "{{.Names}}"); strings.TrimSpace(r.stdout) != "" {
		t.Errorf("down left containers: %q", r.stdout)
	}
}
