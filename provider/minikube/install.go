package minikube

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/devcluster/devcluster/internal/problem"
	"github.com/devcluster/devcluster/internal/run"
	"github.com/devcluster/devcluster/provider"
)

// MinVersion is the oldest minikube devcluster drives: it has the JSON
// shapes and flags used here.
const MinVersion = "v1.30.0"

// InstallHint is shown when the binary is missing.
const InstallHint = "install minikube (https://minikube.sigs.k8s.io/docs/start/) and make sure `minikube` is on your PATH, or set MINIKUBE_BINARY / --minikube to its path"

// EnsureInstalled implements provider.Provider: `minikube version -o json`,
// or the version remembered for this very executable.
func (m *Minikube) EnsureInstalled(ctx context.Context) (string, error) {
	cached, entry := m.cachedVersion()
	if cached != "" && provider.CompareVersions(cached, MinVersion) >= 0 {
		m.version = cached
		return cached, nil
	}
	res, err := m.run(ctx, nil, "version", "-o", "json")
	if err != nil {
		if run.IsNotFound(err) {
			return "", problem.New(problem.Missing, "minikube is not installed",
				&provider.ToolMissing{Tool: "minikube", Binary: m.binary}, InstallHint)
		}
		return "", problem.New(problem.Failed, "checking the minikube version", err,
			"run `minikube version` yourself to see what is wrong with the installation")
	}
	var v versionJSON
	if err := json.Unmarshal(res.Stdout, &v); err != nil || v.MinikubeVersion == "" {
		return "", problem.New(problem.Failed, "checking the minikube version",
			fmt.Errorf("unexpected output of `minikube version -o json`: %q", strings.TrimSpace(string(res.Stdout))), "")
	}
	if provider.CompareVersions(v.MinikubeVersion, MinVersion) < 0 {
		return "", problem.New(problem.Missing, "minikube is too old",
			fmt.Errorf("found %s, devcluster needs %s or newer", v.MinikubeVersion, MinVersion),
			"upgrade minikube: https://minikube.sigs.k8s.io/docs/start/")
	}
	m.version = v.MinikubeVersion
	entry.Version = v.MinikubeVersion
	m.rememberVersion(entry)
	return v.MinikubeVersion, nil
}

var (
	_ provider.Installable  = (*Minikube)(nil)
	_ provider.Stoppable    = (*Minikube)(nil)
	_ provider.Resumable    = (*Minikube)(nil)
	_ provider.Comparer     = (*Minikube)(nil)
	_ provider.NodeAccess   = (*Minikube)(nil)
	_ provider.LogCollector = (*Minikube)(nil)
)

// Tool implements provider.Installable.
func (m *Minikube) Tool() string { return m.Name() }

// UseBinary implements provider.Installable.
func (m *Minikube) UseBinary(path string) { m.binary, m.version = path, "" }

// DriverHint says how to get a driver for minikube.
const DriverHint = "install Docker (https://docs.docker.com/get-docker/) or another minikube driver (https://minikube.sigs.k8s.io/docs/drivers/)"

// vmDriverTools are executables of minikube's VM drivers: one of them on
// PATH means minikube may find a driver without Docker or Podman.
var vmDriverTools = []string{"qemu-system-x86_64", "qemu-system-aarch64", "virsh", "VBoxManage", "vfkit", "hyperkit", "prlctl", "vmrun"}

// CheckPrerequisites implements provider.Installable: the container engine
// of the docker or podman driver answers; with no driver chosen, Docker or
// Podman answers or a VM driver's executable is on PATH. Other drivers are
// left to minikube's own checks.
func (m *Minikube) CheckPrerequisites(ctx context.Context, want provider.Spec) error {
	switch want.Driver {
	case "docker", "podman":
		return m.checkEngine(ctx, want.Driver)
	case "":
		dockerErr := m.checkEngine(ctx, "docker")
		if dockerErr == nil || m.checkEngine(ctx, "podman") == nil {
			return nil
		}
		lookPath := m.lookPath
		if lookPath == nil {
			lookPath = func(name string) (string, error) { return run.Which(m.runner, name) }
		}
		for _, t := range vmDriverTools {
			if _, err := lookPath(t); err == nil {
				return nil
			}
		}
		var p *problem.Error
		if errors.As(dockerErr, &p) && !strings.Contains(p.What, "not installed") {
			return dockerErr
		}
		return problem.New(problem.Missing, "minikube has no driver to run the cluster with",
			errors.New("neither Docker nor Podman nor a VM driver (qemu, kvm2, VirtualBox, vfkit, ...) was found"), DriverHint)
	}
	return nil
}

// checkEngine runs `<engine> version`, which fails when the engine's
// daemon (or machine) does not answer.
func (m *Minikube) checkEngine(ctx context.Context, engine string) error {
	return provider.EngineOf(engine).Check(ctx, m.runner, fmt.Sprintf("the %s driver needs %q on PATH", engine, engine), DriverHint)
}
