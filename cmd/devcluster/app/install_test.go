package app

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	fakeminikube "github.com/devcluster/devcluster/internal/fake/minikube"
	"github.com/devcluster/devcluster/internal/run"
	"github.com/devcluster/devcluster/internal/run/runtest"
)

// releaseServer serves any path with body and counts requests.
func releaseServer(t *testing.T, body string) (string, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.Header().Set("Content-Length", fmt.Sprint(len(body)))
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(s.Close)
	return s.URL + "/minikube", &n
}

// missingMinikube is a runner without minikube, with Docker.
func missingMinikube() *runtest.Fake {
	return &runtest.Fake{Handler: func(argv []string) runtest.Reply {
		if argv[0] == "docker" {
			return runtest.Reply{Stdout: "Client: 28.2.2\n"}
		}
		return runtest.Reply{NotFound: true}
	}}
}

// ttyIn is standard input on a terminal.
type ttyIn struct{ *strings.Reader }

func (ttyIn) Write(p []byte) (int, error) { return len(p), nil }

func TestInstallPolicy(t *testing.T) {
	const notBinary = "\x7fELF this is not minikube v1.38.1"
	for _, tc := range []struct {
		name     string
		args     []string
		env      map[string]string
		stdin    string
		tty      bool
		code     int
		requests int32
		want     []string
	}{
		{name: "no terminal, no CI: says how", code: ExitMissing, want: []string{"minikube is not installed", "run `devcluster up --install`", ".cache/devcluster/bin"}},
		{name: "--no-install: as before", args: []string{"--no-install"}, code: ExitMissing, want: []string{"minikube is not installed", "MINIKUBE_BINARY"}},
		{name: "CI downloads", env: map[string]string{"CI": "true"}, code: ExitFailed, requests: 1,
			want: []string{"refusing the minikube v1.38.1 download", "sha256 is ", "nothing was installed"}},
		{name: "--install downloads", args: []string{"--install"}, code: ExitFailed, requests: 1, want: []string{"refusing the minikube v1.38.1 download"}},
		{name: "terminal: no", tty: true, stdin: "n\n", code: ExitMissing, want: []string{"Download minikube v1.38.1", "[Y/n]", "install it yourself"}},
		{name: "terminal: enter is yes", tty: true, stdin: "\n", code: ExitFailed, requests: 1, want: []string{"Download minikube v1.38.1", "refusing"}},
		{name: "both flags", args: []string{"--install", "--no-install"}, code: ExitUsage, want: []string{"contradict"}},
		{name: "--install-only downloads without asking", args: []string{"--install-only"}, code: ExitFailed, requests: 1, want: []string{"refusing the minikube v1.38.1 download"}},
		{name: "--install-only and --no-install", args: []string{"--install-only", "--no-install"}, code: ExitUsage, want: []string{"contradict"}},
		{name: "bad mirror variable", env: map[string]string{"CI": "true", "DEVCLUSTER_MINIKUBE_URL": "ftp://x"}, code: ExitUsage, want: []string{"DEVCLUSTER_MINIKUBE_URL: invalid URL"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.runner = missingMinikube()
			base, n := releaseServer(t, notBinary)
			h.env["DEVCLUSTER_MINIKUBE_URL"] = base
			for k, v := range tc.env {
				h.env[k] = v
			}
			h.tty = tc.tty
			var in io.Reader = strings.NewReader(tc.stdin)
			if tc.tty {
				in = ttyIn{strings.NewReader(tc.stdin)}
			}
			code := h.runWith(context.Background(), in, append([]string{"up"}, tc.args...)...)
			if code != tc.code {
				t.Errorf("exit %d, want %d\n%s", code, tc.code, h.stderr.String())
			}
			if n.Load() != tc.requests {
				t.Errorf("%d downloads, want %d", n.Load(), tc.requests)
			}
			for _, w := range tc.want {
				if !strings.Contains(h.stderr.String(), w) {
					t.Errorf("stderr lacks %q:\n%s", w, h.stderr.String())
				}
			}
			entries, _ := os.ReadDir(filepath.Join(h.dir, ".cache", "devcluster", "bin"))
			for _, e := range entries {
				t.Errorf("left in the tools directory: %s", e.Name())
			}
		})
	}
}

func TestNoDriverIsCheckedBeforeDownloading(t *testing.T) {
	h := newHarness(t)
	h.runner = &runtest.Fake{Handler: func([]string) runtest.Reply { return runtest.Reply{NotFound: true} }}
	base, n := releaseServer(t, "x")
	h.env["DEVCLUSTER_MINIKUBE_URL"], h.env["CI"] = base, "true"
	if code := h.run("up"); code != ExitMissing || !strings.Contains(h.stderr.String(), "minikube has no driver") || n.Load() != 0 {
		t.Fatalf("exit %d, %d downloads\n%s", code, n.Load(), h.stderr.String())
	}
}

// An installed release is used by every command when the tool is not on
// PATH, without a download.
func TestInstalledReleaseIsUsed(t *testing.T) {
	h := newHarness(t)
	bin := filepath.Join(h.dir, ".cache", "devcluster", "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	installed := filepath.Join(bin, "minikube-v1.38.1")
	if err := os.WriteFile(installed, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	fake := h.runner.(*fakeminikube.Runner)
	var ran, other atomic.Int32
	h.runner = runFunc(func(ctx context.Context, c run.Cmd) (run.Result, error) {
		if c.Name != installed {
			other.Add(1)
			t.Errorf("ran %s, not the installed minikube", c.Name)
		}
		ran.Add(1)
		c.Name = "minikube"
		return fake.Run(ctx, c)
	})
	for _, args := range [][]string{{"up"}, {"status"}, {"down"}} {
		if code := h.run(args...); code != 0 {
			t.Fatalf("%v: exit %d\n%s", args, code, h.stderr.String())
		}
	}
	if ran.Load() == 0 || other.Load() != 0 {
		t.Errorf("the installed minikube ran %d times, others %d", ran.Load(), other.Load())
	}
}

type runFunc func(context.Context, run.Cmd) (run.Result, error)

func (f runFunc) Run(ctx context.Context, c run.Cmd) (run.Result, error) { return f(ctx, c) }

// LookPath finds nothing: no tool is on PATH.
func (runFunc) LookPath(name string) (string, error) {
	return "", &exec.Error{Name: name, Err: exec.ErrNotFound}
}

// A mirror URL with credentials (DEVCLUSTER_KIND_URL=http://user:TOKEN@…)
// never shows them: not in the progress lines, the error, GitHub's ::error
// annotation, the job summary, nor any file `up` leaves (the diagnostics
// bundle); nor does a bad mirror URL in the configuration file.
func TestMirrorCredentialsAreNeverShown(t *testing.T) {
	const secret = "s3cr3tT0KEN"
	for _, tc := range []struct {
		name     string
		userinfo string
		status   int
		code     int
	}{
		{name: "password, 404", userinfo: "user:" + secret, status: http.StatusNotFound, code: ExitFailed},
		{name: "password, 502 retried", userinfo: "user:" + secret, status: http.StatusBadGateway, code: ExitFailed},
		{name: "token as the user name", userinfo: secret, status: http.StatusBadGateway, code: ExitFailed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.writeConfig("provider: kind\n")
			h.runner = &runtest.Fake{Handler: func(argv []string) runtest.Reply {
				if argv[0] == "docker" {
					return runtest.Reply{Stdout: "Client: 28.2.2\n"}
				}
				return runtest.Reply{NotFound: true}
			}}
			var n atomic.Int32
			s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				n.Add(1)
				w.WriteHeader(tc.status)
			}))
			t.Cleanup(s.Close)
			summary := filepath.Join(h.dir, "summary.md")
			h.env["DEVCLUSTER_KIND_URL"] = strings.Replace(s.URL, "http://", "http://"+tc.userinfo+"@", 1) + "/kind"
			h.env["CI"], h.env["GITHUB_ACTIONS"], h.env["GITHUB_STEP_SUMMARY"] = "true", "true", summary
			code := h.run("up", "--install")
			if code != tc.code || n.Load() == 0 {
				t.Fatalf("exit %d after %d requests, want %d\n%s", code, n.Load(), tc.code, h.stderr.String())
			}
			if !strings.Contains(h.stderr.String(), "::error") || !strings.Contains(h.stderr.String(), "127.0.0.1") {
				t.Errorf("no annotation naming the mirror:\n%s", h.stderr.String())
			}
			for what, text := range map[string]string{"stdout": h.stdout.String(), "stderr": h.stderr.String()} {
				if strings.Contains(text, secret) {
					t.Errorf("%s shows the credential:\n%s", what, text)
				}
			}
			if b, err := os.ReadFile(summary); err != nil || !strings.Contains(string(b), "127.0.0.1") {
				t.Errorf("summary: %v\n%s", err, b)
			}
			_ = filepath.WalkDir(h.dir, func(p string, d os.DirEntry, err error) error {
				if err == nil && d.Type().IsRegular() {
					if b, err := os.ReadFile(p); err == nil && strings.Contains(string(b), secret) {
						t.Errorf("%s holds the credential:\n%s", p, b)
					}
				}
				return nil
			})
		})
	}
	t.Run("invalid URL in the file", func(t *testing.T) {
		h := newHarness(t)
		h.writeConfig("provider: kind\ninstall:\n  kindURL: ftp://user:" + secret + "@127.0.0.1/kind\n")
		if code := h.run("up"); code != ExitUsage || strings.Contains(h.stderr.String(), secret) || !strings.Contains(h.stderr.String(), "install.kindURL") {
			t.Errorf("exit %d\n%s", code, h.stderr.String())
		}
		h.writeConfig("provider: kind\n")
		h.env["DEVCLUSTER_KIND_URL"] = "http://user:" + secret + "@127.0.0.1:notaport/kind"
		h.env["CI"] = "true"
		h.runner = missingMinikube()
		if code := h.run("up"); code != ExitUsage || strings.Contains(h.stderr.String(), secret) || !strings.Contains(h.stderr.String(), "DEVCLUSTER_KIND_URL") {
			t.Errorf("exit %d\n%s", code, h.stderr.String())
		}
	})
}

// up --install-only with the tool present: exit 0, nothing created.
func TestUpInstallOnlyStartsNothing(t *testing.T) {
	h := newHarness(t)
	fake := h.runner.(*fakeminikube.Runner)
	if code := h.run("up", "--install-only"); code != 0 || !strings.Contains(h.stdout.String(), "minikube is installed; no cluster was created") {
		t.Fatalf("exit %d\n%s%s", code, h.stdout.String(), h.stderr.String())
	}
	for _, c := range fake.Calls() {
		if c[1] != "version" {
			t.Errorf("install-only ran %v", c)
		}
	}
}
