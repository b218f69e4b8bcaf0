package app

import (
	"context"
	"errors"
	"fmt"
	"io"

	"runtime"
	"strings"
	"time"

	"github.com/devcluster/devcluster/config"
	"github.com/devcluster/devcluster/install"
	"github.com/devcluster/devcluster/internal/paths"
	"github.com/devcluster/devcluster/internal/problem"
	"github.com/devcluster/devcluster/internal/run"
	"github.com/devcluster/devcluster/internal/ui"
)

// installMode says whether `up` may download a missing minikube or kind.
type installMode int

const (
	// installAsk downloads in CI, asks on a terminal, and otherwise says
	// how to install.
	installAsk installMode = iota
	// installAlways is --install.
	installAlways
	// installNever is --no-install.
	installNever
)

// urlVariables override install.<tool>URL of the configuration.
var urlVariables = map[string]string{"minikube": "DEVCLUSTER_MINIKUBE_URL", "kind": "DEVCLUSTER_KIND_URL"}

// installer places downloads in devcluster's tools directory.
func (g *globals) installer() (*install.Installer, error) {
	dir, err := paths.ToolsDir(paths.Env(g.env.LookupEnv))
	if err != nil {
		return nil, err
	}
	return &install.Installer{Dir: dir, Getenv: g.env.LookupEnv}, nil
}

// binary is the executable to run for a tool: the flag or environment
// variable when it names one that exists, else the tool on PATH ("" lets
// the provider use its name), else the release devcluster installed, else
// what was asked for (so the error names it).
func (g *globals) binary(tool, flag, variable string) string {
	explicit := g.toolPath(flag, variable)
	want := explicit
	if want == "" {
		want = tool
	}
	if _, err := run.Which(g.env.Runner, want); err == nil {
		return explicit
	}
	if r, err := install.Lookup(tool); err == nil {
		if inst, err := g.installer(); err == nil {
			if p, ok := inst.Installed(r); ok {
				return p
			}
		}
	}
	return explicit
}

// installFunc is bootstrap's Deps.Install for `up`: it decides whether a
// missing tool may be downloaded (--install, --no-install, CI, or the
// answer to a question on a terminal) and downloads it with progress.
func (g *globals) installFunc(cfg *config.Config, mode installMode) func(context.Context, string, error) (string, error) {
	return func(ctx context.Context, tool string, missing error) (string, error) {
		if mode == installNever {
			return "", missing
		}
		r, err := install.Lookup(tool)
		if err != nil {
			return "", missing
		}
		inst, err := g.installer()
		if err != nil {
			return "", problem.New(problem.Failed, "placing downloaded tools", err, "set HOME or XDG_CACHE_HOME")
		}
		if p, ok := inst.Installed(r); ok {
			return p, nil
		}
		sum, err := inst.Sum(r)
		if err != nil {
			return "", err
		}
		base, err := g.downloadBase(cfg, tool)
		if err != nil {
			return "", err
		}
		goos, goarch := runtime.GOOS, runtime.GOARCH
		// The URL as shown: a mirror's credentials stay out of the log.
		src := run.RedactURL(r.URL(base, goos, goarch))
		what := fmt.Sprintf("%s %s for %s/%s", r.Tool, r.Version, goos, goarch)
		if mode == installAsk && !g.inCI() {
			if !g.interactive() {
				return "", problem.New(problem.Missing, tool+" is not installed", errors.Unwrap(missing),
					fmt.Sprintf("run `devcluster up --install` to download %s (checked against its pinned sha256) into %s, or install it yourself: %s", what, inst.Dir, r.Docs))
			}
			ok, err := g.printer().Ask(ctx, g.env.Stdin, fmt.Sprintf("%s is not installed. Download %s from %s into %s?", tool, what, src, inst.Dir), true)
			if err != nil {
				return "", err
			}
			if !ok {
				return "", problem.New(problem.Missing, tool+" is not installed", errors.Unwrap(missing),
					"install it yourself ("+r.Docs+"), or run `devcluster up --install`")
			}
		}
		p := g.printer()
		p.Progress(fmt.Sprintf("downloading %s from %s", what, src))
		inst.OnProgress = progressLines(p, "downloading "+r.Tool+" "+r.Version)
		inst.OnRetry = func(n, attempts int, err error) {
			p.Progress(fmt.Sprintf("attempt %d of %d failed (%v); trying again", n, attempts, err))
		}
		path, err := inst.Install(ctx, r, base)
		if err != nil {
			return "", err
		}
		p.Progress(fmt.Sprintf("sha256 %s verified; installed %s", sum, path))
		return path, nil
	}
}

// progressLines reports a transfer (a download, a push) under label: a
// bar redrawn in place on a terminal (at most every 200 ms), and elsewhere
// a line at every tenth (or every 15 s while the size is unknown), so a CI
// log gets about ten lines whatever the size.
func progressLines(p *ui.Printer, label string) func(install.Progress) {
	lastTenth, lastLine, lastDraw := -1, time.Duration(0), time.Duration(-1)
	return func(pr install.Progress) {
		if p.Live() {
			if !pr.Final && lastDraw >= 0 && pr.Elapsed-lastDraw < 200*time.Millisecond {
				return
			}
			lastDraw = pr.Elapsed
			p.Progress(strings.TrimSpace(label + " " + install.Bar(pr, 20) + " " + install.Describe(pr)))
			return
		}
		if pr.Total > 0 {
			tenth := install.Percent(pr) / 10
			if tenth == lastTenth {
				return
			}
			lastTenth = tenth
		} else if !pr.Final && pr.Elapsed-lastLine < 15*time.Second {
			return
		}
		lastLine = pr.Elapsed
		p.Progress(label + ": " + install.Describe(pr))
	}
}

// downloadBase is the base URL of a tool's releases: its environment
// variable, else the configuration's install.<tool>URL, else "" for the
// project's own.
func (g *globals) downloadBase(cfg *config.Config, tool string) (string, error) {
	variable := urlVariables[tool]
	if v, ok := g.env.LookupEnv(variable); ok && v != "" {
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

// inCI reports a CI job, where installing needs no question.
func (g *globals) inCI() bool {
	if ui.IsCI(g.env.LookupEnv) {
		return true
	}
	ci, err := ui.DetectCI(g.env.LookupEnv, g.ci)
	return err == nil && ci != ui.NoCI
}

// interactive reports a person at a terminal: standard input and standard
// error are terminals.
func (g *globals) interactive() bool {
	w, ok := g.env.Stdin.(io.Writer)
	return ok && g.env.IsTerminal(w) && g.env.IsTerminal(g.env.Stderr)
}
