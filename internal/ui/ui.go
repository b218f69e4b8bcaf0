// Package ui renders devcluster's progress for people: a spinner on an
// interactive terminal, append-only lines with elapsed times everywhere else
// (pipes, CI systems such as Buildkite that run jobs in a PTY), colour only
// where it is wanted. Library packages never print; they report through the
// methods of Printer, which the command layer creates. Every text the
// Printer is given may come from outside devcluster (log lines, events,
// messages from the cluster, a command's output): it cleans it and lays it
// out so that no CI system reads it as markup (see text.go).
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
	// GitLab: the open step's section name; streaming once its section was
	// started expanded because it ran long, and its lines go out as they
	// come; stopStream cancels the timer that starts streaming.
	sectionName string
	streaming   bool
	stopStream  func() bool
	after       func(time.Duration, func()) func() bool
	// stepN counts steps, so a timer of an ended step does nothing.
	stepN int

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
	// AfterFunc calls f after d and returns a function that cancels it
	// (time.AfterFunc by default). GitLab mode uses it to show the lines of
	// a step that runs long as they come.
	AfterFunc func(d time.Duration, f func()) (stop func() bool)
}

// gitlabStreamAfter is how long a GitLab step's lines are held back, to be
// printed in a section collapsed on success; a step that runs longer is
// shown as it goes, in an expanded section, so a job killed in the middle
// keeps its log.
const gitlabStreamAfter = 3 * time.Second

// NewPrinter returns a Printer writing to w.
func NewPrinter(w io.Writer, o Options) *Printer {
	p := &Printer{w: w, style: o.Style, level: o.Level, now: o.Now, ci: o.CI, after: o.AfterFunc}
	if p.now == nil {
		p.now = time.Now
	}
	if p.after == nil {
		p.after = func(d time.Duration, f func()) func() bool { return time.AfterFunc(d, f).Stop }
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
	title = oneLine(title)
	p.mu.Lock()
	open := p.active
	p.mu.Unlock()
	if open {
		p.End(true, "")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.title, p.detail, p.stepStart, p.active = title, "", p.now(), true
	p.stepN++
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
		// step's lines wait until its outcome is known — for a few seconds:
		// then they are shown as they come.
		p.sections++
		p.sectionName = gitlabSection(p.sections, title)
		p.section.Reset()
		p.out, p.streaming = &p.section, false
		n := p.stepN
		p.stopStream = p.after(gitlabStreamAfter, func() {
			p.mu.Lock()
			defer p.mu.Unlock()
			if p.active && p.stepN == n {
				p.streamLocked()
			}
		})
	}
	p.emitLocked(p.out, []string{" • " + title + " ..."})
}

// streamLocked starts the open GitLab step's section, expanded, with the
// lines held back so far, and sends its further lines straight out.
func (p *Printer) streamLocked() {
	if p.ci != GitLab || !p.active || p.streaming || p.out == p.w {
		return
	}
	fmt.Fprintf(p.w, "\x1b[0Ksection_start:%d:%s\r\x1b[0K%s\n%s", p.stepStart.Unix(), p.sectionName, p.title, p.section.String())
	p.section.Reset()
	p.out, p.streaming = p.w, true
}

// Progress reports what the current step is doing.
func (p *Printer) Progress(line string) {
	line = oneLine(line)
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
		p.emitLocked(p.out, []string{"   " + line + " (+" + short(elapsed) + ")"})
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
	result = oneLine(result)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopStream != nil {
		p.stopStream()
		p.stopStream = nil
	}
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
	p.emitLocked(p.out, []string{fmt.Sprintf("%s %s %s %s", prefix, mark, line, p.paint(dim, "("+short(took)+")"))})
	switch p.ci {
	case Buildkite:
		if !ok {
			// Expand the failed step's group.
			fmt.Fprint(p.w, "^^^ +++\n")
		}
	case GitHub:
		fmt.Fprint(p.w, "::endgroup::\n")
	case GitLab:
		name, ts := p.sectionName, p.now().Unix()
		if !p.streaming {
			collapsed := "[collapsed=true]"
			if !ok {
				collapsed = ""
			}
			fmt.Fprintf(p.w, "\x1b[0Ksection_start:%d:%s%s\r\x1b[0K%s\n%s", p.stepStart.Unix(), name, collapsed, p.title, p.section.String())
		}
		fmt.Fprintf(p.w, "\x1b[0Ksection_end:%d:%s\r\x1b[0K\n", ts, name)
		p.section.Reset()
		p.out, p.streaming = p.w, false
	}
}

// Warn prints a warning; warnings show even with -q. On GitHub the first
// ten are also warning annotations.
func (p *Printer) Warn(msg string) {
	lines := cleanLines(msg)
	p.mu.Lock()
	if p.ci == GitHub && p.warnings < maxGitHubAnnotations {
		p.warnings++
		fmt.Fprintf(p.w, "::warning::%s\n", githubData(strings.Join(lines, "\n")))
		p.mu.Unlock()
		return
	}
	p.mu.Unlock()
	p.line(Quiet, p.paint(yellow, "!")+" ", "", lines)
}

// Info prints a plain line.
func (p *Printer) Info(msg string) { p.line(Normal, "", "", cleanLines(msg)) }

// Debug prints a line only with -v.
func (p *Printer) Debug(msg string) { p.line(Verbose, "", dim, cleanLines(msg)) }

// line prints a message after mark, its further lines indented, each in
// color.
func (p *Printer) line(min Level, mark, color string, lines []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.level < min {
		return
	}
	if len(lines) == 0 {
		lines = []string{""}
	}
	out := make([]string, len(lines))
	for i, l := range lines {
		if color != "" && l != "" {
			l = p.paint(color, l)
		}
		if i == 0 {
			out[i] = " " + mark + l
		} else {
			out[i] = "   " + l
		}
	}
	if p.style.Spinner && p.active {
		out[0] = clear + out[0]
		fmt.Fprint(p.w, strings.Join(out, "\n")+"\n")
		p.drawLocked()
		return
	}
	p.emitLocked(p.out, out)
}

// emitLocked writes lines to w, laid out for the CI system: on Buildkite
// no line may read as a group header; on GitHub Actions a message of more
// than one line, or a line the runner could act on, is wrapped in
// ::stop-commands::TOKEN … ::TOKEN:: with a fresh random token, so that
// nothing in it runs as a workflow command (add-mask, error, endgroup,
// stop-commands, ...).
func (p *Printer) emitLocked(w io.Writer, lines []string) {
	p.emitShielded(w, lines, len(lines) > 1)
}

// Text writes a command's result for people (a table on standard output)
// to w. Its cells hold text from the cluster, so every line is cleaned
// (Clean) and laid out as the printer's own lines are; on GitHub Actions
// only a line the runner could act on calls for a ::stop-commands:: block,
// so a plain table stays as it is.
func (p *Printer) Text(w io.Writer, s string) {
	if s == "" {
		return
	}
	lines := strings.Split(Clean(strings.TrimSuffix(s, "\n")), "\n")
	p.mu.Lock()
	defer p.mu.Unlock()
	p.emitShielded(w, lines, false)
}

func (p *Printer) emitShielded(w io.Writer, lines []string, shield bool) {
	var b strings.Builder
	for _, l := range lines {
		switch p.ci {
		case GitHub:
			shield = shield || githubParsable(l)
		case Buildkite:
			if buildkiteHeader(l) {
				l = " " + l
			}
		}
		b.WriteString(l)
		b.WriteByte('\n')
	}
	if p.ci == GitHub && shield {
		tok := newToken()
		fmt.Fprintf(w, "::stop-commands::%s\n%s::%s::\n", tok, b.String(), tok)
		return
	}
	io.WriteString(w, b.String())
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
//
// The message's further lines are indented by two spaces, the details by
// four. On GitHub Actions the block is one ::stop-commands:: block after the
// ::error annotation.
func (p *Printer) ErrorBlock(msg, details, fix string) {
	msgLines, detailLines, fixLines := cleanLines(msg), cleanLines(details), cleanLines(fix)
	if len(msgLines) == 0 {
		msgLines = []string{""}
	}
	first := msgLines[0]
	p.mu.Lock()
	defer p.mu.Unlock()
	p.streamLocked() // GitLab: a step held back comes first
	switch p.ci {
	case Buildkite:
		fmt.Fprintf(p.w, "+++ :x: %s\n", first)
	case GitHub:
		body := strings.Join(msgLines, "\n")
		if len(fixLines) > 0 {
			body += "\nTo fix: " + strings.Join(fixLines, "\n")
		}
		fmt.Fprintf(p.w, "::error title=%s::%s\n", githubProperty("devcluster: "+first), githubData(body))
	}
	block := []string{p.paint(red, "✗ Error:") + " " + first}
	block = appendIndented(block, "  ", msgLines[1:])
	block = appendIndented(block, "    ", detailLines)
	if len(fixLines) > 0 {
		block = append(block, "  "+p.paint(yellow, "To fix:")+" "+fixLines[0])
		block = appendIndented(block, "          ", fixLines[1:])
	}
	p.emitLocked(p.w, block)
}

func appendIndented(dst []string, indent string, lines []string) []string {
	for _, l := range lines {
		if l != "" {
			l = indent + l
		}
		dst = append(dst, l)
	}
	return dst
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
