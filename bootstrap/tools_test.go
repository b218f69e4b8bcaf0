package bootstrap

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/devcluster/devcluster/config"
	"github.com/devcluster/devcluster/install"
	"github.com/devcluster/devcluster/internal/paths"
	"github.com/devcluster/devcluster/internal/problem"
)

// Whether a missing tool is downloaded: never with --no-install; without
// a question in CI or with --install; on a terminal only when the person
// says yes; elsewhere not, with the command that would. None of these
// cases downloads anything.
func TestToolInstallerPolicy(t *testing.T) {
	missing := problem.New(problem.Missing, "kind is not installed", errors.New("kind: not found on PATH"), "")
	asked := 0
	no := func(context.Context, string) (bool, error) { asked++; return false, nil }
	env := envOf(nil)
	base := ToolInstaller{Dir: t.TempDir(), LookupEnv: env, Ask: no, Report: &recorder{}}

	never := base
	never.Mode = InstallNever
	if _, err := never.Install(t.Context(), "kind", missing); err != missing {
		t.Errorf("--no-install: %v, want the missing tool's problem as it is", err)
	}
	unknown := base
	if _, err := unknown.Install(t.Context(), "helm", missing); err != missing {
		t.Errorf("a tool without a pinned release: %v", err)
	}
	pipe := base
	_, err := pipe.Install(t.Context(), "kind", missing)
	if problem.KindOf(err) != problem.Missing || !strings.Contains(problem.FixOf(err), "devcluster up --install") || asked != 0 {
		t.Errorf("no terminal, no CI: %v (fix %q, asked %d)", err, problem.FixOf(err), asked)
	}
	tty := base
	tty.Interactive = true
	_, err = tty.Install(t.Context(), "kind", missing)
	if problem.KindOf(err) != problem.Missing || !strings.Contains(problem.FixOf(err), "install it yourself") || asked != 1 {
		t.Errorf("answered no: %v (asked %d)", err, asked)
	}
	noDir := base
	noDir.DirErr = errors.New("neither HOME nor XDG_CACHE_HOME is set")
	if _, err := noDir.Install(t.Context(), "kind", missing); problem.KindOf(err) != problem.Failed || problem.FixOf(err) != "set HOME or XDG_CACHE_HOME" {
		t.Errorf("no tools directory: %v", err)
	}
	// Installed before: that one, without a question or a download.
	r, _ := install.Lookup("kind")
	inst := &install.Installer{Dir: base.Dir}
	if err := os.WriteFile(inst.Path(r), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if p, err := tty.Install(t.Context(), "kind", missing); err != nil || p != inst.Path(r) || asked != 1 {
		t.Errorf("installed before: %q, %v (asked %d)", p, err, asked)
	}
}

func TestDownloadBase(t *testing.T) {
	cfg := &config.Config{Install: config.Install{MinikubeURL: "https://mirror.example/minikube", KindURL: "https://mirror.example/kind"}}
	for _, tc := range []struct {
		env  map[string]string
		cfg  *config.Config
		tool string
		want string
	}{
		{nil, nil, "kind", ""},
		{nil, cfg, "kind", "https://mirror.example/kind"},
		{nil, cfg, "minikube", "https://mirror.example/minikube"},
		{map[string]string{"DEVCLUSTER_KIND_URL": "https://other.example/kind"}, cfg, "kind", "https://other.example/kind"},
		{map[string]string{"DEVCLUSTER_KIND_URL": ""}, cfg, "kind", "https://mirror.example/kind"},
	} {
		if got, err := DownloadBase(envOf(tc.env), tc.cfg, tc.tool); err != nil || got != tc.want {
			t.Errorf("%v %s: %q, %v; want %q", tc.env, tc.tool, got, err, tc.want)
		}
	}
	if _, err := DownloadBase(envOf(map[string]string{"DEVCLUSTER_MINIKUBE_URL": "ftp://nope"}), cfg, "minikube"); problem.KindOf(err) != problem.Config ||
		!strings.Contains(err.Error(), "DEVCLUSTER_MINIKUBE_URL") {
		t.Errorf("a bad URL in the variable: %v", err)
	}
}

// config view shows the registry's data directory and the release URLs up
// would use, a mirror's password never.
func TestEffectiveFile(t *testing.T) {
	cfg := &config.Config{Name: "dev", Provider: "kind", Install: config.Install{KindURL: "https://user:secret@mirror.example/kind"}}
	dirs := func(name string) (paths.Dirs, error) { return paths.Dirs{Data: "/data/" + name}, nil }
	f, err := EffectiveFile(envOf(nil), dirs, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if f.Registry.DataDir != "/data/dev/registry" || f.Install.MinikubeURL != install.Minikube.BaseURL ||
		strings.Contains(f.Install.KindURL, "secret") || !strings.Contains(f.Install.KindURL, "mirror.example/kind") {
		t.Errorf("data dir %q, URLs %q %q", f.Registry.DataDir, f.Install.MinikubeURL, f.Install.KindURL)
	}
	if _, err := EffectiveFile(envOf(map[string]string{"DEVCLUSTER_KIND_URL": "not a url"}), dirs, cfg); problem.KindOf(err) != problem.Config {
		t.Errorf("a bad URL variable: %v", err)
	}
}
