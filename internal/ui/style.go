package ui

import (
	"io"
	"os"
	"strings"

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
