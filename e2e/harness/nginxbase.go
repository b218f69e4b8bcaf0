//go:build linux

package harness

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// EnsureNginxBase builds, once, a real nginx image without pulling any image:
// a minimal Debian root filesystem with nginx-light (debootstrap, from
// Debian's packages) packed as a one-layer image with go-containerregistry,
// stored as an OCI layout in the cache. It returns the layout directory (use
// it as workloads.sampleBase "oci:<dir>").
func EnsureNginxBase(ctx context.Context, logf func(string, ...any)) (string, error) {
	cache, err := CacheDir()
	if err != nil {
		return "", err
	}
	dir := filepath.Join(cache, "nginx-base-bookworm")
	if _, err := os.Stat(filepath.Join(dir, ".complete")); err == nil {
		return dir, nil
	}
	if _, err := exec.LookPath("debootstrap"); err != nil {
		return "", fmt.Errorf("debootstrap is not installed (Debian package debootstrap): %w", err)
	}
	work, err := os.MkdirTemp(cache, "nginx-build-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(work)
	logf("building the nginx base image with debootstrap (first run only)")
	layerTar := filepath.Join(work, "layer.tar")
	if err := debootstrapTar(ctx, work, "nginx-light", layerTar); err != nil {
		return "", err
	}
	layer, err := tarball.LayerFromFile(layerTar, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return "", err
	}
	img, err := mutate.Append(empty.Image, mutate.Addendum{Layer: layer})
	if err != nil {
		return "", err
	}
	img = mutate.MediaType(img, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	cfg, err := img.ConfigFile()
	if err != nil {
		return "", err
	}
	cfg = cfg.DeepCopy()
	cfg.OS, cfg.Architecture = "linux", "amd64"
	cfg.Config = v1.Config{
		Cmd:          []string{"nginx", "-g", "daemon off;"},
		Env:          []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
		ExposedPorts: map[string]struct{}{"80/tcp": {}},
		StopSignal:   "SIGQUIT",
	}
	if img, err = mutate.ConfigFile(img, cfg); err != nil {
		return "", err
	}
	_ = os.RemoveAll(dir)
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return "", err
	}
	if err := p.AppendImage(img); err != nil {
		return "", err
	}
	return dir, os.WriteFile(filepath.Join(dir, ".complete"), nil, 0o644)
}

func tailBytes(b []byte, lines int) string {
	s := string(b)
	n := 0
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '\n' {
			n++
			if n > lines {
				return s[i+1:]
			}
		}
	}
	return s
}

// debootstrapTar makes a minimal Debian bookworm root filesystem with the
// packages include (comma-separated) under work and packs it into file.
func debootstrapTar(ctx context.Context, work, include, file string) error {
	if _, err := exec.LookPath("debootstrap"); err != nil {
		return fmt.Errorf("debootstrap is not installed (Debian package debootstrap): %w", err)
	}
	rootfs := filepath.Join(work, "rootfs")
	if out, err := exec.CommandContext(ctx, "debootstrap", "--variant=minbase", "--include="+include, "bookworm", rootfs).CombinedOutput(); err != nil {
		return fmt.Errorf("debootstrap: %v\n%s", err, tailBytes(out, 20))
	}
	if out, err := exec.CommandContext(ctx, "tar", "-C", rootfs, "--numeric-owner", "--exclude=./dev/*", "--exclude=./proc/*",
		"--exclude=./sys/*", "--exclude=./var/cache/apt/*", "--exclude=./var/lib/apt/lists/*", "-cf", file, ".").CombinedOutput(); err != nil {
		return fmt.Errorf("packing the root filesystem: %v\n%s", err, out)
	}
	return nil
}

// EnsureSystemdRootfs builds, once, a Debian bookworm root filesystem with
// systemd as init (debootstrap, from Debian's packages) — the base a kind
// node image needs — and returns the cached tarball, for `docker import`.
func EnsureSystemdRootfs(ctx context.Context, logf func(string, ...any)) (string, error) {
	cache, err := CacheDir()
	if err != nil {
		return "", err
	}
	file := filepath.Join(cache, "systemd-rootfs-bookworm.tar")
	if _, err := os.Stat(file); err == nil {
		return file, nil
	}
	work, err := os.MkdirTemp(cache, "systemd-build-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(work)
	logf("building a systemd root filesystem with debootstrap (first run only)")
	tmp := filepath.Join(work, "rootfs.tar")
	if err := debootstrapTar(ctx, work, "systemd,systemd-sysv,dbus", tmp); err != nil {
		return "", err
	}
	return file, os.Rename(tmp, file)
}
