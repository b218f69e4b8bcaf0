package browser

import (
	"context"
	"errors"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/devcluster/devcluster/internal/run"
)

// fakeRunner has the programs of installed and records what it ran.
type fakeRunner struct {
	installed []string
	mu        sync.Mutex
	ran       [][]string
}

func (f *fakeRunner) LookPath(name string) (string, error) {
	if slices.Contains(f.installed, name) {
		return "/usr/bin/" + name, nil
	}
	return "", exec.ErrNotFound
}

func (f *fakeRunner) Run(_ context.Context, c run.Cmd) (run.Result, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ran = append(f.ran, c.Argv())
	return run.Result{}, nil
}

func envOf(m map[string]string) Env {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

const u = "http://127.0.0.1:8080"

func TestOpenerPerPlatform(t *testing.T) {
	for _, tc := range []struct {
		name      string
		goos      string
		env       map[string]string
		installed []string
		want      []string
		err       error
	}{
		{"linux desktop", "linux", map[string]string{"DISPLAY": ":0"}, []string{"xdg-open"}, []string{"xdg-open", u}, nil},
		{"linux wayland", "linux", map[string]string{"WAYLAND_DISPLAY": "wayland-0"}, []string{"xdg-open", "x-www-browser"}, []string{"xdg-open", u}, nil},
		{"linux without xdg-utils", "linux", map[string]string{"DISPLAY": ":0"}, []string{"x-www-browser"}, []string{"x-www-browser", u}, nil},
		{"linux over ssh", "linux", map[string]string{"SSH_CONNECTION": "1 2 3 4"}, []string{"xdg-open"}, nil, ErrNoDisplay},
		{"linux nothing installed", "linux", map[string]string{"DISPLAY": ":0"}, nil, nil, ErrNoOpener},
		{"wsl with wslu", "linux", map[string]string{"WSL_DISTRO_NAME": "Ubuntu"}, []string{"wslview", "xdg-open"}, []string{"wslview", u}, nil},
		{"wsl without wslu", "linux", map[string]string{"WSL_DISTRO_NAME": "Ubuntu"}, []string{"rundll32.exe"}, []string{"rundll32.exe", "url.dll,FileProtocolHandler", u}, nil},
		{"freebsd", "freebsd", map[string]string{"DISPLAY": ":0"}, []string{"xdg-open"}, []string{"xdg-open", u}, nil},
		{"macos", "darwin", nil, []string{"open"}, []string{"open", u}, nil},
		{"macos over ssh", "darwin", map[string]string{"SSH_CONNECTION": "1 2 3 4"}, []string{"open"}, nil, ErrNoDisplay},
		{"windows", "windows", nil, []string{"rundll32"}, []string{"rundll32", "url.dll,FileProtocolHandler", u}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &fakeRunner{installed: tc.installed}
			o := Opener{Runner: r, Env: envOf(tc.env), GOOS: tc.goos}
			err := o.Open(context.Background(), u)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("Open: %v, want %v", err, tc.err)
				}
				if len(r.ran) != 0 {
					t.Errorf("ran %v although it could not open", r.ran)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(r.ran) != 1 || !slices.Equal(r.ran[0], tc.want) {
				t.Errorf("ran %q, want %q", r.ran, tc.want)
			}
		})
	}
}

// A URL from the cluster (an annotation anyone with write access to a
// Service can set) never reaches the opener as a flag, a file, another
// scheme or shell syntax.
func TestOnlyPlainWebURLsAreOpened(t *testing.T) {
	for _, bad := range []string{
		"", "--help", "-http://x", "file:///etc/passwd", "javascript:alert(1)", "ms-settings:", "http://", "http:opaque",
		"http://user:pw@127.0.0.1:80", "http://127.0.0.1:80/a b", "http://127.0.0.1:80/&calc", "http://127.0.0.1/\"x", "http://x/^y",
		"http://x/|y", "http://x/\x1b[31m", "http://x/\ny", "http://x/`id`",
	} {
		r := &fakeRunner{installed: []string{"xdg-open", "open", "rundll32"}}
		for _, goos := range []string{"linux", "darwin", "windows"} {
			err := Opener{Runner: r, Env: envOf(map[string]string{"DISPLAY": ":0"}), GOOS: goos}.Open(context.Background(), bad)
			if err == nil {
				t.Errorf("%s: opened %q", goos, bad)
			}
		}
		if len(r.ran) != 0 {
			t.Errorf("%q: ran %v", bad, r.ran)
		}
	}
	for _, good := range []string{"http://127.0.0.1:8080", "https://127.0.0.1:8443/", "http://[::1]:80/path?q=1%20x", "http://192.168.49.2:30080"} {
		if err := Check(good); err != nil {
			t.Errorf("Check(%q): %v", good, err)
		}
	}
}

func TestOpenerFailureIsAnError(t *testing.T) {
	r := failing{}
	err := Opener{Runner: r, Env: envOf(map[string]string{"DISPLAY": ":0"}), GOOS: "linux"}.Open(context.Background(), u)
	if err == nil || !strings.Contains(err.Error(), "opening the browser") {
		t.Fatalf("Open with a failing xdg-open: %v", err)
	}
}

type failing struct{}

func (failing) LookPath(name string) (string, error) { return "/usr/bin/" + name, nil }
func (failing) Run(_ context.Context, c run.Cmd) (run.Result, error) {
	return run.Result{ExitCode: 3}, &run.Error{Argv: c.Argv(), ExitCode: 3, Err: errors.New("exit status 3")}
}
