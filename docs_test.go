package devcluster_test

import (
	"os"
	"path"
	"regexp"
	"strings"
	"testing"

	"github.com/devcluster/devcluster/internal/testutil"
)

// mdLink is an inline Markdown link's target.
var mdLink = regexp.MustCompile(`\]\(([^)\s]+)\)`)

// headingAnchor is the anchor GitHub gives a heading: lower case, spaces
// as hyphens, punctuation but hyphens and underscores dropped.
func headingAnchor(h string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(h)) {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-' || r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r > 127:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Every link between the README, ARCHITECTURE.md and the pages of docs/
// reaches a file of the repository and, with an anchor, a heading of the
// page it names: moving a section between pages cannot leave a link behind.
func TestDocLinksResolve(t *testing.T) {
	pages, err := testutil.DocPages(".")
	if err != nil {
		t.Fatal(err)
	}
	anchors := map[string]map[string]bool{}
	outside := map[string][]string{}
	for _, p := range pages {
		_, out := testutil.MarkdownFences(p.Text)
		outside[p.Path] = out
		anchors[p.Path] = map[string]bool{}
		for _, l := range out {
			if h := strings.TrimLeft(l, "#"); h != l && strings.HasPrefix(h, " ") {
				anchors[p.Path][headingAnchor(h)] = true
			}
		}
	}
	links := 0
	for _, p := range pages {
		for _, l := range outside[p.Path] {
			for _, m := range mdLink.FindAllStringSubmatch(l, -1) {
				target := m[1]
				if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
					continue
				}
				links++
				file, anchor, _ := strings.Cut(target, "#")
				dest := p.Path
				if file != "" {
					dest = path.Clean(path.Join(path.Dir(p.Path), file))
					if strings.HasPrefix(dest, "../") {
						t.Errorf("%s: %s leaves the repository", p.Path, target)
						continue
					}
					if _, err := os.Stat(dest); err != nil {
						t.Errorf("%s: %s: %v", p.Path, target, err)
						continue
					}
				}
				if anchor == "" {
					continue
				}
				if a, ok := anchors[dest]; !ok || !a[anchor] {
					t.Errorf("%s: %s: %s has no heading with the anchor #%s", p.Path, target, dest, anchor)
				}
			}
		}
	}
	if links < 20 {
		t.Errorf("found %d links between the pages; the README links to every page of docs/", links)
	}
}

// The README links to every page of docs/, so none is orphaned.
func TestREADMELinksEveryDocPage(t *testing.T) {
	pages, err := testutil.DocPages(".")
	if err != nil {
		t.Fatal(err)
	}
	readme := pages[0].Text
	for _, p := range pages {
		if strings.HasPrefix(p.Path, "docs/") && !strings.Contains(readme, "]("+p.Path+")") {
			t.Errorf("README.md has no link to %s", p.Path)
		}
	}
	if !strings.Contains(readme, "](ARCHITECTURE.md)") {
		t.Error("README.md has no link to ARCHITECTURE.md")
	}
}
