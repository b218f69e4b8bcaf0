package testutil

import (
	"reflect"
	"strings"
	"testing"
)

// The parser finds what the runner acts on, by the runner's rules.
func TestGitHubCommands(t *testing.T) {
	t.Parallel()
	log := strings.Join([]string{
		"::add-mask::secret value",                            // 1: v2
		"  \t::warning::indented",                             // 2: after white space
		"\u00a0::notice::after a no-break space",              // 3: Unicode white space
		"text ##[error]legacy mid-line",                       // 4: legacy, anywhere
		"::error file=app.go,line=1,title=a%3Ab::message%0A2", // 5: properties, escapes
		"##[warning file=a.go;line=3]legacy properties",       // 6
		"::x::not a command",                                  // unknown: text
		"text ::error::not at the start",                      // text
		"::error no closing",                                  // text
		"#\u00ad#[debug]soft hyphen",                          // 10: ignorable skipped
		"progress\r::GROUP::after a carriage return",          // 11 and 12: \r ends a line; case-insensitive
		"::stop-commands::TOK",                                // 13: stops
		"::error::ignored while stopped",                      //
		"##[add-mask]ignored too",                             //
		"::stop-commands::other",                              //
		"::tok::",                                             // 17: resumes (case-insensitive)
		"::endgroup::",                                        // 18
	}, "\n")
	type cmd struct {
		Line  int
		Name  string
		Props map[string]string
		Data  string
	}
	var got []cmd
	for _, c := range GitHubCommands(log) {
		got = append(got, cmd{c.Line, c.Name, c.Properties, c.Data})
	}
	none := map[string]string{}
	want := []cmd{
		{1, "add-mask", none, "secret value"},
		{2, "warning", none, "indented"},
		{3, "notice", none, "after a no-break space"},
		{4, "error", none, "legacy mid-line"},
		{5, "error", map[string]string{"file": "app.go", "line": "1", "title": "a:b"}, "message\n2"},
		{6, "warning", map[string]string{"file": "a.go", "line": "3"}, "legacy properties"},
		{10, "debug", none, "soft hyphen"},
		{12, "group", none, "after a carriage return"},
		{13, "stop-commands", none, "TOK"},
		{17, "tok", none, ""},
		{18, "endgroup", none, ""},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("commands:\n%v\nwant:\n%v", got, want)
	}
}

// Only devcluster's own commands are not foreign.
func TestForeignGitHubCommands(t *testing.T) {
	t.Parallel()
	own := "::group::step\n::warning::w\n::error title=t::e\n::endgroup::\n" +
		"::stop-commands::0123456789abcdef0123456789abcdef\n::add-mask::x\n::0123456789abcdef0123456789abcdef::\n"
	if f := ForeignGitHubCommands(own); len(f) != 0 {
		t.Errorf("devcluster's own commands taken for foreign: %+v", f)
	}
	for _, foreign := range []string{"::add-mask::x", " ::group::indented", "a ##[error]b", "::stop-commands::short"} {
		if f := ForeignGitHubCommands(foreign); len(f) != 1 {
			t.Errorf("%q: %d foreign commands, want 1", foreign, len(f))
		}
	}
}
