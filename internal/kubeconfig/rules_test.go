package kubeconfig

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func envOf(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func writeKubeconfig(t *testing.T, path, context string) {
	t.Helper()
	body := "apiVersion: v1\nkind: Config\ncurrent-context: " + context + "\n" +
		"clusters: [{name: " + context + ", cluster: {server: 'https://127.0.0.1:6443'}}]\n" +
		"users: [{name: " + context + ", user: {}}]\n" +
		"contexts: [{name: " + context + ", context: {cluster: " + context + ", user: " + context + "}}]\n"
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
}

// The rules are kubectl's: $KUBECONFIG's files merged (the first file's
// current context wins, missing files skipped), else ~/.kube/config, and an
// explicit file before either.
func TestRules(t *testing.T) {
	dir := t.TempDir()
	a, b, home := filepath.Join(dir, "a"), filepath.Join(dir, "b"), filepath.Join(dir, "home")
	writeKubeconfig(t, a, "ctx-a")
	writeKubeconfig(t, b, "ctx-b")
	writeKubeconfig(t, filepath.Join(home, ".kube", "config"), "ctx-home")
	missing := filepath.Join(dir, "missing")
	list := strings.Join([]string{missing, a, b}, string(filepath.ListSeparator))

	cfg, err := Rules("", envOf(map[string]string{"KUBECONFIG": list, "HOME": home})).Load()
	if err != nil {
		t.Fatalf("load of $KUBECONFIG: %v", err)
	}
	if cfg.CurrentContext != "ctx-a" || cfg.Contexts["ctx-b"] == nil || cfg.Contexts["ctx-home"] != nil {
		t.Errorf("$KUBECONFIG: current %q, contexts %v; want a and b merged, a's current context, not home's", cfg.CurrentContext, keys(cfg.Contexts))
	}

	cfg, err = Rules("", envOf(map[string]string{"HOME": home})).Load()
	if err != nil || cfg.CurrentContext != "ctx-home" {
		t.Errorf("without $KUBECONFIG: %v, %v; want ~/.kube/config", cfg, err)
	}

	cfg, err = Rules(b, envOf(map[string]string{"KUBECONFIG": a, "HOME": home})).Load()
	if err != nil || cfg.CurrentContext != "ctx-b" || cfg.Contexts["ctx-a"] != nil {
		t.Errorf("explicit file: %v, %v; want only it", cfg, err)
	}

	if _, err := Rules(missing, envOf(nil)).Load(); err == nil {
		t.Error("a missing explicit file loads; want an error")
	}

	t.Setenv("KUBECONFIG", b)
	if got := Rules("", nil).Precedence; !slices.Equal(got, []string{b}) {
		t.Errorf("nil env: precedence %v, want the process's $KUBECONFIG", got)
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
