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

// DockerHint says how to get Docker.
const DockerHint = "install Docker and start it: https://docs.docker.com/get-docker/"

// EnsureInstalled implements provider.Provider: `kind version`, then
// whether Docker answers (kind needs it, and it is the user's to install).
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
	if _, err := k.dockerRun(ctx, "version", "--format", "{{.Server.Version}}"); err != nil {
		switch {
		case run.IsNotFound(err):
			return problem.New(problem.Missing, "Docker is not installed",
				fmt.Errorf("kind runs its nodes as Docker containers: %w", &provider.ToolMissing{Tool: "docker", Binary: k.docker}), DockerHint)
		default:
			return problem.New(problem.Missing, "Docker is installed but not running", err,
				"start Docker (`sudo systemctl start docker`, or open Docker Desktop) and run `devcluster up` again")
		}
	}
	return nil
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
