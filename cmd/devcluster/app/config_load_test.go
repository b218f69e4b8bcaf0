package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A field of the wrong type does not hide the other problems of the file:
// `up` reports what did not decode and what is invalid at once, each with
// its line, before anything runs.
func TestConfigProblemsOfBothPhasesAtOnce(t *testing.T) {
	h := newHarness(t)
	doc := "apiVersion: devcluster.dev/v1alpha1\nkind: Cluster\ncpus: [2]\nmemory: 1000mb\nnmae: dev\nwait: forever\n"
	if err := os.WriteFile(filepath.Join(h.dir, "devcluster.yaml"), []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"up"}, {"-f", "-", "up"}} {
		in := strings.NewReader(doc)
		code := h.runWith(t.Context(), in, args...)
		out := h.stderr.String()
		for _, want := range []string{"4 problems", "line 3: cpus: expected a string, got a list", "line 4: memory: requested memory allocation 1000MiB",
			"line 5: nmae: unknown field; did you mean name?", `line 6: wait: invalid duration "forever"`} {
			if !strings.Contains(out, want) {
				t.Errorf("%v: exit %d, stderr lacks %q:\n%s", args, code, want, out)
			}
		}
		if code != ExitUsage {
			t.Errorf("%v: exit %d, want %d", args, code, ExitUsage)
		}
	}
}
