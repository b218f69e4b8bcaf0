package kind

import (
	"context"
	"fmt"
	"strings"

	"github.com/devcluster/devcluster/internal/problem"
	"github.com/devcluster/devcluster/internal/run"
	"github.com/devcluster/devcluster/provider"
)

// InstallHint says how to get kind.
const InstallHint = "install kind: https://kind.sigs.k8s.io/docs/user/quick-start/#installation"

// MinVersion is the oldest kind devcluster drives: the node images of
// kind v0.27.0 and later read containerd's registry configuration from
// /etc/containerd/certs.d, where devcluster writes its hosts.toml files,
// without a containerd config patch.
const MinVersion = "v0.27.0"

// EnsureInstalled implements provider.Provider: `kind version`, at least
// MinVersion, then whether Docker answers (kind needs it, and it is the user's to install).
func (k *Kind) EnsureInstalled(ctx context.Context) (string, error) {
	res, err := k.kind(ctx, nil, "version")
	if err != nil {
		if run.IsNotFound(err) {
			return "", problem.New(problem.Missing, "kind is not installed", &provider.ToolMissing{Tool: "kind", Binary: k.binary}, InstallHint)
		}
		return "", problem.New(problem.Failed, "checking the kind version", err, "run `kind version` yourself to see what is wrong")
	}
	version := ParseVersion(string(res.Stdout))
	if version == "" {
		return "", problem.New(problem.Failed, "checking the kind version",
			fmt.Errorf("unexpected output of `kind version`: %q", strings.TrimSpace(string(res.Stdout))), "")
	}
	if provider.CompareVersions(version, MinVersion) < 0 {
		return "", problem.New(problem.Missing, "kind is too old",
			fmt.Errorf("found %s, devcluster needs %s or newer", version, MinVersion),
			"upgrade kind: https://kind.sigs.k8s.io/docs/user/quick-start/#installation")
	}
	if err := k.checkDocker(ctx); err != nil {
		return "", err
	}
	return version, nil
}

// Tool implements provider.Installable.
func (k *Kind) Tool() string { return Name }

// UseBinary implements provider.Installable.
func (k *Kind) UseBinary(path string) { k.binary = path }

// CheckPrerequisites implements provider.Installable: Docker answers.
func (k *Kind) CheckPrerequisites(ctx context.Context, _ provider.Spec) error {
	return k.checkDocker(ctx)
}

// checkDocker says whether Docker answers (kind needs it, and it is the
// user's to install).
func (k *Kind) checkDocker(ctx context.Context) error {
	return provider.EngineOf(k.docker).Check(ctx, k.runner, "kind runs its nodes as Docker containers", "")
}

// ParseVersion reads "kind v0.33.0 go1.26.8 linux/amd64" (or the -q form
// "0.33.0") and returns "v0.33.0", or "".
func ParseVersion(out string) string {
	f := strings.Fields(out)
	switch {
	case len(f) >= 2 && f[0] == "kind" && strings.HasPrefix(f[1], "v"):
		return f[1]
	case len(f) == 1 && len(f[0]) > 0 && f[0][0] >= '0' && f[0][0] <= '9':
		return "v" + f[0]
	}
	return ""
}
