package ui

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Every text the Printer is given is treated as coming from outside
// devcluster: container log lines, events, messages and reasons from the
// API server, the output of minikube or kind. Before it reaches a log it is
// cleaned (Clean), cut to a sane length per line, and laid out so that a CI
// system reads none of it as its own markup: every line devcluster prints
// starts with a space or a symbol of its own (no Buildkite group header),
// and on GitHub Actions a line the runner could act on is printed inside a
// ::stop-commands:: block with a fresh random token.

// maxLine is the longest line of outside text printed; the rest of the line
// is counted, not shown (the diagnostics bundle keeps it whole).
const maxLine = 4096

// Clean returns s without terminal escape sequences and control characters:
// CSI sequences (colours, cursor movement), OSC, DCS, SOS, PM and APC
// strings (window titles, hyperlinks, Buildkite's OSC 1339 links and
// timestamps) up to their terminator or the end of the line, other ESC
// sequences, C1 controls, C0 controls but tab and newline, DEL, and the
// invisible characters that reorder or hide text (bidirectional controls,
// soft hyphen, zero-width joiners: Unicode's format characters and
// default-ignorable code points, which .NET's culture-sensitive matching in
// the GitHub runner skips). A carriage return, a line or paragraph separator
// ends the line, as it does in a terminal or in the runner. Invalid UTF-8
// becomes U+FFFD. Printable text is kept as it is.
func Clean(s string) string {
	if isPlain(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			b.WriteRune(utf8.RuneError)
			i++
			continue
		case r == 0x1b: // ESC
			i += n
			if i >= len(s) {
				continue
			}
			switch c := s[i]; {
			case c == '[':
				i = skipCSI(s, i+1)
			case c == ']' || c == 'P' || c == 'X' || c == '^' || c == '_':
				i = skipString(s, i+1)
			default:
				i = skipEsc(s, i)
			}
			continue
		case r == 0x9b: // C1 CSI
			i = skipCSI(s, i+n)
			continue
		case r == 0x9d || r == 0x90 || r == 0x98 || r == 0x9e || r == 0x9f: // C1 OSC, DCS, SOS, PM, APC
			i = skipString(s, i+n)
			continue
		case r == '\r':
			if strings.HasPrefix(s[i+n:], "\n") {
				n++
			}
			b.WriteByte('\n')
		case r == '\u2028' || r == '\u2029':
			b.WriteByte('\n')
		case r == '\n' || r == '\t':
			b.WriteRune(r)
		case r < 0x20 || (r >= 0x7f && r < 0xa0) || ignorable(r):
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// isPlain reports whether s is printable ASCII, tabs and newlines: the
// common case, returned as it is.
func isPlain(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < 0x20 && c != '\n' && c != '\t') || c >= 0x7f {
			return false
		}
	}
	return true
}

func ignorable(r rune) bool {
	return unicode.Is(unicode.Cf, r) || unicode.Is(unicode.Other_Default_Ignorable_Code_Point, r) ||
		unicode.Is(unicode.Variation_Selector, r)
}

// skipCSI skips a CSI sequence's parameter and intermediate bytes and its
// final byte; a malformed one ends at the first byte that cannot belong to it.
func skipCSI(s string, i int) int {
	for i < len(s) {
		c := s[i]
		switch {
		case c >= 0x20 && c <= 0x3f:
			i++
		case c >= 0x40 && c <= 0x7e:
			return i + 1
		default:
			return i
		}
	}
	return i
}

// skipString skips a control string (OSC, DCS, SOS, PM, APC) up to and
// including BEL or ST (ESC \ or U+009C), or up to the end of the line.
func skipString(s string, i int) int {
	for i < len(s) {
		switch {
		case s[i] == 0x07:
			return i + 1
		case s[i] == 0x1b && i+1 < len(s) && s[i+1] == '\\':
			return i + 2
		case strings.HasPrefix(s[i:], "\u009c"):
			return i + len("\u009c")
		case s[i] == '\n' || s[i] == '\r':
			return i
		}
		i++
	}
	return i
}

// skipEsc skips the rest of a two-byte or nF escape sequence (ESC, then
// intermediate bytes 0x20–0x2F, then a final byte 0x30–0x7E).
func skipEsc(s string, i int) int {
	for i < len(s) && s[i] >= 0x20 && s[i] <= 0x2f {
		i++
	}
	if i < len(s) && s[i] >= 0x30 && s[i] <= 0x7e {
		i++
	}
	return i
}

// cleanLines is text cleaned and split into lines, each cut to maxLine
// bytes; trailing white space of every line and empty lines before and
// after the text are dropped.
func cleanLines(s string) []string {
	lines := strings.Split(Clean(s), "\n")
	for i, l := range lines {
		lines[i] = capLine(strings.TrimRightFunc(l, unicode.IsSpace))
	}
	for len(lines) > 0 && lines[0] == "" {
		lines = lines[1:]
	}
	for len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

// oneLine is text cleaned and joined into one line.
func oneLine(s string) string {
	return capLine(strings.Join(strings.Fields(Clean(s)), " "))
}

func capLine(l string) string {
	if len(l) <= maxLine {
		return l
	}
	cut := maxLine
	for cut > 0 && !utf8.RuneStart(l[cut]) {
		cut--
	}
	return l[:cut] + fmt.Sprintf(" … (%d more bytes)", len(l)-cut)
}

// githubParsable reports whether the GitHub runner could read line as a
// workflow command: "::" at its start once white space is trimmed, or the
// legacy "##[" anywhere (actions/runner ActionCommand.TryParseV2, TryParse).
// line is already cleaned, so no ignorable character hides either.
func githubParsable(line string) bool {
	return strings.HasPrefix(strings.TrimLeftFunc(line, unicode.IsSpace), "::") || strings.Contains(line, "##[")
}

// ansiColour is what the Buildkite agent strips before it looks for a
// header.
var ansiColour = regexp.MustCompile(`\x1b\[([;\d]+)?[mK]`)

// buildkiteHeader reports whether Buildkite would read line as a group
// header (`--- `, `+++ `, `~~~ `, after colour codes) or as `^^^ +++`.
func buildkiteHeader(line string) bool {
	l := ansiColour.ReplaceAllString(line, "")
	for _, h := range []string{"---", "+++", "~~~"} {
		if rest, ok := strings.CutPrefix(l, h); ok && rest != "" && unicode.IsSpace(rune(rest[0])) {
			return true
		}
	}
	return strings.HasPrefix(l, "^^^ +++")
}

// newToken is a stop-commands token: 128 random bits, so no text printed
// before it can hold it.
func newToken() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go ≥ 1.24)
	return hex.EncodeToString(b[:])
}

// JSONSafe returns JSON text with every "##[" written "##\u005b": the same
// JSON (outside strings JSON has no '#'), which the GitHub runner cannot read
// as a legacy workflow command, looked for anywhere in a line. The rest is
// safe already: JSON escapes control characters, and no line of it starts
// with "::".
func JSONSafe(b []byte) []byte {
	return bytes.ReplaceAll(b, []byte("##["), []byte(`##\u005b`))
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
