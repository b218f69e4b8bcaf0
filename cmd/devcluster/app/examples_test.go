package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
	"gopkg.in/yaml.v3"

	"github.com/devcluster/devcluster/config"
	"github.com/devcluster/devcluster/internal/testutil"
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
		// With the Action, up is its first use.
		want := 3
		if strings.Contains(string(b), "uses: devcluster/devcluster@") {
			want = 2
		}
		if n < want {
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

// The CI examples' app is complete: what their deploy names exists in its
// manifests (deployment/web in namespace apps, which up creates from
// devcluster.yaml's workloads.manifests), and the files they build and load
// are there.
func TestCIExampleAppIsComplete(t *testing.T) {
	dir := filepath.Join(repoRoot, "examples", "ci")
	for _, f := range []string{"Dockerfile", "nginx.conf", "site/index.html", "devcluster.yaml"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
	var b []byte
	for _, f := range []string{"namespace.yaml", "web.yaml"} {
		m, err := os.ReadFile(filepath.Join(dir, "k8s", f))
		if err != nil {
			t.Fatal(err)
		}
		b = append(append(b, m...), "\n---\n"...)
	}
	found := map[string]bool{}
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	for {
		var obj struct {
			Kind     string
			Metadata struct{ Name, Namespace string }
		}
		if err := dec.Decode(&obj); err != nil {
			break
		}
		found[obj.Kind+"/"+obj.Metadata.Namespace+"/"+obj.Metadata.Name] = true
	}
	for _, want := range []string{"Namespace//apps", "Deployment/apps/web", "Service/apps/web"} {
		if !found[want] {
			t.Errorf("k8s/ has no %s (has %v)", want, found)
		}
	}
	cfg, err := os.ReadFile(filepath.Join(dir, "devcluster.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(cfg), "manifests: [k8s/namespace.yaml]") {
		t.Errorf("devcluster.yaml does not create the namespace:\n%s", cfg)
	}
	d, err := os.ReadFile(filepath.Join(dir, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	// The layer cache: the content that changes most is copied last.
	if i, j := strings.Index(string(d), "COPY nginx.conf"), strings.Index(string(d), "COPY site/"); i < 0 || j < i {
		t.Errorf("Dockerfile copies site/ before nginx.conf:\n%s", d)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.yml"))
	for _, f := range files {
		b, _ := os.ReadFile(f)
		for _, want := range []string{"deployment/web -n apps --manifest k8s/web.yaml", "--configmap nginx-config=nginx.conf"} {
			if !strings.Contains(string(b), want) {
				t.Errorf("%s: no %q", filepath.Base(f), want)
			}
		}
	}
}

// Every devcluster.yaml block of README.md and docs/ loads as pasted.
func TestDocsConfigBlocksLoad(t *testing.T) {
	blocks, err := testutil.DocBlocks(repoRoot, "yaml")
	if err != nil {
		t.Fatal(err)
	}
	pages := map[string]int{}
	for _, b := range blocks {
		if !strings.Contains(b.Text(), "kind: Cluster") {
			continue
		}
		pages[b.Page]++
		src, err := config.Decode(b.Page, []byte(b.Text()))
		if err == nil {
			_, err = config.Complete(src, config.Overrides{BaseDir: t.TempDir()})
		}
		if err != nil {
			t.Errorf("%s: the block does not load as pasted: %v\n%s", b.Where(), err, b.Text())
		}
	}
	if pages["README.md"] == 0 || pages["docs/configuration.md"] == 0 {
		t.Fatalf("devcluster.yaml blocks per page: %v; want README.md's and docs/configuration.md's", pages)
	}
}
