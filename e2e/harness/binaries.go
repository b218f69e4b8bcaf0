//go:build linux

package harness

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

// Versions pinned for the end-to-end tiers.
const (
	KubernetesVersion = "v1.37.2"
	KwokVersion       = "v0.8.0"
	// KindVersion is the real kind the kind provider is tested with.
	KindVersion = "v0.33.0"
)

// Binaries are the paths of the built components.
type Binaries struct {
	Dir                   string
	Etcd                  string
	KubeAPIServer         string
	KubeControllerManager string
	KubeScheduler         string
	Kwok                  string
	// KwokStages is a multi-document file of kwok's fast node and pod
	// stages plus node heartbeats.
	KwokStages string
}

// RepoRoot finds the repository root (the directory with the product's
// go.mod) from the working directory.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && strings.Contains(string(b), "module github.com/devcluster/devcluster\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("repository root not found above the working directory")
		}
		dir = parent
	}
}

// CacheDir is where built binaries are kept: $DEVCLUSTER_E2E_CACHE, else
// <user cache dir>/devcluster-e2e.
func CacheDir() (string, error) {
	if d := os.Getenv("DEVCLUSTER_E2E_CACHE"); d != "" {
		return d, nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(d, "devcluster-e2e"), nil
}

// EnsureBinaries builds the control-plane binaries and kwok unless a build
// for the same tools module (go.sum hash), Go version and platform is cached.
func EnsureBinaries(ctx context.Context, logf func(string, ...any)) (*Binaries, error) {
	tools, dir, err := cachePath("tools", "k8s-"+KubernetesVersion, runtime.Version()+runtime.GOOS+runtime.GOARCH+KwokVersion)
	if err != nil {
		return nil, err
	}
	b := &Binaries{
		Dir:                   dir,
		Etcd:                  filepath.Join(dir, "etcd"),
		KubeAPIServer:         filepath.Join(dir, "kube-apiserver"),
		KubeControllerManager: filepath.Join(dir, "kube-controller-manager"),
		KubeScheduler:         filepath.Join(dir, "kube-scheduler"),
		Kwok:                  filepath.Join(dir, "kwok"),
		KwokStages:            filepath.Join(dir, "kwok-stages.yaml"),
	}
	if _, err := os.Stat(filepath.Join(dir, ".complete")); err == nil {
		return b, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	ldflags := versionLDFlags()
	logf("building etcd and Kubernetes %s control-plane binaries into %s (first run only; several minutes)", KubernetesVersion, dir)
	if err := goCmd(ctx, tools, nil, "build", "-ldflags", ldflags, "-o", dir+"/",
		"./etcd", "k8s.io/kubernetes/cmd/kube-apiserver", "k8s.io/kubernetes/cmd/kube-controller-manager",
		"k8s.io/kubernetes/cmd/kube-scheduler"); err != nil {
		return nil, err
	}
	logf("building kwok %s", KwokVersion)
	if err := goCmd(ctx, dir, []string{"GOBIN=" + dir}, "install", "sigs.k8s.io/kwok/cmd/kwok@"+KwokVersion); err != nil {
		return nil, err
	}
	if err := writeKwokStages(ctx, tools, b.KwokStages); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, ".complete"), nil, 0o644); err != nil {
		return nil, err
	}
	return b, nil
}

func goCmd(ctx context.Context, dir string, env []string, args ...string) error {
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	return nil
}

// writeKwokStages concatenates the Stage documents kwok ships in its module.
func writeKwokStages(ctx context.Context, toolsDir, dst string) error {
	cmd := exec.CommandContext(ctx, "go", "mod", "download", "-json", "sigs.k8s.io/kwok@"+KwokVersion)
	cmd.Dir = toolsDir
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("locating the kwok module: %w", err)
	}
	var mod struct{ Dir string }
	if err := json.Unmarshal(out, &mod); err != nil || mod.Dir == "" {
		return fmt.Errorf("locating the kwok module: %v (%s)", err, out)
	}
	var docs []string
	for _, sub := range []string{"node/fast", "node/heartbeat", "pod/fast"} {
		files, _ := filepath.Glob(filepath.Join(mod.Dir, "kustomize", "stage", sub, "*.yaml"))
		for _, f := range files {
			if filepath.Base(f) == "kustomization.yaml" {
				continue
			}
			b, err := os.ReadFile(f)
			if err != nil {
				return err
			}
			docs = append(docs, strings.TrimSpace(string(b)))
		}
	}
	if len(docs) == 0 {
		return errors.New("no kwok stage files found in the kwok module")
	}
	return os.WriteFile(dst, []byte(strings.Join(docs, "\n---\n")+"\n"), 0o644)
}

// EnsureConformance builds the OCI distribution-spec conformance suite
// pinned by the e2e/conformance module, cached like the other binaries.
func EnsureConformance(ctx context.Context) (string, error) {
	mod, bin, err := cachePath("conformance", "oci-conformance", runtime.Version())
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		return "", err
	}
	if err := goCmd(ctx, mod, nil, "build", "-o", bin, "github.com/opencontainers/distribution-spec/conformance"); err != nil {
		return "", err
	}
	return bin, nil
}

// EnsureGoInstall installs a Go command at a pinned version (pkg@version)
// into the cache and returns its path.
func EnsureGoInstall(ctx context.Context, pkgAtVersion, binName string) (string, error) {
	dir, err := keyedDir("go-install", pkgAtVersion+runtime.Version())
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, binName)
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	if err := goCmd(ctx, dir, []string{"GOBIN=" + dir}, "install", pkgAtVersion); err != nil {
		return "", err
	}
	return bin, nil
}

// EnsureNodeBinaries builds kubelet and kube-proxy (from the tools module,
// version-stamped) and containerd v2.4.2 with its runc shim and ctr, cached.
func EnsureNodeBinaries(ctx context.Context, logf func(string, ...any)) (*NodeBinaries, error) {
	tools, dir, err := cachePath("tools", "node-"+KubernetesVersion, runtime.Version()+ContainerdVersion)
	if err != nil {
		return nil, err
	}
	b := &NodeBinaries{Kubelet: filepath.Join(dir, "kubelet"), KubeProxy: filepath.Join(dir, "kube-proxy"),
		Containerd: filepath.Join(dir, "containerd"), Shim: filepath.Join(dir, "containerd-shim-runc-v2"), Ctr: filepath.Join(dir, "ctr")}
	if _, err := os.Stat(filepath.Join(dir, ".complete")); err == nil {
		return b, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	ldflags := versionLDFlags()
	logf("building kubelet and kube-proxy %s", KubernetesVersion)
	if err := goCmd(ctx, tools, nil, "build", "-ldflags", ldflags, "-o", dir+"/", "k8s.io/kubernetes/cmd/kubelet", "k8s.io/kubernetes/cmd/kube-proxy"); err != nil {
		return nil, err
	}
	logf("building containerd %s", ContainerdVersion)
	var pkgs []string
	for _, c := range []string{"containerd", "containerd-shim-runc-v2", "ctr"} {
		pkgs = append(pkgs, "github.com/containerd/containerd/v2/cmd/"+c+"@"+ContainerdVersion)
	}
	if err := goCmd(ctx, dir, []string{"GOBIN=" + dir, "CGO_ENABLED=0"}, append([]string{"install", "-tags", "no_btrfs no_devmapper no_zfs"}, pkgs...)...); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, ".complete"), nil, 0o644); err != nil {
		return nil, err
	}
	return b, nil
}

// ContainerdVersion is the real node's container runtime.
const ContainerdVersion = "v2.4.2"

// versionLDFlags stamps the Kubernetes version into binaries built from
// modules (plainly built they report v0.0.0-master, which breaks version
// parsing in clients).
func versionLDFlags() string {
	ldflags := "-s -w"
	for _, pkg := range []string{"k8s.io/component-base/version", "k8s.io/client-go/pkg/version"} {
		ldflags += fmt.Sprintf(" -X %s.gitVersion=%s -X %s.gitMajor=1 -X %s.gitMinor=37 -X %s.gitTreeState=clean",
			pkg, KubernetesVersion, pkg, pkg, pkg)
	}
	return ldflags
}

// keyedDir is <cache>/<name>-<hash of key>: a build's directory, named by
// what it was built from.
func keyedDir(name, key string) (string, error) {
	cache, err := CacheDir()
	if err != nil {
		return "", err
	}
	h := sha256.Sum256([]byte(key))
	return filepath.Join(cache, name+"-"+hex.EncodeToString(h[:6])), nil
}

// cachePath is where a build from the pinned module e2e/<module> is cached:
// <cache>/<name>-<hash of the module's go.sum and salt>. It also returns the
// module's directory.
func cachePath(module, name, salt string) (moduleDir, path string, err error) {
	root, err := RepoRoot()
	if err != nil {
		return "", "", err
	}
	moduleDir = filepath.Join(root, "e2e", module)
	sum, err := os.ReadFile(filepath.Join(moduleDir, "go.sum"))
	if err != nil {
		return "", "", err
	}
	path, err = keyedDir(name, string(sum)+salt)
	return moduleDir, path, err
}

// EnsureKubectl builds kubectl of the pinned Kubernetes version (for the
// benchmarks that compare devcluster with the kubectl command sequence),
// cached like the other binaries.
func EnsureKubectl(ctx context.Context, logf func(string, ...any)) (string, error) {
	tools, dir, err := cachePath("tools", "kubectl-"+KubernetesVersion, runtime.Version()+runtime.GOOS+runtime.GOARCH)
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "kubectl")
	if _, err := os.Stat(filepath.Join(dir, ".complete")); err == nil {
		return bin, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	logf("building kubectl %s into %s (first run only)", KubernetesVersion, dir)
	if err := goCmd(ctx, tools, nil, "build", "-ldflags", versionLDFlags(), "-o", bin, "k8s.io/kubernetes/cmd/kubectl"); err != nil {
		return "", err
	}
	return bin, os.WriteFile(filepath.Join(dir, ".complete"), nil, 0o644)
}
