package install

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/devcluster/devcluster/internal/run"
)

// pathOf is a runner whose PATH holds only the names given.
type pathOf map[string]bool

func (p pathOf) LookPath(name string) (string, error) {
	if p[name] {
		return "/usr/bin/" + name, nil
	}
	return "", errors.New("not found")
}

func (pathOf) Run(_ context.Context, c run.Cmd) (run.Result, error) {
	return run.Result{}, errors.New("no command runs here")
}

// The executable of a tool: the one named when it exists, else the tool
// on PATH, else the pinned release devcluster installed, else what was
// asked for, so that the error names it.
func TestExecutable(t *testing.T) {
	dir := t.TempDir()
	installed := filepath.Join(dir, Kind.FileName())
	for _, tc := range []struct {
		name     string
		path     pathOf
		explicit string
		install  bool
		want     string
	}{
		{"on PATH", pathOf{"kind": true}, "", true, ""},
		{"named and there", pathOf{"/opt/kind": true}, "/opt/kind", true, "/opt/kind"},
		{"named, missing, installed", pathOf{}, "/opt/kind", true, installed},
		{"not on PATH, installed", pathOf{}, "", true, installed},
		{"nowhere", pathOf{}, "", false, ""},
		{"named, nowhere", pathOf{}, "/opt/kind", false, "/opt/kind"},
	} {
		_ = os.Remove(installed)
		if tc.install {
			if err := os.WriteFile(installed, []byte("#!/bin/sh\n"), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		if got := Executable(tc.path, "kind", tc.explicit, dir); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
	// No tools directory (no HOME): the installed release is not looked for.
	if got := Executable(pathOf{}, "minikube", "", ""); got != "" {
		t.Errorf("without a tools directory: %q", got)
	}
}
