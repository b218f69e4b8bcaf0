package testutil

import (
	"regexp"
	"strings"
)

// fence is a CommonMark code fence line: up to three spaces, then three or
// more backticks or tildes, then the rest.
var fence = regexp.MustCompile("^ {0,3}(`{3,}|~{3,})(.*)$")

// MarkdownCodeBlocks reads md with CommonMark's rules for fenced code
// blocks and returns the lines inside each, and md's other lines. A block
// opens at a fence (a backtick fence's info string holds no backtick) and
// closes at the first later fence of the same character, at least as long,
// with nothing but spaces after it; an unclosed block runs to the end.
func MarkdownCodeBlocks(md string) (blocks [][]string, outside []string) {
	open := ""
	var cur []string
	for _, l := range strings.Split(md, "\n") {
		m := fence.FindStringSubmatch(l)
		switch {
		case open == "" && m != nil && !(m[1][0] == '`' && strings.Contains(m[2], "`")):
			open, cur = m[1], []string{}
		case open != "" && m != nil && m[1][0] == open[0] && len(m[1]) >= len(open) && strings.TrimSpace(m[2]) == "":
			blocks = append(blocks, cur)
			open = ""
		case open != "":
			cur = append(cur, l)
		default:
			outside = append(outside, l)
		}
	}
	if open != "" {
		blocks = append(blocks, cur)
	}
	return blocks, outside
}
