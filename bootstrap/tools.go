package bootstrap

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"runtime"

	"github.com/devcluster/devcluster/config"
	"github.com/devcluster/devcluster/install"
	"github.com/devcluster/devcluster/internal/paths"
	"github.com/devcluster/devcluster/internal/problem"
	"github.com/devcluster/devcluster/internal/run"
)

// InstallMode says whether `up` may download a missing minikube or kind.
type InstallMode int

const (
	// InstallAsk downloads in CI, asks on a terminal, and otherwise says
	// how to install.
	InstallAsk InstallMode = iota
	// InstallAlways is --install.
	InstallAlways
	// InstallNever is --no-install.
	InstallNever
)

// ToolInstaller gets the provider's tool when `up` finds it missing
// (Deps.Install): it decides whether the pinned release may be downloaded
// (the mode, CI, or the answer to a question), and downloads it, checked
// against its pinned sha256, into Dir.
type ToolInstaller struct {
	Mode InstallMode
	// CI is a CI job, where installing needs no question; Interactive is a
	// person at a terminal, whom Ask asks.
	CI, Interactive bool
	Ask             func(ctx context.Context, question string) (bool, error)
	// Dir is devcluster's tools directory; DirErr says why there is none.
	Dir    string
	DirErr error
	// LookupEnv reads the proxies and the download URLs' variables.
	LookupEnv func(string) (string, bool)
	// Config is the configuration, whose install.<tool>URL is the base
	// URL of the releases (nil: none).
	Config *config.Config
	// Report gets the download's lines; Progress, when set, makes the
	// reporter of the transfer's bytes under a label.
	Report   Reporter
	Progress func(label string) func(install.Progress)
}

// Install implements Deps.Install.
func (t ToolInstaller) Install(ctx context.Context, tool string, missing error) (string, error) {
	if t.Mode == InstallNever {
		return "", missing
	}
	r, err := install.Lookup(tool)
	if err != nil {
		return "", missing
	}
	if t.DirErr != nil {
		return "", problem.New(problem.Failed, "placing downloaded tools", t.DirErr, "set HOME or XDG_CACHE_HOME")
	}
	inst := &install.Installer{Dir: t.Dir, Getenv: t.LookupEnv}
	if p, ok := inst.Installed(r); ok {
		return p, nil
	}
	sum, err := inst.Sum(r)
	if err != nil {
		return "", err
	}
	base, err := DownloadBase(t.LookupEnv, t.Config, tool)
	if err != nil {
		return "", err
	}
	goos, goarch := runtime.GOOS, runtime.GOARCH
	// The URL as shown: a mirror's credentials stay out of the log.
	src := run.RedactURL(r.URL(base, goos, goarch))
	what := fmt.Sprintf("%s %s for %s/%s", r.Tool, r.Version, goos, goarch)
	if t.Mode == InstallAsk && !t.CI {
		if !t.Interactive {
			return "", problem.New(problem.Missing, tool+" is not installed", errors.Unwrap(missing),
				fmt.Sprintf("run `devcluster up --install` to download %s (checked against its pinned sha256) into %s, or install it yourself: %s", what, inst.Dir, r.Docs))
		}
		ok, err := t.Ask(ctx, fmt.Sprintf("%s is not installed. Download %s from %s into %s?", tool, what, src, inst.Dir))
		if err != nil {
			return "", err
		}
		if !ok {
			return "", problem.New(problem.Missing, tool+" is not installed", errors.Unwrap(missing),
				"install it yourself ("+r.Docs+"), or run `devcluster up --install`")
		}
	}
	t.Report.Progress(fmt.Sprintf("downloading %s from %s", what, src))
	if t.Progress != nil {
		inst.OnProgress = t.Progress("downloading " + r.Tool + " " + r.Version)
	}
	inst.OnRetry = func(n, attempts int, err error) {
		t.Report.Progress(fmt.Sprintf("attempt %d of %d failed (%v); trying again", n, attempts, err))
	}
	path, err := inst.Install(ctx, r, base)
	if err != nil {
		return "", err
	}
	t.Report.Progress(fmt.Sprintf("sha256 %s verified; installed %s", sum, path))
	return path, nil
}

// urlVariables override install.<tool>URL of the configuration.
var urlVariables = map[string]string{"minikube": "DEVCLUSTER_MINIKUBE_URL", "kind": "DEVCLUSTER_KIND_URL"}

// DownloadBase is the base URL of a tool's releases: its environment
// variable, else the configuration's install.<tool>URL, else "" for the
// project's own.
func DownloadBase(lookupEnv func(string) (string, bool), cfg *config.Config, tool string) (string, error) {
	variable := urlVariables[tool]
	if v, ok := lookupEnv(variable); ok && v != "" {
		if err := config.ValidDownloadURL(v); err != nil {
			return "", problem.New(problem.Config, "", fmt.Errorf("%s: %w", variable, err), "set it to the base URL of a mirror of the "+tool+" releases, or unset it")
		}
		return v, nil
	}
	if cfg == nil {
		return "", nil
	}
	return map[string]string{"minikube": cfg.Install.MinikubeURL, "kind": cfg.Install.KindURL}[tool], nil
}

// EffectiveFile is cfg as `config view` shows it: every setting with the
// value `up` would use, the registry's data directory and the release
// URLs included (a mirror's credentials redacted).
func EffectiveFile(lookupEnv func(string) (string, bool), dirs func(name string) (paths.Dirs, error), cfg *config.Config) (config.File, error) {
	f := cfg.Effective()
	if f.Registry.DataDir == "" {
		if d, err := dirs(cfg.Name); err == nil {
			f.Registry.DataDir = d.RegistryData()
		}
	}
	for _, u := range []struct {
		tool string
		dst  *string
		def  string
	}{{"minikube", &f.Install.MinikubeURL, install.Minikube.BaseURL}, {"kind", &f.Install.KindURL, install.Kind.BaseURL}} {
		base, err := DownloadBase(lookupEnv, cfg, u.tool)
		if err != nil {
			return config.File{}, err
		}
		// A mirror's credentials stay out of the output.
		*u.dst = run.RedactURL(cmp.Or(base, u.def))
	}
	return f, nil
}
