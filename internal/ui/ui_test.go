package ui

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
	"time"
)

func envOf(m map[string]string) Env {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestDetect(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		env  map[string]string
		tty  bool
		want Style
	}{
		{"tty", map[string]string{"TERM": "xterm-256color"}, true, Style{Spinner: true, Color: true}},
		{"pipe", map[string]string{"TERM": "xterm"}, false, Style{}},
		{"tty, TERM=dumb", map[string]string{"TERM": "dumb"}, true, Style{}},
		{"tty, NO_COLOR", map[string]string{"NO_COLOR": "1"}, true, Style{}},
		{"tty, NO_COLOR empty is ignored", map[string]string{"NO_COLOR": ""}, true, Style{Spinner: true, Color: true}},
		{"buildkite pty", map[string]string{"BUILDKITE": "true"}, true, Style{Color: true}},
		{"github actions", map[string]string{"GITHUB_ACTIONS": "true"}, true, Style{Color: true}},
		{"gitlab", map[string]string{"GITLAB_CI": "true"}, true, Style{Color: true}},
		{"CI=false is not CI", map[string]string{"CI": "false"}, true, Style{Spinner: true, Color: true}},
		{"pipe, FORCE_COLOR", map[string]string{"FORCE_COLOR": "1"}, false, Style{Color: true}},
		{"pipe, FORCE_COLOR=0", map[string]string{"FORCE_COLOR": "0"}, false, Style{}},
		{"NO_COLOR beats FORCE_COLOR", map[string]string{"FORCE_COLOR": "1", "NO_COLOR": "1"}, true, Style{}},
	}
	for _, tc := range cases {
		if got := Detect(envOf(tc.env), tc.tty); got != tc.want {
			t.Errorf("%s: Detect = %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

// fakeClock advances one second per reading.
func fakeClock() func() time.Time {
	t := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	return func() time.Time { t = t.Add(time.Second); return t }
}

func TestPlainLinesAreAppendOnly(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	p := NewPrinter(&b, Options{Now: fakeClock()})
	p.Start("Ensuring cluster \"dev\"")
	p.Progress("Starting node")
	p.Warn("careful")
	p.End(true, "created")
	p.Start("Waiting for Kubernetes")
	p.End(false, "")
	want := ` • Ensuring cluster "dev" ...
   Starting node (+1.0s)
 ! careful
 ✓ Ensuring cluster "dev": created (2.0s)
 • Waiting for Kubernetes ...
 ✗ Waiting for Kubernetes (1.0s)
`
	if b.String() != want {
		t.Errorf("output:\n%s\nwant:\n%s", b.String(), want)
	}
	if strings.Contains(b.String(), "\x1b") || strings.Contains(b.String(), "\r") {
		t.Error("plain output contains escape codes")
	}
}

func TestQuietShowsOnlyWarnings(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	p := NewPrinter(&b, Options{Level: Quiet})
	p.Start("step")
	p.Progress("x")
	p.Info("info")
	p.Warn("warning")
	p.End(true, "done")
	if b.String() != " ! warning\n" {
		t.Errorf("quiet output = %q", b.String())
	}
}

func TestSpinnerRedrawsInPlace(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	fixed := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	p := NewPrinter(&b, Options{Style: Style{Spinner: true, Color: true}, Now: func() time.Time { return fixed }})
	p.Start("Ensuring cluster")
	p.Progress("Starting node")
	p.End(true, "created")
	out := b.String()
	if !strings.Contains(out, "\r\x1b[2K") || !strings.Contains(out, "Starting node") {
		t.Errorf("spinner output = %q", out)
	}
	if !strings.HasSuffix(out, "\r\x1b[2K \x1b[32m✓\x1b[0m Ensuring cluster: created \x1b[2m(0.0s)\x1b[0m\n") {
		t.Errorf("final line = %q", out)
	}
}

func TestAsk(t *testing.T) {
	for _, tc := range []struct {
		in   string
		def  bool
		want bool
	}{
		{"y\n", false, true}, {"YES\n", false, true}, {"\n", true, true}, {"\n", false, false},
		{"n\n", true, false}, {"maybe\n", true, false}, {"", true, false}, // end of input is no
	} {
		var out bytes.Buffer
		p := NewPrinter(&out, Options{Style: Style{Spinner: true}})
		p.Start("Checking minikube")
		got, err := p.Ask(context.Background(), strings.NewReader(tc.in), "Download minikube?", tc.def)
		p.End(true, "")
		if err != nil || got != tc.want {
			t.Errorf("answer %q (default %v): %v, %v; want %v", tc.in, tc.def, got, err, tc.want)
		}
		if !strings.Contains(out.String(), "Download minikube? [") {
			t.Errorf("question not shown: %q", out.String())
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r, w := io.Pipe()
	defer w.Close()
	p := NewPrinter(io.Discard, Options{})
	if _, err := p.Ask(ctx, r, "Download?", true); err != context.Canceled {
		t.Errorf("a cancelled question: %v", err)
	}
}
