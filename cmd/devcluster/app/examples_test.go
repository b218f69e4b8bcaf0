package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
	"gopkg.in/yaml.v3"
)

// The CI examples parse, and every devcluster command they run exists with
// the flags it uses.
func TestCIExamplesUseRealCommandsAndFlags(t *testing.T) {
	files, _ := filepath.Glob("../../../examples/ci/*.yml")
	if len(files) < 2 {
		t.Fatalf("CI examples: %q", files)
	}
	a := newApp(&globals{env: Env{}})
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var doc any
		if err := yaml.Unmarshal(b, &doc); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		var scripts []string
		collectScripts(doc, &scripts)
		n := 0
		for _, script := range scripts {
			for _, line := range joinContinuations(script) {
				words := strings.Fields(line)
				if len(words) == 0 || words[0] != "devcluster" {
					continue
				}
				n++
				if err := checkInvocation(a, words[1:]); err != "" {
					t.Errorf("%s: `%s`: %s", filepath.Base(f), line, err)
				}
			}
		}
		if n < 3 {
			t.Errorf("%s runs devcluster %d times; expected up, registry push and deploy", f, n)
		}
	}
}

// collectScripts gathers the shell scripts of Buildkite steps (command,
// commands) and GitHub Actions steps (run).
func collectScripts(v any, out *[]string) {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			switch s := val.(type) {
			case string:
				if k == "command" || k == "run" {
					*out = append(*out, s)
				}
			case []any:
				if k == "commands" {
					for _, c := range s {
						if cs, ok := c.(string); ok {
							*out = append(*out, cs)
						}
					}
				}
			}
			collectScripts(val, out)
		}
	case []any:
		for _, e := range x {
			collectScripts(e, out)
		}
	}
}

func joinContinuations(script string) []string {
	return strings.Split(strings.ReplaceAll(script, "\\\n", " "), "\n")
}

// checkInvocation finds the command and checks every flag against it and
// the global flags, with the command line's own rules.
func checkInvocation(a *cli.App, words []string) string {
	cl, err := parseCommandLine(a, append([]string{"devcluster"}, words...))
	if err != nil {
		return err.Error()
	}
	last := cl.levels[len(cl.levels)-1].cmd
	if len(cl.unknown) > 0 {
		name := "devcluster"
		if last != nil {
			name = last.Name
		}
		return "`" + name + "` has no flag " + cl.unknown[0]
	}
	if last == nil || len(cl.rest) > 0 {
		return "no such command"
	}
	return ""
}
