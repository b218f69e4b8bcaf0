package app

import (
	"bytes"
	"context"
	"net"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/devcluster/devcluster/internal/run"
	"github.com/devcluster/devcluster/internal/testutil"
	"github.com/devcluster/devcluster/internal/ui"
)

// `registry serve` and `lb --watch` say what they serve through the
// printer like every other command: -q silences it, and the registry's own
// warnings come out as warnings (a GitHub annotation in GitHub's CI mode).
func TestForegroundCommandsHonourQuietAndCI(t *testing.T) {
	h := newHarness(t)
	h.env["KUBECONFIG"] = testutil.Kubeconfig(t, "staging")
	h.writeConfig("loadBalancer:\n  ip: 10.1.2.3\n")
	for _, tc := range []struct {
		args []string
		said string
	}{
		{[]string{"registry", "serve", "--data-dir", filepath.Join(h.dir, "data"), "--listen", "127.0.0.1:0"}, "Serving the registry on 127.0.0.1:"},
		{[]string{"lb", "--watch", "--provider", "existing", "--context", "staging"}, `Assigning 10.1.2.3 to LoadBalancer Services in "devcluster"; Ctrl-C stops.`},
	} {
		for _, quiet := range []bool{false, true} {
			args := tc.args
			if quiet {
				args = append([]string{"-q"}, args...)
			}
			ctx, cancel := context.WithTimeout(t.Context(), 1500*time.Millisecond)
			code := h.runWith(ctx, strings.NewReader(""), args...)
			cancel()
			// A deadline ends them as Ctrl-C does: they stop serving, with
			// no error of their own.
			if code != ExitOK {
				t.Errorf("%q: exit %d, want %d once stopped\n%s", args, code, ExitOK, h.stderr.String())
			}
			if said := strings.Contains(h.stderr.String(), tc.said); said == quiet {
				t.Errorf("%q: says %q: %v, want %v\n%s", args, tc.said, said, !quiet, h.stderr.String())
			}
		}
	}
}

// The registry's log lines reach the printer line by line: warnings and
// errors as warnings, the rest as information, escapes from clients
// removed.
func TestRegistryLogLinesGoThroughThePrinter(t *testing.T) {
	var out bytes.Buffer
	env := func(string) (string, bool) { return "", false }
	p := ui.NewPrinter(&out, ui.Options{Style: ui.Detect(env, false), Level: ui.Normal, CI: ui.GitHub})
	l := &logLines{p: p}
	// Written in pieces that do not end at the lines' ends.
	for _, piece := range []string{"time=1 level=info msg=\"GET /v2/ \x1b[31mred\x1b[0m\"\ntime=2 level=er", "ror msg=\"disk full\"\ntime=3 level=info msg=last"} {
		if n, err := l.Write([]byte(piece)); n != len(piece) || err != nil {
			t.Fatalf("Write: %d, %v", n, err)
		}
	}
	if strings.Contains(out.String(), "msg=last") {
		t.Errorf("a line was printed before its end:\n%s", out.String())
	}
	l.flush()
	got := out.String()
	for _, want := range []string{`time=1 level=info msg="GET /v2/ red"`, `::warning::time=2 level=error msg="disk full"`, "time=3 level=info msg=last"} {
		if !strings.Contains(got, want) {
			t.Errorf("printed lines lack %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "\x1b") || strings.Contains(got, "::warning::time=1") {
		t.Errorf("an escape or an information line as a warning:\n%s", got)
	}
}

// lookups records the executables a command looks for on PATH.
type lookups struct {
	run.Runner
	mu    sync.Mutex
	names []string
}

func (l *lookups) LookPath(name string) (string, error) {
	l.mu.Lock()
	l.names = append(l.names, name)
	l.mu.Unlock()
	if lp, ok := l.Runner.(interface{ LookPath(string) (string, error) }); ok {
		return lp.LookPath(name)
	}
	return "", exec.ErrNotFound
}

// A command builds only what it uses: the registry commands no provider,
// a kind or existing cluster's commands not minikube's (which looked for
// the minikube executable on every command).
func TestDependenciesArePerCommand(t *testing.T) {
	h := newHarness(t)
	l := &lookups{Runner: h.runner}
	h.runner = l
	h.env["KUBECONFIG"] = testutil.Kubeconfig(t, "staging")
	for _, tc := range []struct {
		args      []string
		want, not []string
	}{
		{[]string{"registry", "ls", "--address", unusedAddress(t)}, nil, []string{"minikube", "kind"}},
		{[]string{"status", "--provider", "kind"}, []string{"kind"}, []string{"minikube"}},
		{[]string{"status", "--provider", "existing", "--context", "staging"}, nil, []string{"minikube", "kind"}},
		{[]string{"status"}, []string{"minikube"}, []string{"kind"}},
		{[]string{"list"}, nil, []string{"minikube", "kind"}},
	} {
		l.names = nil
		h.run(tc.args...)
		for _, w := range tc.want {
			if !slices.Contains(l.names, w) {
				t.Errorf("%q looked for %q, not %s", tc.args, l.names, w)
			}
		}
		for _, n := range tc.not {
			if slices.Contains(l.names, n) {
				t.Errorf("%q looked for %s (%q)", tc.args, n, l.names)
			}
		}
	}
}

// unusedAddress is a loopback address nothing listens on.
func unusedAddress(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return addr
}
