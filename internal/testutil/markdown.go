package testutil

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// fence is a CommonMark code fence line: up to three spaces, then three or
// more backticks or tildes, then the rest.
var fence = regexp.MustCompile("^ {0,3}(`{3,}|~{3,})(.*)$")

// Fence is one fenced code block of a Markdown text.
type Fence struct {
	// Info is the fence's info string without surrounding spaces: "yaml",
	// "sh", "" ...
	Info string
	// Line is the 1-based line of the block's first line inside the fence.
	Line int
	// Lines are the lines inside the fence.
	Lines []string
}

// Text is the block's content as it would be pasted: its lines, each
// ending in a line break.
func (f Fence) Text() string {
	if len(f.Lines) == 0 {
		return ""
	}
	return strings.Join(f.Lines, "\n") + "\n"
}

// MarkdownFences reads md with CommonMark's rules for fenced code blocks and
// returns each block, and md's other lines. A block opens at a fence (a
// backtick fence's info string holds no backtick) and closes at the first
// later fence of the same character, at least as long, with nothing but
// spaces after it; an unclosed block runs to the end.
func MarkdownFences(md string) (fences []Fence, outside []string) {
	open := ""
	var cur Fence
	for i, l := range strings.Split(md, "\n") {
		m := fence.FindStringSubmatch(l)
		switch {
		case open == "" && m != nil && !(m[1][0] == '`' && strings.Contains(m[2], "`")):
			open, cur = m[1], Fence{Info: strings.TrimSpace(m[2]), Line: i + 2, Lines: []string{}}
		case open != "" && m != nil && m[1][0] == open[0] && len(m[1]) >= len(open) && strings.TrimSpace(m[2]) == "":
			fences = append(fences, cur)
			open = ""
		case open != "":
			cur.Lines = append(cur.Lines, l)
		default:
			outside = append(outside, l)
		}
	}
	if open != "" {
		fences = append(fences, cur)
	}
	return fences, outside
}

// MarkdownCodeBlocks is MarkdownFences with each block as its lines.
func MarkdownCodeBlocks(md string) (blocks [][]string, outside []string) {
	fences, outside := MarkdownFences(md)
	for _, f := range fences {
		blocks = append(blocks, f.Lines)
	}
	return blocks, outside
}

// DocPage is one Markdown page of the repository's documentation.
type DocPage struct {
	// Path is the page's path from the repository's root, with forward
	// slashes: "README.md", "docs/configuration.md".
	Path string
	// Text is the page's content.
	Text string
}

// DocPages reads the documentation of the repository at root: README.md,
// ARCHITECTURE.md when there is one, and every page under docs/, in that
// order. A README.md or docs/ directory that cannot be read is an error, so
// a test over the pages never passes on none.
func DocPages(root string) ([]DocPage, error) {
	paths := []string{"README.md", "ARCHITECTURE.md"}
	more, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		return nil, err
	}
	if len(more) == 0 {
		return nil, &os.PathError{Op: "glob", Path: filepath.Join(root, "docs", "*.md"), Err: os.ErrNotExist}
	}
	for _, p := range more {
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return nil, err
		}
		paths = append(paths, filepath.ToSlash(rel))
	}
	var pages []DocPage
	for _, p := range paths {
		b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(p)))
		if os.IsNotExist(err) && p == "ARCHITECTURE.md" {
			continue
		}
		if err != nil {
			return nil, err
		}
		pages = append(pages, DocPage{Path: p, Text: string(b)})
	}
	return pages, nil
}

// DocBlock is a fenced code block of a documentation page.
type DocBlock struct {
	// Page is the page's path from the repository's root.
	Page string
	Fence
}

// Where names the block for a test's message: "docs/configuration.md:5".
func (b DocBlock) Where() string {
	return b.Page + ":" + strconv.Itoa(b.Line)
}

// DocBlocks returns the fenced blocks of the repository's documentation
// (DocPages) whose info string is info ("yaml", "sh", ...).
func DocBlocks(root, info string) ([]DocBlock, error) {
	pages, err := DocPages(root)
	if err != nil {
		return nil, err
	}
	var out []DocBlock
	for _, p := range pages {
		fences, _ := MarkdownFences(p.Text)
		for _, f := range fences {
			if f.Info == info {
				out = append(out, DocBlock{Page: p.Path, Fence: f})
			}
		}
	}
	return out, nil
}
