package testutil

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// Blocks keep their info string and the line they start on; a longer fence
// holds a shorter one, and a tilde fence does not close a backtick one.
func TestMarkdownFences(t *testing.T) {
	md := "# t\n\n```yaml\na: 1\n```\ntext\n````md\n```sh\nx\n```\n~~~\n````\n~~~ sh \nopen\n"
	fences, outside := MarkdownFences(md)
	want := []Fence{
		{Info: "yaml", Line: 4, Lines: []string{"a: 1"}},
		{Info: "md", Line: 8, Lines: []string{"```sh", "x", "```", "~~~"}},
		{Info: "sh", Line: 14, Lines: []string{"open", ""}},
	}
	if !reflect.DeepEqual(fences, want) {
		t.Errorf("fences: %#v\nwant %#v", fences, want)
	}
	if !reflect.DeepEqual(outside, []string{"# t", "", "text"}) {
		t.Errorf("outside: %q", outside)
	}
	if got := fences[0].Text(); got != "a: 1\n" {
		t.Errorf("Text: %q", got)
	}
}

// DocBlocks reads README.md, ARCHITECTURE.md and docs/*.md, and a tree
// without docs/ is an error rather than no blocks.
func TestDocBlocks(t *testing.T) {
	root := t.TempDir()
	write := func(p, s string) {
		t.Helper()
		p = filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("README.md", "```yaml\nr: 1\n```\n")
	if _, err := DocBlocks(root, "yaml"); err == nil {
		t.Error("no docs/: no error")
	}
	write("docs/b.md", "x\n```yaml\nb: 1\n```\n```sh\nls\n```\n")
	write("docs/a.md", "```yaml\na: 1\n```\n")
	write("docs/notes.txt", "```yaml\nn: 1\n```\n")
	got, err := DocBlocks(root, "yaml")
	if err != nil {
		t.Fatal(err)
	}
	var where []string
	for _, b := range got {
		where = append(where, b.Where()+" "+b.Text())
	}
	want := []string{"README.md:2 r: 1\n", "docs/a.md:2 a: 1\n", "docs/b.md:3 b: 1\n"}
	if !reflect.DeepEqual(where, want) {
		t.Errorf("blocks: %q, want %q", where, want)
	}
}
