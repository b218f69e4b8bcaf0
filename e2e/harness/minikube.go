//go:build linux

package harness

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// The real minikube release the contract tier compares the stand-in with,
// and the values its release build stamps into pkg/version (from the
// release's Makefile and tag).
const (
	MinikubeVersion     = "v1.38.1"
	minikubeISOVersion  = "v1.38.0"
	minikubeCommit      = "c93a4cb9311efc66b90d33ea03f75f2c4120e9b0"
	minikubeProvisioner = "v5"
)

// EnsureMinikube builds real minikube from its module source at
// MinikubeVersion, as its release build does (without libvirt linked in),
// unless a build for the same version, Go version and platform is cached.
// The module is read-only in the module cache, so it is copied to a
// scratch directory first; the Go build cache is reused, which makes a
// rebuild after a cache-key change (a new Go) far quicker than the first.
func EnsureMinikube(ctx context.Context, logf func(string, ...any)) (string, error) {
	dir, err := keyedDir("minikube-"+MinikubeVersion, MinikubeVersion+runtime.Version()+runtime.GOOS+runtime.GOARCH)
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "minikube")
	if _, err := os.Stat(filepath.Join(dir, ".complete")); err == nil {
		return bin, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	env := []string{"GOWORK=off", "GOFLAGS=-buildvcs=false"}
	cmd := exec.CommandContext(ctx, "go", "mod", "download", "-json", "k8s.io/minikube@"+MinikubeVersion)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go mod download k8s.io/minikube@%s: %w\n%s", MinikubeVersion, err, out)
	}
	var mod struct{ Dir, Error string }
	if err := json.Unmarshal(out, &mod); err != nil || mod.Dir == "" {
		return "", fmt.Errorf("go mod download k8s.io/minikube@%s: no module directory (%v %s)", MinikubeVersion, err, mod.Error)
	}
	src := filepath.Join(dir, "src")
	_ = os.RemoveAll(src)
	if err := copyTree(mod.Dir, src); err != nil {
		return "", err
	}
	defer os.RemoveAll(src)
	ldflags := strings.Join([]string{
		"-X k8s.io/minikube/pkg/version.version=" + MinikubeVersion,
		"-X k8s.io/minikube/pkg/version.isoVersion=" + minikubeISOVersion,
		"-X k8s.io/minikube/pkg/version.gitCommitID=" + minikubeCommit,
		"-X k8s.io/minikube/pkg/version.storageProvisionerVersion=" + minikubeProvisioner,
	}, " ")
	logf("building minikube %s from its module source into %s (first run only; about 10 minutes on 2 cores)", MinikubeVersion, dir)
	start := time.Now()
	if err := goCmd(ctx, src, env, "build", "-tags", "libvirt_dlopen", "-ldflags", ldflags, "-o", bin, "./cmd/minikube"); err != nil {
		return "", err
	}
	logf("built minikube %s in %s", MinikubeVersion, time.Since(start).Round(time.Second))
	return bin, os.WriteFile(filepath.Join(dir, ".complete"), nil, 0o644)
}

// copyTree copies a module directory into a writable tree.
func copyTree(from, to string) error {
	return filepath.WalkDir(from, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(from, path)
		if err != nil {
			return err
		}
		dst := filepath.Join(to, rel)
		switch {
		case d.IsDir():
			return os.MkdirAll(dst, 0o755)
		case d.Type().IsRegular():
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			return os.WriteFile(dst, b, 0o644)
		}
		return nil
	})
}
