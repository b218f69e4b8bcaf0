// Package ui renders devcluster's progress for people: a spinner on an
// interactive terminal, append-only lines with elapsed times everywhere else
// (pipes, CI systems such as Buildkite that run jobs in a PTY), colour only
// where it is wanted. Library packages never print; they report through the
// methods of Printer, which the command layer creates. Every text the
// Printer is given may come from outside devcluster (log lines, events,
// messages from the cluster, a command's output): it cleans it and lays it
// out so that no CI system reads it as markup (see text.go).
//
// The files by job: ui.go the Printer and its steps; style.go the
// colour and spinner detection and the colours; ci.go the CI systems and
// their detection; spinner.go the spinner; ask.go the yes/no question;
// errorblock.go the error block; text.go the cleaning and layout of text
// from outside; markdown.go Markdown for job summaries.
package ui

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"
)

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

// Close ends an open step as failed and stops the spinner.
func (p *Printer) Close() {
	p.End(false, "")
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
