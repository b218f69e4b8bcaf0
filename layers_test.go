// Package devcluster_test holds tests about the repository as a whole.
package devcluster_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/devcluster/devcluster"

// layers ranks the product's packages: a package may import only packages
// of a lower rank. The command line sits on the orchestration library, which
// sits on the parts (provider, agent, registry, ...), which sit on the
// configuration and on internal helpers.
var layers = []struct {
	rank     int
	prefixes []string
}{
	{-1, []string{"internal/proc"}},
	{0, []string{"internal/run", "internal/ui", "internal/problem", "internal/paths", "internal/lockfile", "internal/text", "internal/kubeconfig"}},
	{1, []string{"config", "manifests", "image", "internal/porthold", "internal/browser"}},
	{2, []string{"provider", "kube", "registry", "loadbalancer", "install"}},
	{3, []string{"provider/minikube", "provider/existing", "provider/kind", "agent"}},
	{4, []string{"bootstrap", "provider/providers"}},
	{5, []string{"cmd/devcluster/app"}},
	{6, []string{"cmd/devcluster"}},
}

func rankOf(rel string) (int, bool) {
	best, found, bestLen := 0, false, -1
	for _, l := range layers {
		for _, p := range l.prefixes {
			if (rel == p || strings.HasPrefix(rel, p+"/")) && len(p) > bestLen {
				best, found, bestLen = l.rank, true, len(p)
			}
		}
	}
	return best, found
}

type pkg struct {
	ImportPath string
	Imports    []string
}

// listPackages is `go list` of every package with the given build tags.
func listPackages(t *testing.T, tags string) []pkg {
	t.Helper()
	args := []string{"list", "-json=ImportPath,Imports"}
	if tags != "" {
		args = append(args, "-tags", tags)
	}
	out, err := exec.Command("go", append(args, "./...")...).Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var pkgs []pkg
	dec := json.NewDecoder(bytes.NewReader(out))
	for dec.More() {
		var p pkg
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

// isTestHelper reports the packages only tests may use.
func isTestHelper(rel string) bool {
	return strings.HasPrefix(rel, "internal/fake") || rel == "internal/run/runtest" || rel == "internal/testutil"
}

// violations applies the import rules to a package list.
func violations(pkgs []pkg) []string {
	var out []string
	for _, p := range pkgs {
		rel := strings.TrimPrefix(strings.TrimPrefix(p.ImportPath, module), "/")
		testOnly := strings.HasPrefix(rel, "e2e") || isTestHelper(rel)
		for _, imp := range p.Imports {
			switch {
			case imp == "os/exec" && !testOnly && rel != "internal/run":
				out = append(out, fmt.Sprintf("%s imports os/exec: run external commands through internal/run", rel))
			case strings.HasPrefix(imp, "github.com/urfave/cli") && !strings.HasPrefix(rel, "cmd/"):
				out = append(out, fmt.Sprintf("%s imports urfave/cli: only cmd/ parses command lines", rel))
			}
			if !strings.HasPrefix(imp, module+"/") || testOnly {
				continue
			}
			dep := strings.TrimPrefix(imp, module+"/")
			if v := thinCLI(rel, dep); v != "" {
				out = append(out, v)
			}
			if isTestHelper(dep) {
				out = append(out, fmt.Sprintf("%s imports the test fake %s", rel, dep))
				continue
			}
			pr, ok1 := rankOf(rel)
			dr, ok2 := rankOf(dep)
			switch {
			case !ok1:
				out = append(out, fmt.Sprintf("%s has no layer: add it to layers in layers_test.go", rel))
			case !ok2:
				out = append(out, fmt.Sprintf("%s imports %s, which has no layer", rel, dep))
			case dr >= pr:
				out = append(out, fmt.Sprintf("%s (layer %d) imports %s (layer %d): imports go down the layers only", rel, pr, dep, dr))
			}
		}
	}
	return out
}

// cliOnly are the parts the command line reaches only through bootstrap:
// it parses flags, calls one bootstrap function and prints the result, so
// Kubernetes clients and the registry are bootstrap's to drive.
var cliOnly = []string{"kube", "registry"}

// thinCLI reports a package of cmd/ that imports one of cliOnly (its tests
// may, to build their stand-ins).
func thinCLI(rel, dep string) string {
	if !strings.HasPrefix(rel, "cmd/") {
		return ""
	}
	for _, p := range cliOnly {
		if dep == p || strings.HasPrefix(dep, p+"/") {
			return fmt.Sprintf("%s imports %s: the command line reaches it through bootstrap", rel, dep)
		}
	}
	return ""
}

// TestLayering enforces the architecture, in the manner of
// go-containerregistry's depcheck tests: os/exec only in internal/run,
// urfave/cli only in cmd/, neither kube nor registry in cmd/, imports only downwards (nothing below bootstrap
// imports it), and the test fakes only in tests.
func TestLayering(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Fatalf("needs the go command: %v", err)
	}
	for _, tags := range []string{"", "e2e", "realnode"} {
		for _, v := range violations(listPackages(t, tags)) {
			t.Errorf("tags %q: %s", tags, v)
		}
	}
}

// The rules catch what they are meant to: each forbidden import is found.
func TestLayeringRulesCatchViolations(t *testing.T) {
	bad := []pkg{
		{ImportPath: module + "/agent", Imports: []string{"os/exec"}},
		{ImportPath: module + "/bootstrap", Imports: []string{"github.com/urfave/cli/v2"}},
		{ImportPath: module + "/registry", Imports: []string{module + "/bootstrap"}},
		{ImportPath: module + "/config", Imports: []string{module + "/provider"}},
		{ImportPath: module + "/bootstrap", Imports: []string{module + "/internal/fake/minikube"}},
		{ImportPath: module + "/newpkg", Imports: []string{module + "/config"}},
		{ImportPath: module + "/cmd/devcluster/app", Imports: []string{module + "/kube"}},
		{ImportPath: module + "/cmd/devcluster/app", Imports: []string{module + "/registry"}},
	}
	got := violations(bad)
	if len(got) != len(bad) {
		t.Errorf("found %d violations in %d bad packages:\n%s", len(got), len(bad), strings.Join(got, "\n"))
	}
	good := []pkg{
		{ImportPath: module + "/bootstrap", Imports: []string{module + "/agent", module + "/config", module + "/internal/run"}},
		{ImportPath: module + "/e2e", Imports: []string{"os/exec", module + "/internal/fake/minikube", module + "/bootstrap"}},
		{ImportPath: module + "/cmd/devcluster/app", Imports: []string{module + "/bootstrap", module + "/config", module + "/image"}},
		{ImportPath: module + "/bootstrap", Imports: []string{module + "/kube", module + "/registry"}},
	}
	if v := violations(good); len(v) != 0 {
		t.Errorf("false positives: %q", v)
	}
}

// providerNames are the providers' names as literals, and providerConsts
// the constants of config's registry that hold them.
var (
	providerNames  = map[string]bool{"minikube": true, "kind": true, "existing": true}
	providerConsts = map[string]bool{"ProviderMinikube": true, "ProviderKind": true, "ProviderExisting": true, "DefaultProvider": true}
)

// namesProvider reports whether e is a provider's name: a literal, one of
// config's constants (config.ProviderKind, or ProviderKind inside
// config), or a provider package's Name (kind.Name).
func namesProvider(e ast.Expr) bool {
	switch e := ast.Unparen(e).(type) {
	case *ast.BasicLit:
		v, err := strconv.Unquote(e.Value)
		return e.Kind == token.STRING && err == nil && providerNames[v]
	case *ast.Ident:
		return providerConsts[e.Name]
	case *ast.SelectorExpr:
		x, ok := e.X.(*ast.Ident)
		return ok && ((x.Name == "config" && providerConsts[e.Sel.Name]) || (providerNames[x.Name] && e.Sel.Name == "Name"))
	}
	return false
}

// providerComparisons lists where src compares a provider's name: an ==
// or != with a name on either side, or a switch case that is a name.
func providerComparisons(fset *token.FileSet, f *ast.File) []string {
	var out []string
	report := func(n ast.Node, what string) {
		out = append(out, fmt.Sprintf("%s: %s", fset.Position(n.Pos()), what))
	}
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.BinaryExpr:
			if (n.Op == token.EQL || n.Op == token.NEQ) && (namesProvider(n.X) || namesProvider(n.Y)) {
				report(n, "compares a provider's name")
			}
		case *ast.CaseClause:
			for _, e := range n.List {
				if namesProvider(e) {
					report(e, "switches on a provider's name")
				}
			}
		}
		return true
	})
	return out
}

// TestNoProviderNameOutsideProvider keeps what providers differ in with
// the providers: outside provider/ no product file compares a provider's
// name; code asks the provider what it can do (its optional interfaces)
// or config's registry for its facts (config.LookupProvider). The
// registry's own table is the one place that names them.
func TestNoProviderNameOutsideProvider(t *testing.T) {
	var found []string
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel := filepath.ToSlash(path)
		if d.IsDir() {
			if rel == "provider" || rel == "e2e" || rel == "tools" || isTestHelper(rel) || strings.HasPrefix(d.Name(), ".") && rel != "." {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(rel, ".go") || strings.HasSuffix(rel, "_test.go") || rel == "config/providers.go" {
			return nil
		}
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		found = append(found, providerComparisons(fset, f)...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range found {
		t.Errorf("%s: ask the provider (an optional interface of provider.Provider) or config.LookupProvider instead", v)
	}
}

// The check finds each kind of comparison, and not a field named kind.
func TestProviderComparisonsCatchViolations(t *testing.T) {
	src := `package p
func f(c, cfg, s cluster) {
	if c.Provider == "kind" {}
	if "existing" != cfg.Provider {}
	if cfg.Provider == config.ProviderExisting {}
	if s.cluster.Provider == existing.Name {}
	switch c.Provider {
	case config.DefaultProvider, "minikube":
	}
	if p == ProviderKind {}
	// Not a provider's name:
	if key == "apiVersion" || c.Name == "dev" {}
	_ = map[string]int{"kind": 1}
	_ = []string{config.ProviderKind}
}`
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "p.go", src, 0)
	if err != nil {
		t.Fatal(err)
	}
	got := providerComparisons(fset, f)
	if len(got) != 7 {
		t.Errorf("found %d comparisons, want 7:\n%s", len(got), strings.Join(got, "\n"))
	}
}
