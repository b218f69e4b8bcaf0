package app

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/devcluster/devcluster/config"
)

// config view prints what up would use: the file, the flags over it,
// every default, and a mirror's credentials redacted; it loads back.
func TestConfigView(t *testing.T) {
	h := newHarness(t)
	h.writeConfig("cpus: 4\ninstall:\n  minikubeURL: https://user:s3cret@mirror.internal/minikube\n")
	if code := h.run("config", "view", "--name", "dev"); code != 0 {
		t.Fatalf("exit %d\n%s", code, h.stderr.String())
	}
	out := h.stdout.String()
	for _, want := range []string{"name: dev\n", "provider: minikube\n", "cpus: \"4\"\n", "memory: 4g\n", "containerRuntime: containerd\n", "wait: 5m\n",
		"clusterAddress: auto\n", "samples: false\n", "sampleBase: docker.io/library/nginx:stable\n",
		"dataDir: " + filepath.Join(h.dir, ".local", "share", "devcluster", "dev", "registry") + "\n",
		"kindURL: https://github.com/kubernetes-sigs/kind/releases/download\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("config view lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "s3cret") || !strings.Contains(out, "mirror.internal") {
		t.Errorf("the mirror's URL is not shown redacted:\n%s", out)
	}
	// As a file of its own: the same settings.
	if err := os.WriteFile(filepath.Join(h.dir, "viewed.yaml"), []byte(strings.ReplaceAll(out, "s3cret", "x")), 0o600); err != nil {
		t.Fatal(err)
	}
	first := out
	if code := h.run("-f", "viewed.yaml", "config", "view"); code != 0 {
		t.Fatalf("the viewed configuration does not load: exit %d\n%s", code, h.stderr.String())
	}
	if h.stdout.String() != first {
		t.Errorf("viewed twice:\n%s\nthen\n%s", first, h.stdout.String())
	}
	h.writeConfig("workers: 2\n")
	if code := h.run("config", "view", "-o", "json", "--provider", "kind"); code != 0 {
		t.Fatalf("exit %d\n%s", code, h.stderr.String())
	}
	var f map[string]any
	if err := json.Unmarshal(h.stdout.Bytes(), &f); err != nil || f["provider"] != "kind" || f["workers"] != 2.0 || f["cpus"] != nil || f["driver"] != nil {
		t.Errorf("config view -o json --provider kind = %s (%v)", h.stdout.String(), err)
	}
	// A file that does not load is the same error as up's, exit 2.
	h.writeConfig("portMappings:\n  - containerPort: 30080\n")
	if code := h.run("config", "view"); code != ExitUsage || !strings.Contains(h.stderr.String(), "portMappings: only for provider kind") {
		t.Errorf("config view of a bad file: exit %d\n%s", code, h.stderr.String())
	}
}

func TestConfigInit(t *testing.T) {
	h := newHarness(t)
	if code := h.run("config", "init", "--provider", "kind", "--name", "ci"); code != 0 {
		t.Fatalf("exit %d\n%s", code, h.stderr.String())
	}
	if !strings.HasPrefix(h.stdout.String(), "# yaml-language-server: $schema=https://") || !strings.Contains(h.stdout.String(), "provider: kind\n") {
		t.Errorf("config init:\n%s", h.stdout.String())
	}
	printed := h.stdout.String()
	// --write: a new file, never over an existing one without --force.
	h.workDir = t.TempDir()
	if code := h.run("config", "init", "--provider", "kind", "--name", "ci", "--write"); code != 0 {
		t.Fatalf("--write: exit %d\n%s", code, h.stderr.String())
	}
	path := filepath.Join(h.workDir, "devcluster.yaml")
	b, err := os.ReadFile(path)
	if err != nil || string(b) != printed {
		t.Fatalf("written %q (%v), printed %q", b, err, printed)
	}
	if code := h.run("up", "--provider", "kind", "--help"); code != 0 {
		t.Fatal(code)
	}
	if err := os.WriteFile(path, []byte("mine\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code := h.run("config", "init", "--write"); code != ExitUsage || !strings.Contains(h.stderr.String(), "exists already") {
		t.Errorf("--write over a file: exit %d\n%s", code, h.stderr.String())
	}
	if b, _ := os.ReadFile(path); string(b) != "mine\n" {
		t.Errorf("the existing file was changed: %q", b)
	}
	if code := h.run("config", "init", "--write", "--force"); code != 0 {
		t.Fatalf("--force: exit %d\n%s", code, h.stderr.String())
	}
	if code := h.run("config", "view"); code != 0 || !strings.Contains(h.stdout.String(), "provider: minikube") {
		t.Errorf("the written file does not load: exit %d\n%s%s", code, h.stdout.String(), h.stderr.String())
	}
	entries, _ := os.ReadDir(h.workDir)
	if len(entries) != 1 {
		t.Errorf("left behind: %v", entries)
	}
	for _, args := range [][]string{{"config", "init", "--provider", "existing"}, {"config", "init", "--provider", "docker"}, {"config", "init", "--force"},
		{"config", "init", "--context", "x"}, {"-f", "-", "config", "init", "--write"}} {
		if code := h.run(args...); code != ExitUsage {
			t.Errorf("%q: exit %d\n%s", args, code, h.stderr.String())
		}
	}
	if code := h.run("config", "init", "--provider", "existing", "--context", "staging"); code != 0 || !strings.Contains(h.stdout.String(), "context: \"staging\"") {
		t.Errorf("existing: exit %d\n%s", code, h.stdout.String())
	}
}

func TestConfigSchema(t *testing.T) {
	h := newHarness(t)
	if code := h.run("config", "schema"); code != 0 {
		t.Fatal(code)
	}
	var got, want any
	if err := json.Unmarshal(h.stdout.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	_ = json.Unmarshal(config.Schema, &want)
	gb, _ := json.Marshal(got)
	wb, _ := json.Marshal(want)
	if !bytes.Equal(gb, wb) {
		t.Error("config schema prints another schema")
	}
	var y any
	if err := yaml.Unmarshal(h.stdout.Bytes(), &y); err != nil {
		t.Error(err)
	}
}
