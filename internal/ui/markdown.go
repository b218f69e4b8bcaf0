package ui

import (
	"strings"
)

// Markdown for job summaries (GitHub's $GITHUB_STEP_SUMMARY) and Buildkite
// annotations, both GitHub-flavoured Markdown with HTML allowed, built from
// text that may come from outside devcluster: each function cleans its text
// (Clean) and cuts long lines, so nothing in it becomes markup.

// markdownSpecial are the characters that can start inline Markdown, HTML
// or GFM markup in running text: escapes, code, emphasis, strike-through,
// links and images, autolinks and raw HTML, entities, math, table pipes.
// CommonMark lets a backslash escape any of them.
const markdownSpecial = "\\`*_~[]<>&|$"

// MarkdownText is s as running text, for a table cell or a list item: on one
// line, every character that could start markup escaped with a backslash.
func MarkdownText(s string) string {
	s = oneLine(s)
	if !strings.ContainsAny(s, markdownSpecial) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(markdownSpecial, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// MarkdownCode is s as an inline code span, on one line, delimited by a run
// of backticks longer than any inside it. Not for a table cell: GFM splits
// cells at a pipe even inside code.
func MarkdownCode(s string) string {
	s = oneLine(s)
	tick := strings.Repeat("`", longestRun(s, '`')+1)
	if s == "" || strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		s = " " + s + " "
	}
	return tick + s + tick
}

// MarkdownBlock is text as a fenced code block ending in a newline: its
// lines cleaned and cut, fenced by a run of backticks longer than any inside
// it (three at least), so no line of the text can close the block — and
// inside a code block nothing is markup, not even HTML.
func MarkdownBlock(text string) string {
	lines := cleanLines(text)
	body := strings.Join(lines, "\n")
	fence := strings.Repeat("`", max(3, longestRun(body, '`')+1))
	if len(lines) == 0 {
		return fence + "\n" + fence + "\n"
	}
	return fence + "\n" + body + "\n" + fence + "\n"
}

func longestRun(s string, c byte) int {
	longest, n := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			n++
			longest = max(longest, n)
		} else {
			n = 0
		}
	}
	return longest
}
