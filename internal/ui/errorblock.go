package ui

import (
	"fmt"
	"strings"
)

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
