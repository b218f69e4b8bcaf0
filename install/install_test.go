package install

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/devcluster/devcluster/internal/problem"
)

// binary is a fake release binary: an ELF header and some bulk.
var binary = append([]byte("\x7fELF\x02\x01\x01\x00"), bytes.Repeat([]byte("devcluster-test-binary "), 40000)...)

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func testRelease() Release {
	return Release{Tool: "kind", Version: "v9.9.9", BaseURL: "http://unused.invalid", Docs: "https://example.invalid/docs",
		SHA256: map[string]string{"linux/amd64": sum(binary)}}
}

// server serves the release's asset with handler and counts requests.
func server(t *testing.T, handler func(n int, w http.ResponseWriter, r *http.Request)) (string, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		k := int(n.Add(1))
		if r.URL.Path != "/releases/v9.9.9/kind-linux-amd64" {
			http.NotFound(w, r)
			return
		}
		handler(k, w, r)
	}))
	t.Cleanup(s.Close)
	return s.URL + "/releases", &n
}

func newInstaller(t *testing.T) *Installer {
	return &Installer{Dir: filepath.Join(t.TempDir(), "bin"), GOOS: "linux", GOARCH: "amd64",
		Backoff: func(int) time.Duration { return 0 }, StallTimeout: 2 * time.Second}
}

func serve(b []byte) func(int, http.ResponseWriter, *http.Request) {
	return func(_ int, w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Length", fmt.Sprint(len(b)))
		_, _ = w.Write(b)
	}
}

// truncate announces the whole binary and sends half of it.
func truncate(_ int, w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Length", fmt.Sprint(len(binary)))
	_, _ = w.Write(binary[:len(binary)/2])
	w.(http.Flusher).Flush()
	conn, _, err := w.(http.Hijacker).Hijack()
	if err == nil {
		_ = conn.Close()
	}
}

// assertNothingInstalled checks that no executable and no partial file is
// left behind.
func assertNothingInstalled(t *testing.T, i *Installer) {
	t.Helper()
	if _, ok := i.Installed(testRelease()); ok {
		t.Errorf("a binary was installed")
	}
	entries, _ := os.ReadDir(i.Dir)
	for _, e := range entries {
		t.Errorf("left in the install directory: %s", e.Name())
	}
}

func TestInstallsAVerifiedBinaryOnce(t *testing.T) {
	base, n := server(t, serve(binary))
	i := newInstaller(t)
	var reports []Progress
	i.OnProgress = func(p Progress) { reports = append(reports, p) }
	p, err := i.Install(context.Background(), testRelease(), base)
	if err != nil {
		t.Fatal(err)
	}
	if p != filepath.Join(i.Dir, "kind-v9.9.9") {
		t.Errorf("installed at %s", p)
	}
	b, err := os.ReadFile(p)
	if err != nil || !bytes.Equal(b, binary) {
		t.Fatalf("installed file differs: %v", err)
	}
	if st, _ := os.Stat(p); st.Mode().Perm() != 0o755 {
		t.Errorf("mode %v", st.Mode())
	}
	if len(reports) == 0 || !reports[len(reports)-1].Final || reports[len(reports)-1].Done != int64(len(binary)) || reports[len(reports)-1].Total != int64(len(binary)) {
		t.Errorf("progress reports: %+v", reports)
	}
	again, err := i.Install(context.Background(), testRelease(), base)
	if err != nil || again != p || n.Load() != 1 {
		t.Errorf("second install: %s, %v, %d requests in all", again, err, n.Load())
	}
}

func TestRefusesAWrongChecksum(t *testing.T) {
	other := append([]byte(nil), binary...)
	other[len(other)-1] ^= 1
	base, n := server(t, serve(other))
	i := newInstaller(t)
	_, err := i.Install(context.Background(), testRelease(), base)
	if err == nil || !strings.Contains(err.Error(), "refusing") || !strings.Contains(err.Error(), "sha256 is "+sum(other)) ||
		!strings.Contains(err.Error(), "pinned as "+sum(binary)) || problem.KindOf(err) != problem.Failed {
		t.Fatalf("error: %v", err)
	}
	if !strings.Contains(problem.FixOf(err), "nothing was installed") {
		t.Errorf("fix: %q", problem.FixOf(err))
	}
	if n.Load() != 1 {
		t.Errorf("a checksum mismatch was downloaded %d times", n.Load())
	}
	assertNothingInstalled(t, i)
}

func TestRefusesATruncatedDownloadAfterRetrying(t *testing.T) {
	base, n := server(t, truncate)
	i := newInstaller(t)
	var retries []string
	i.OnRetry = func(n, attempts int, err error) { retries = append(retries, fmt.Sprintf("%d/%d %v", n, attempts, err)) }
	_, err := i.Install(context.Background(), testRelease(), base)
	if err == nil || !strings.Contains(err.Error(), "ended after") {
		t.Fatalf("error: %v", err)
	}
	if len(retries) != DefaultAttempts-1 || !strings.HasPrefix(retries[0], "1/3 the download ended after") {
		t.Errorf("retries reported: %q", retries)
	}
	if n.Load() != DefaultAttempts {
		t.Errorf("%d attempts, want %d", n.Load(), DefaultAttempts)
	}
	assertNothingInstalled(t, i)
}

func TestRetriesABrokenDownload(t *testing.T) {
	base, n := server(t, func(k int, w http.ResponseWriter, r *http.Request) {
		switch k {
		case 1:
			truncate(k, w, r)
		case 2:
			w.WriteHeader(http.StatusServiceUnavailable)
		default:
			serve(binary)(k, w, r)
		}
	})
	i := newInstaller(t)
	if _, err := i.Install(context.Background(), testRelease(), base); err != nil || n.Load() != 3 {
		t.Fatalf("%v after %d requests", err, n.Load())
	}
}

func TestRefusesAnHTMLPage(t *testing.T) {
	page := []byte("<!DOCTYPE html>\n<html><body>Please sign in to the proxy</body></html>\n")
	for name, h := range map[string]func(int, http.ResponseWriter, *http.Request){
		"content type": func(_ int, w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			_, _ = w.Write(page)
		},
		"sniffed":       serve(page),
		"storage error": serve([]byte("<?xml version='1.0' encoding='UTF-8'?><Error><Code>NoSuchKey</Code></Error>")),
	} {
		t.Run(name, func(t *testing.T) {
			base, n := server(t, h)
			i := newInstaller(t)
			_, err := i.Install(context.Background(), testRelease(), base)
			if err == nil || !strings.Contains(err.Error(), "refusing") || !strings.Contains(err.Error(), "web page (text/") {
				t.Fatalf("error: %v", err)
			}
			if n.Load() != 1 {
				t.Errorf("%d requests", n.Load())
			}
			assertNothingInstalled(t, i)
		})
	}
}

func TestNotFoundIsNotRetried(t *testing.T) {
	base, n := server(t, serve(binary))
	i := newInstaller(t)
	r := testRelease()
	r.Version = "v0.0.0"
	r.SHA256 = map[string]string{"linux/amd64": sum(binary)}
	_, err := i.Install(context.Background(), r, base)
	if err == nil || !strings.Contains(err.Error(), "404") || !strings.Contains(problem.FixOf(err), "<base>/v0.0.0/kind-linux-amd64") {
		t.Fatalf("error: %v (fix %q)", err, problem.FixOf(err))
	}
	if n.Load() != 1 {
		t.Errorf("a missing file was asked for %d times", n.Load())
	}
}

func TestStalledDownloadIsAbandoned(t *testing.T) {
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	base, n := server(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", fmt.Sprint(len(binary)))
		_, _ = w.Write(binary[:1000])
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	i := newInstaller(t)
	i.StallTimeout, i.Attempts = 300*time.Millisecond, 2
	start := time.Now()
	_, err := i.Install(context.Background(), testRelease(), base)
	if err == nil || !strings.Contains(err.Error(), "nothing received for 300ms") {
		t.Fatalf("error: %v", err)
	}
	if n.Load() != 2 || time.Since(start) > 10*time.Second {
		t.Errorf("%d attempts in %s", n.Load(), time.Since(start))
	}
	assertNothingInstalled(t, i)
}

func TestGoesThroughTheProxyOfTheEnvironment(t *testing.T) {
	var seen atomic.Value
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen.Store(r.URL.String())
		serve(binary)(1, w, r)
	}))
	t.Cleanup(proxy.Close)
	i := newInstaller(t)
	env := map[string]string{"http_proxy": proxy.URL, "NO_PROXY": "example.invalid"}
	i.Getenv = func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	// The release host is never resolved: the proxy on loopback answers.
	if _, err := i.Install(context.Background(), testRelease(), "http://releases.invalid/dl"); err != nil {
		t.Fatal(err)
	}
	if got := seen.Load(); got != "http://releases.invalid/dl/v9.9.9/kind-linux-amd64" {
		t.Errorf("the proxy saw %v", got)
	}
}

func TestUnpinnedPlatformIsMissing(t *testing.T) {
	i := newInstaller(t)
	i.GOOS, i.GOARCH = "windows", "386"
	_, err := i.Install(context.Background(), testRelease(), "http://127.0.0.1:1")
	if problem.KindOf(err) != problem.Missing || !strings.Contains(err.Error(), "pinned for linux/amd64 only") || !strings.Contains(problem.FixOf(err), "example.invalid/docs") {
		t.Fatalf("error: %v (fix %q)", err, problem.FixOf(err))
	}
}

func TestBadBaseURL(t *testing.T) {
	i := newInstaller(t)
	_, err := i.Install(context.Background(), testRelease(), "ftp://mirror.invalid/kind")
	if problem.KindOf(err) != problem.Config {
		t.Fatalf("error: %v", err)
	}
}

func TestStalePartsAreRemoved(t *testing.T) {
	base, _ := server(t, serve(binary))
	i := newInstaller(t)
	if err := os.MkdirAll(i.Dir, 0o755); err != nil {
		t.Fatal(err)
	}
	old, recent := filepath.Join(i.Dir, ".kind-v9.9.9.1.part"), filepath.Join(i.Dir, ".kind-v9.9.9.2.part")
	for _, p := range []string{old, recent} {
		if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	past := time.Now().Add(-48 * time.Hour)
	_ = os.Chtimes(old, past, past)
	if _, err := i.Install(context.Background(), testRelease(), base); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(old); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a stale partial download is left: %v", err)
	}
	if _, err := os.Stat(recent); err != nil {
		t.Errorf("a recent partial download (another process's) was removed: %v", err)
	}
}

func TestPinnedReleases(t *testing.T) {
	for _, r := range []Release{Minikube, Kind} {
		for _, p := range []string{"linux/amd64", "linux/arm64", "darwin/amd64", "darwin/arm64"} {
			if !isSHA256(r.SHA256[p]) {
				t.Errorf("%s %s: no checksum for %s", r.Tool, r.Version, p)
			}
		}
	}
	if got := Minikube.URL("", "darwin", "arm64"); got != "https://github.com/kubernetes/minikube/releases/download/v1.38.1/minikube-darwin-arm64" {
		t.Errorf("minikube URL %s", got)
	}
	if got := Kind.URL("https://mirror.example/kind/", "linux", "amd64"); got != "https://mirror.example/kind/v0.33.0/kind-linux-amd64" {
		t.Errorf("kind mirror URL %s", got)
	}
	if _, err := Lookup("helm"); err == nil {
		t.Errorf("helm has no pinned release")
	}
}

func TestLinkedPins(t *testing.T) {
	defer func(s string) { linkedPins = s }(linkedPins)
	linkedPins = "kind/linux/riscv64=" + strings.Repeat("ab", 32) + ", kind/linux/amd64=" + strings.Repeat("CD", 32)
	r, err := Lookup("kind")
	if err != nil {
		t.Fatal(err)
	}
	if r.SHA256["linux/riscv64"] != strings.Repeat("ab", 32) || r.SHA256["linux/amd64"] != strings.Repeat("cd", 32) || r.SHA256["darwin/arm64"] != Kind.SHA256["darwin/arm64"] {
		t.Errorf("sums %v", r.SHA256)
	}
	if Kind.SHA256["linux/amd64"] == strings.Repeat("cd", 32) {
		t.Errorf("the pinned table itself was changed")
	}
	for _, bad := range []string{"kind/linux=" + strings.Repeat("ab", 32), "kind/linux/amd64=abc", "kind"} {
		linkedPins = bad
		if _, err := Lookup("kind"); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestDescribeAndBar(t *testing.T) {
	p := Progress{Attempt: 1, Done: 50 << 20, Total: 100 << 20, Elapsed: 5 * time.Second}
	if got := Describe(p); got != "50.0 MiB of 100.0 MiB (50%), 10.0 MiB/s" {
		t.Errorf("Describe: %q", got)
	}
	if got := Bar(p, 12); got != "[=====>    ]" {
		t.Errorf("Bar: %q", got)
	}
	if got := Bar(Progress{Done: 10, Total: 10}, 6); got != "[====]" {
		t.Errorf("full Bar: %q", got)
	}
	if got := Describe(Progress{Attempt: 2, Done: 2048, Total: -1}); got != "2.0 KiB, attempt 2" {
		t.Errorf("unknown total: %q", got)
	}
	if Bar(Progress{Done: 1, Total: -1}, 10) != "" {
		t.Errorf("a bar without a total")
	}
}
