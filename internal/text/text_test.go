package text

import (
	"slices"
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
