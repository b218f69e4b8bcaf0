//go:build e2e

package e2e

import (
	"os"
	"path/filepath"
	"testing"
)

// toolPath makes a directory under dir holding exactly the given
// executables (name → path, linked) and returns it, to be the whole PATH
// of a scenario: what the machine has installed (a docker CLI from a
// Debian package, podman, qemu) cannot change what the scenario sees.
func toolPath(t *testing.T, dir string, tools map[string]string) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, target := range tools {
		if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// setPath replaces the user's PATH.
func (u *user) setPath(path string) {
	for i, e := range u.env {
		if len(e) >= 5 && e[:5] == "PATH=" {
			u.env[i] = "PATH=" + path
			return
		}
	}
	u.env = append(u.env, "PATH="+path)
}
