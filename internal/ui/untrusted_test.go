package ui

import (
	"bytes"
	"io"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/devcluster/devcluster/internal/testutil"
)

// hostile are lines a container, an event or a command's output may hold:
// every form of workflow command the GitHub runner understands (v2 at the
// start of a line, indented by any white space, after a carriage return,
// case-insensitive, hidden by characters .NET's culture-sensitive matching
// ignores; the legacy ##[…] form anywhere), Buildkite group headers, GitLab
// section markers, and terminal escape sequences.
var hostile = []string{
	"::add-mask::devcluster",
	"::stop-commands::pwned",
	"::error file=app.go,line=1,title=fake::a fake annotation",
	"::warning::a fake warning",
	"::endgroup::",
	"    ::notice::indented",
	"\t::debug::after a tab",
	"\u00a0\u3000::add-mask::after unicode spaces",
	"::GROUP::upper case",
	"::x::a command the runner does not know",
	"##[x]a legacy command the runner does not know",
	"progress 10%\r::set-output name=a::after a carriage return",
	"the legacy form mid-line ##[error]fake error",
	"##[add-mask]legacy",
	"##[group]legacy group",
	"#\u00ad#[error]soft hyphen",
	":\u200d:add-mask::zero-width joiner",
	"--- a fake Buildkite group",
	"+++ a fake expanded group",
	"~~~ a fake quiet group",
	"^^^ +++",
	"\x1b[0Ksection_start:1700000000:fake[collapsed=true]\r\x1b[0Ka fake GitLab section",
	"\x1b[31mred\x1b[0m and \x1b]1339;url=https://example.invalid;content=a link\x07 and \x1b]8;;https://example.invalid\x1b\\osc 8\x1b]8;;\x1b\\",
	"\x1b_bk;t=1700000000000\x07a Buildkite timestamp, \x1bPq#0;2;0;0;0#1~~@@vv@@~~$-\x1b\\a DCS, \u009b2Ja C1 CSI, \u009d0;title\u009c a C1 OSC",
	"bell\a backspace\b nul\x00 del\x7f vt\v ff\f esc at the end\x1b",
	"bidi \u202eevil\u202c and an invalid byte \xff",
}

var hostileText = strings.Join(hostile, "\n")

// feed passes hostile text through every method that prints text from
// outside devcluster, the way bootstrap and the command layer do.
func feed(p *Printer) {
	p.Start("Waiting for rollouts " + hostile[0])
	for _, h := range hostile {
		p.Progress(h)
	}
	for i := 0; i < maxGitHubAnnotations+2; i++ {
		p.Warn("kept the data: " + hostileText)
	}
	p.Info(hostileText)
	p.Debug(hostileText)
	p.End(false, hostile[2])
	p.ErrorBlock("rolling out: Deployment apps/web is failing: pod web-1: CrashLoopBackOff\n  last log lines of web-1/app:\n    "+
		strings.Join(hostile, "\n    "), "output of `minikube start`:\n"+hostileText, "see "+hostile[1])
}

func printed(ci CI) string {
	var b bytes.Buffer
	p := NewPrinter(&b, Options{CI: ci, Level: Verbose, Now: fakeClock()})
	feed(p)
	return b.String()
}

// Nothing a container prints becomes a workflow command: the only commands
// the runner acts on are devcluster's own group, its annotations, and the
// stop-commands blocks around text from outside.
func TestGitHubUntrustedTextRunsNoCommand(t *testing.T) {
	t.Parallel()
	out := printed(GitHub)
	for _, c := range testutil.ForeignGitHubCommands(out) {
		t.Errorf("line %d: the runner would act on %q (%s)", c.Line, c.Raw, c.Name)
	}
	counts := map[string]int{}
	for _, c := range testutil.GitHubCommands(out) {
		if c.Name == "stop-commands" {
			counts["stop"]++
		} else if regexp.MustCompile(`^::[0-9a-f]{32}::$`).MatchString(c.Raw) {
			counts["resume"]++
		} else {
			counts[c.Name]++
		}
	}
	want := map[string]int{"group": 1, "endgroup": 1, "warning": maxGitHubAnnotations, "error": 1}
	for k, n := range want {
		if counts[k] != n {
			t.Errorf("%d %s commands, want %d", counts[k], k, n)
		}
	}
	if counts["stop"] == 0 || counts["stop"] != counts["resume"] {
		t.Errorf("%d stop-commands, %d resumed", counts["stop"], counts["resume"])
	}
	if t.Failed() {
		t.Logf("output:\n%s", out)
	}
}

// Each block gets a token of its own, so one block's text cannot guess the
// next one's.
func TestGitHubStopTokensAreFresh(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, m := range regexp.MustCompile(`::stop-commands::([0-9a-f]+)`).FindAllStringSubmatch(printed(GitHub), -1) {
		if seen[m[1]] {
			t.Errorf("token %s used twice", m[1])
		}
		seen[m[1]] = true
	}
	if len(seen) < 2 {
		t.Errorf("%d stop-commands blocks", len(seen))
	}
}

// own is what the printer itself writes in each mode: GitLab's section
// markers.
var own = regexp.MustCompile(`\x1b\[0Ksection_(start|end):\d+:devcluster_[a-z0-9_.-]+(\[collapsed=true\])?\r\x1b\[0K`)

// In every mode no escape sequence or control character from outside
// reaches the log, and the visible text does.
func TestUntrustedEscapesAreStripped(t *testing.T) {
	t.Parallel()
	for _, ci := range []CI{NoCI, GenericCI, Buildkite, GitHub, GitLab} {
		out := own.ReplaceAllString(printed(ci), "")
		for _, r := range out {
			if (r < 0x20 && r != '\n' && r != '\t') || (r >= 0x7f && r < 0xa0) || r == '\u202e' || r == '\u00ad' || r == '\u200d' {
				t.Errorf("%s: control character %U in the output", ci, r)
				break
			}
		}
		for _, visible := range []string{"red and  and osc 8", "a Buildkite timestamp, a DCS, a C1 CSI,  a C1 OSC",
			"bell backspace nul del vt ff esc at the end", "bidi evil and an invalid byte \ufffd", "progress 10%"} {
			if !strings.Contains(out, visible) {
				t.Errorf("%s: the output lacks %q", ci, visible)
			}
		}
		if t.Failed() {
			t.Logf("%s output:\n%q", ci, out)
		}
	}
}

var ansi = regexp.MustCompile(`\x1b\[[0-9;]*[A-Za-z]`)

// On Buildkite no line from outside starts a group or expands one: the
// only headers are devcluster's step, its failure and its error.
func TestBuildkiteUntrustedLinesStartNoGroup(t *testing.T) {
	t.Parallel()
	var headers []string
	for _, l := range strings.Split(printed(Buildkite), "\n") {
		// The agent strips colour codes before it looks for headers.
		l = ansi.ReplaceAllString(l, "")
		if regexp.MustCompile(`^(---|\+\+\+|~~~)\s`).MatchString(l) || strings.HasPrefix(l, "^^^ +++") {
			headers = append(headers, l)
		}
	}
	want := []string{"--- Waiting for rollouts ::add-mask::devcluster", "^^^ +++",
		"+++ :x: rolling out: Deployment apps/web is failing: pod web-1: CrashLoopBackOff"}
	if strings.Join(headers, "\n") != strings.Join(want, "\n") {
		t.Errorf("Buildkite headers:\n%s\nwant:\n%s", strings.Join(headers, "\n"), strings.Join(want, "\n"))
	}
}

// A clock whose timers fire when the test moves it on.
type testClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*testTimer
}

type testTimer struct {
	at      time.Time
	f       func()
	stopped bool
}

func newTestClock() *testClock { return &testClock{now: time.Unix(1700000000, 0)} }

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *testClock) AfterFunc(d time.Duration, f func()) func() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &testTimer{at: c.now.Add(d), f: f}
	c.timers = append(c.timers, t)
	return func() bool { c.mu.Lock(); defer c.mu.Unlock(); was := !t.stopped; t.stopped = true; return was }
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	var due []func()
	for _, t := range c.timers {
		if !t.stopped && !t.at.After(c.now) {
			t.stopped = true
			due = append(due, t.f)
		}
	}
	c.mu.Unlock()
	for _, f := range due {
		f()
	}
}

// GitLab: a short step stays one collapsed section, printed when it ends;
// a step that runs longer than a few seconds is shown as it goes, in an
// expanded section, so a job killed in the middle keeps its log.
func TestGitLabStreamsLongSteps(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	c := newTestClock()
	p := NewPrinter(&b, Options{CI: GitLab, Now: c.Now, AfterFunc: c.AfterFunc})

	p.Start("Checking minikube")
	c.Advance(time.Second)
	p.Progress("minikube version: v1.38.1")
	p.End(true, "v1.38.1")
	want := "\x1b[0Ksection_start:1700000000:devcluster_1_checking_minikube[collapsed=true]\r\x1b[0KChecking minikube\n" +
		" • Checking minikube ...\n" +
		"   minikube version: v1.38.1 (+1.0s)\n" +
		" ✓ Checking minikube: v1.38.1 (1.0s)\n" +
		"\x1b[0Ksection_end:1700000001:devcluster_1_checking_minikube\r\x1b[0K\n"
	if b.String() != want {
		t.Fatalf("a short step:\n%q\nwant:\n%q", b.String(), want)
	}
	b.Reset()

	p.Start("Starting the cluster")
	c.Advance(time.Second)
	p.Progress("Pulling the base image")
	if b.Len() != 0 {
		t.Fatalf("a step printed before it ran long: %q", b.String())
	}
	c.Advance(gitlabStreamAfter)
	got := b.String()
	want = "\x1b[0Ksection_start:1700000001:devcluster_2_starting_the_cluster\r\x1b[0KStarting the cluster\n" +
		" • Starting the cluster ...\n" +
		"   Pulling the base image (+1.0s)\n"
	if got != want {
		t.Fatalf("a long step after %s:\n%q\nwant:\n%q", gitlabStreamAfter, got, want)
	}
	c.Advance(time.Second)
	p.Progress("Creating the node")
	if !strings.HasSuffix(b.String(), "   Creating the node (+5.0s)\n") {
		t.Fatalf("a line of a streamed step is not printed at once: %q", b.String())
	}
	// Were the job killed now, everything reported so far is in its log.
	p.End(true, "created")
	want += "   Creating the node (+5.0s)\n" +
		" ✓ Starting the cluster: created (5.0s)\n" +
		"\x1b[0Ksection_end:1700000006:devcluster_2_starting_the_cluster\r\x1b[0K\n"
	if b.String() != want {
		t.Fatalf("a streamed step's end:\n%q\nwant:\n%q", b.String(), want)
	}
	b.Reset()

	// A timer of an ended step does nothing to the next one.
	p.Start("Applying manifests")
	c.Advance(time.Second)
	p.End(false, "")
	if !strings.HasPrefix(b.String(), "\x1b[0Ksection_start:1700000006:devcluster_3_applying_manifests\r") {
		t.Errorf("a failed short step is not one expanded section: %q", b.String())
	}
	b.Reset()
	c.Advance(gitlabStreamAfter)
	if b.Len() != 0 {
		t.Errorf("a stale timer printed %q", b.String())
	}
}

// A result table (standard output) holds text from the cluster in its
// cells: Text cleans it and, on GitHub Actions, shields a line the runner
// could act on; a plain table is printed as it is.
func TestTextShieldsResultTables(t *testing.T) {
	t.Parallel()
	table := "CLUSTER\tdev\nAPI\tnot ready: ::add-mask::hidden\n  Deployment apps/web\tnot ready\tBackOff ##[error]fake \x1b]0;title\x07\x1b[31mred\n::stop-commands::x\n"
	for _, ci := range []CI{NoCI, GenericCI, Buildkite, GitHub, GitLab} {
		var b strings.Builder
		NewPrinter(io.Discard, Options{CI: ci}).Text(&b, table)
		out := b.String()
		if strings.ContainsAny(out, "\x1b\x07") {
			t.Errorf("%s: escape sequences left: %q", ci, out)
		}
		if ci == GitHub {
			for _, c := range testutil.ForeignGitHubCommands(out) {
				t.Errorf("github: line %d: the runner would act on %q", c.Line, c.Raw)
			}
		}
		if !strings.Contains(out, "CLUSTER\tdev\n") || !strings.Contains(out, "BackOff ##[error]fake") {
			t.Errorf("%s: the table is not kept: %q", ci, out)
		}
	}
	var b strings.Builder
	NewPrinter(io.Discard, Options{CI: GitHub}).Text(&b, "CLUSTER\tdev\nSTATE\tRunning\n")
	if b.String() != "CLUSTER\tdev\nSTATE\tRunning\n" {
		t.Errorf("a plain table was changed on GitHub: %q", b.String())
	}
}
