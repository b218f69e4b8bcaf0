package text

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestBytes(t *testing.T) {
	for _, tc := range []struct {
		n    int64
		want string
	}{
		{-1, "-1 B"},
		{0, "0 B"},
		{1023, "1023 B"},
		{1024, "1.0 KiB"},
		{2048, "2.0 KiB"},
		{1<<20 - 1, "1024.0 KiB"},
		{1 << 20, "1.0 MiB"},
		{3 << 19, "1.5 MiB"},
		{50 << 20, "50.0 MiB"},
		{1 << 30, "1.0 GiB"},
		{5 << 40, "5120.0 GiB"},
	} {
		if got := Bytes(tc.n); got != tc.want {
			t.Errorf("Bytes(%d) = %q, want %q", tc.n, got, tc.want)
		}
	}
}

func TestTail(t *testing.T) {
	for _, tc := range []struct {
		s    string
		n    int
		want []string
	}{
		{"", 3, nil},
		{"a\nb\nc\n", 0, nil},
		{"a\nb\nc\n", -1, nil},
		{"a\nb\nc\n", 2, []string{"b", "c"}},
		{"a\nb\nc", 2, []string{"b", "c"}},
		{"a\nb\nc\n", 5, []string{"a", "b", "c"}},
		{"one line", 1, []string{"one line"}},
		{"a\n\nb\n", 2, []string{"", "b"}},
		{"\n", 1, []string{""}},
	} {
		if got := Tail(tc.s, tc.n); !slices.Equal(got, tc.want) {
			t.Errorf("Tail(%q, %d) = %q, want %q", tc.s, tc.n, got, tc.want)
		}
	}
}

func TestOrDash(t *testing.T) {
	if got := OrDash(""); got != "-" {
		t.Errorf(`OrDash("") = %q, want "-"`, got)
	}
	if got := OrDash("kind-dev"); got != "kind-dev" {
		t.Errorf(`OrDash("kind-dev") = %q`, got)
	}
	if got := OrDash(" "); got != " " {
		t.Errorf(`OrDash(" ") = %q, want it unchanged`, got)
	}
}

func TestTailFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	short := write("short.log", "one\ntwo\nthree\n")
	if got, err := TailFile(short, 2, 1<<10); err != nil || !slices.Equal(got, []string{"two", "three"}) {
		t.Errorf("short log: %q, %v", got, err)
	}
	// 1000 lines of 10 bytes; only the last 64 bytes are read: the cut
	// first line is left out, the 6 whole ones after it come back.
	var b strings.Builder
	for i := range 1000 {
		b.WriteString("line " + strings.Repeat("x", 3) + string(rune('0'+i%10)) + "\n")
	}
	long := write("long.log", b.String())
	got, err := TailFile(long, 100, 64)
	if err != nil || len(got) != 6 || got[5] != "line xxx9" || got[0] != "line xxx4" {
		t.Errorf("long log: %q, %v; want the 6 whole lines of the last 64 bytes", got, err)
	}
	if got, err := TailFile(long, 2, 64); err != nil || !slices.Equal(got, []string{"line xxx8", "line xxx9"}) {
		t.Errorf("long log, 2 lines: %q, %v", got, err)
	}
	one := write("one.log", strings.Repeat("y", 100))
	if got, err := TailFile(one, 3, 10); err != nil || got != nil {
		t.Errorf("one long line: %q, %v; want none", got, err)
	}
	if _, err := TailFile(filepath.Join(dir, "missing"), 3, 10); !os.IsNotExist(err) {
		t.Errorf("missing file: %v, want not-exist", err)
	}
}
