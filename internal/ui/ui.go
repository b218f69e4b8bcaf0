// Package ui renders devcluster's progress for people: a spinner on an
// interactive terminal, append-only lines with elapsed times everywhere else
// (pipes, CI systems such as Buildkite that run jobs in a PTY), colour only
// where it is wanted. Library packages never print; they report through the
// methods of Printer, which the command layer creates.
package ui

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/term"
)

// Env looks up an environment variable (os.LookupEnv in production).
type Env func(key string) (string, bool)

// ciVariables mark a CI job. Buildkite runs jobs in a PTY, so a terminal
// alone does not mean a person is watching.
var ciVariables = []string{"BUILDKITE", "GITHUB_ACTIONS", "GITLAB_CI", "CI"}

// IsCI reports whether env describes a CI job.
func IsCI(env Env) bool {
	for _, k := range ciVariables {
		if v, ok := env(k); ok && truthy(v) {
			return true
		}
	}
	return false
}

func truthy(v string) bool {
	v = strings.ToLower(strings.TrimSpace(v))
	return v != "" && v != "0" && v != "false" && v != "no"
}

// Style is how output is rendered.
type Style struct {
	// Spinner animates the current step in place.
	Spinner bool
	// Color adds ANSI colours.
	Color bool
}

// Detect decides the Style for a stream from the environment and whether the
// stream is a terminal:
//   - FORCE_COLOR (non-empty, not 0/false) turns colour on even when piped;
//   - NO_COLOR (non-empty) or TERM=dumb turn colour and the spinner off;
//   - the spinner needs a terminal and no CI variable.
func Detect(env Env, isTerminal bool) Style {
	dumb := false
	if t, ok := env("TERM"); ok && t == "dumb" {
		dumb = true
	}
	noColor := false
	if v, ok := env("NO_COLOR"); ok && v != "" {
		noColor = true
	}
	s := Style{
		Spinner: isTerminal && !dumb && !noColor && !IsCI(env),
		Color:   isTerminal && !dumb && !noColor,
	}
	if v, ok := env("FORCE_COLOR"); ok && truthy(v) && !noColor {
		s.Color = true
	}
	return s
}

// IsTerminal reports whether w is a terminal.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// Level is how much the Printer shows.
type Level int

const (
	// Quiet shows warnings and nothing else.
	Quiet Level = iota - 1
	// Normal shows steps and their progress.
	Normal
	// Verbose also shows debug lines and, with the spinner, keeps every
	// progress line.
	Verbose
)

// Printer renders steps. It is safe for concurrent use.
type Printer struct {
	w     io.Writer
	style Style
	level Level
	ci    CI
	now   func() time.Time
	width func() int

	// steps records every ended step, for summaries.
	steps []StepRecord

	// out is where step lines go: w, or (GitLab) the open section's buffer.
	out      io.Writer
	section  strings.Builder
	sections int
	warnings int

	mu        sync.Mutex
	asking    bool
	title     string
	detail    string
	stepStart time.Time
	active    bool
	frame     int
	stop      chan struct{}
	done      chan struct{}
}

// Options configure a Printer.
type Options struct {
	Style Style
	Level Level
	// Now is the clock (time.Now by default).
	Now func() time.Time
	// CI selects the log conventions of a CI system (see DetectCI).
	CI CI
}

// NewPrinter returns a Printer writing to w.
func NewPrinter(w io.Writer, o Options) *Printer {
	p := &Printer{w: w, style: o.Style, level: o.Level, now: o.Now, ci: o.CI}
	if p.now == nil {
		p.now = time.Now
	}
	if p.ci != NoCI {
		// CI logs are append-only, terminal or not (Buildkite's PTY).
		p.style.Spinner = false
	}
	p.out = w
	p.width = func() int {
		if f, ok := w.(*os.File); ok {
			if cols, _, err := term.GetSize(int(f.Fd())); err == nil && cols > 0 {
				return cols
			}
		}
		return 100
	}
	return p
}

const (
	green  = "\x1b[32m"
	red    = "\x1b[31m"
	yellow = "\x1b[33m"
	dim    = "\x1b[2m"
	reset  = "\x1b[0m"
	clear  = "\r\x1b[2K"
)

func (p *Printer) paint(color, s string) string {
	if !p.style.Color {
		return s
	}
	return color + s + reset
}

// Start begins a step; a step still open is ended as successful first.
func (p *Printer) Start(title string) {
	p.mu.Lock()
	open := p.active
	p.mu.Unlock()
	if open {
		p.End(true, "")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.title, p.detail, p.stepStart, p.active = title, "", p.now(), true
	if p.level < Normal {
		return
	}
	if p.style.Spinner {
		p.stop, p.done = make(chan struct{}), make(chan struct{})
		p.drawLocked()
		go p.spin(p.stop, p.done)
		return
	}
	switch p.ci {
	case Buildkite:
		fmt.Fprintf(p.w, "--- %s\n", title)
	case GitHub:
		fmt.Fprintf(p.w, "::group::%s\n", githubData(title))
	case GitLab:
		// GitLab decides a section's collapsed state at its start, so the
		// step's lines wait until its outcome is known.
		p.section.Reset()
		p.out = &p.section
	}
	fmt.Fprintf(p.out, " • %s ...\n", title)
}

// Progress reports what the current step is doing.
func (p *Printer) Progress(line string) {
	line = strings.TrimSpace(line)
	if line == "" {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.detail = line
	if p.level < Normal {
		return
	}
	elapsed := p.now().Sub(p.stepStart)
	switch {
	case p.style.Spinner && p.level >= Verbose:
		fmt.Fprintf(p.w, "%s   %s %s\n", clear, line, p.paint(dim, "(+"+short(elapsed)+")"))
		p.drawLocked()
	case p.style.Spinner:
		p.drawLocked()
	default:
		fmt.Fprintf(p.out, "   %s (+%s)\n", line, short(elapsed))
	}
}

// StepRecord is one ended step.
type StepRecord struct {
	Title    string
	OK       bool
	Result   string
	Duration time.Duration
}

// Steps returns the steps ended so far, in order.
func (p *Printer) Steps() []StepRecord {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]StepRecord(nil), p.steps...)
}

// End ends the current step with its outcome; result (e.g. "created",
// "unchanged") is shown after the title.
func (p *Printer) End(ok bool, result string) {
	p.mu.Lock()
	if !p.active {
		p.mu.Unlock()
		return
	}
	p.active = false
	stop, done := p.stop, p.done
	p.stop, p.done = nil, nil
	p.mu.Unlock()
	if stop != nil {
		close(stop)
		<-done
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	took := p.now().Sub(p.stepStart)
	p.steps = append(p.steps, StepRecord{Title: p.title, OK: ok, Result: result, Duration: took})
	if p.level < Normal {
		return
	}
	mark := p.paint(green, "✓")
	if !ok {
		mark = p.paint(red, "✗")
	}
	line := p.title
	if result != "" {
		line += ": " + result
	}
	prefix := ""
	if p.style.Spinner {
		prefix = clear
	}
	fmt.Fprintf(p.out, "%s %s %s %s\n", prefix, mark, line, p.paint(dim, "("+short(took)+")"))
	switch p.ci {
	case Buildkite:
		if !ok {
			// Expand the failed step's group.
			fmt.Fprint(p.w, "^^^ +++\n")
		}
	case GitHub:
		fmt.Fprint(p.w, "::endgroup::\n")
	case GitLab:
		p.sections++
		name := gitlabSection(p.sections, p.title)
		collapsed := "[collapsed=true]"
		if !ok {
			collapsed = ""
		}
		ts := p.now().Unix()
		fmt.Fprintf(p.w, "\x1b[0Ksection_start:%d:%s%s\r\x1b[0K%s\n%s\x1b[0Ksection_end:%d:%s\r\x1b[0K\n",
			p.stepStart.Unix(), name, collapsed, p.title, p.section.String(), ts, name)
		p.section.Reset()
		p.out = p.w
	}
}

// Warn prints a warning; warnings show even with -q. On GitHub the first
// ten are also warning annotations.
func (p *Printer) Warn(msg string) {
	p.mu.Lock()
	if p.ci == GitHub && p.warnings < maxGitHubAnnotations {
		p.warnings++
		fmt.Fprintf(p.w, "::warning::%s\n", githubData(msg))
		p.mu.Unlock()
		return
	}
	p.mu.Unlock()
	p.line(Quiet, p.paint(yellow, "!")+" "+msg)
}

// Info prints a plain line.
func (p *Printer) Info(msg string) { p.line(Normal, msg) }

// Debug prints a line only with -v.
func (p *Printer) Debug(msg string) { p.line(Verbose, p.paint(dim, msg)) }

func (p *Printer) line(min Level, msg string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.level < min {
		return
	}
	if p.style.Spinner && p.active {
		fmt.Fprintf(p.w, "%s %s\n", clear, msg)
		p.drawLocked()
		return
	}
	fmt.Fprintf(p.out, " %s\n", msg)
}

var frames = []string{"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"}

func (p *Printer) spin(stop, done chan struct{}) {
	defer close(done)
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			p.mu.Lock()
			p.frame++
			p.drawLocked()
			p.mu.Unlock()
		}
	}
}

// drawLocked redraws the spinner line, cut to the terminal width so it
// never wraps.
func (p *Printer) drawLocked() {
	if !p.active || !p.style.Spinner || p.level < Normal || p.asking {
		return
	}
	s := frames[p.frame%len(frames)] + " " + p.title
	if p.detail != "" {
		s += " — " + p.detail
	}
	s += " (" + short(p.now().Sub(p.stepStart)) + ")"
	if w := p.width() - 1; utf8.RuneCountInString(s) > w && w > 10 {
		r := []rune(s)
		s = string(r[:w-1]) + "…"
	}
	fmt.Fprint(p.w, clear+s)
}

// Live reports whether progress is drawn in place (a spinner on a
// terminal) rather than appended as lines.
func (p *Printer) Live() bool { return p.style.Spinner && p.level >= Normal }

// Ask puts a yes/no question to the person at the terminal, with the
// spinner held, and reads the answer from in: y/yes or n/no, an empty
// answer is def. It gives up when ctx ends.
func (p *Printer) Ask(ctx context.Context, in io.Reader, question string, def bool) (bool, error) {
	p.mu.Lock()
	p.asking = true
	hint := "[y/N]"
	if def {
		hint = "[Y/n]"
	}
	prefix := ""
	if p.style.Spinner {
		prefix = clear
	}
	fmt.Fprintf(p.w, "%s%s %s ", prefix, question, hint)
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		p.asking = false
		p.drawLocked()
		p.mu.Unlock()
	}()
	type answer struct {
		s   string
		err error
	}
	got := make(chan answer, 1)
	go func() {
		s, err := bufio.NewReader(in).ReadString('\n')
		got <- answer{s, err}
	}()
	select {
	case <-ctx.Done():
		fmt.Fprintln(p.w)
		return false, ctx.Err()
	case a := <-got:
		switch strings.ToLower(strings.TrimSpace(a.s)) {
		case "":
			if a.err != nil && a.err != io.EOF {
				return false, a.err
			}
			if a.err == io.EOF {
				fmt.Fprintln(p.w)
				return false, nil
			}
			return def, nil
		case "y", "yes":
			return true, nil
		default:
			return false, nil
		}
	}
}

// Close ends an open step as failed and stops the spinner.
func (p *Printer) Close() {
	p.End(false, "")
}

// ErrorBlock prints an error the way devcluster shows every failure: the
// error first, then the cause's details, then what to do.
func (p *Printer) ErrorBlock(msg, details, fix string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	first, _, _ := strings.Cut(msg, "\n")
	switch p.ci {
	case Buildkite:
		fmt.Fprintf(p.w, "+++ :x: %s\n", first)
	case GitHub:
		body := msg
		if fix != "" {
			body += "\nTo fix: " + fix
		}
		fmt.Fprintf(p.w, "::error title=%s::%s\n", githubProperty("devcluster: "+first), githubData(body))
	}
	fmt.Fprintf(p.w, "%s %s\n", p.paint(red, "✗ Error:"), msg)
	if d := strings.TrimSpace(details); d != "" {
		for _, l := range strings.Split(d, "\n") {
			fmt.Fprintf(p.w, "    %s\n", l)
		}
	}
	if fix != "" {
		fmt.Fprintf(p.w, "  %s %s\n", p.paint(yellow, "To fix:"), fix)
	}
}

func short(d time.Duration) string {
	switch {
	case d < 10*time.Second:
		return fmt.Sprintf("%.1fs", d.Seconds())
	case d < time.Minute:
		return fmt.Sprintf("%.0fs", d.Seconds())
	default:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	}
}
