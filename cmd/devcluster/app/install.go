package app

import (
	"context"
	"io"
	"strings"
	"time"

	"github.com/devcluster/devcluster/bootstrap"
	"github.com/devcluster/devcluster/config"
	"github.com/devcluster/devcluster/install"
	"github.com/devcluster/devcluster/internal/paths"
	"github.com/devcluster/devcluster/internal/ui"
)

// binary is the executable to run for a tool: its flag or environment
// variable, found as install.Executable says.
func (g *globals) binary(tool, flag, variable string) string {
	dir, err := paths.ToolsDir(paths.Env(g.env.LookupEnv))
	if err != nil {
		dir = ""
	}
	return install.Executable(g.env.Runner, tool, g.toolPath(flag, variable), dir)
}

// installFunc is bootstrap's Deps.Install for `up`: bootstrap.ToolInstaller
// with the question put on the terminal and the download's progress drawn
// by the printer.
func (g *globals) installFunc(cfg *config.Config, mode bootstrap.InstallMode) func(context.Context, string, error) (string, error) {
	dir, dirErr := paths.ToolsDir(paths.Env(g.env.LookupEnv))
	p := g.printer()
	return bootstrap.ToolInstaller{Mode: mode, CI: g.inCI(), Interactive: g.interactive(),
		Ask: func(ctx context.Context, q string) (bool, error) { return p.Ask(ctx, g.env.Stdin, q, true) },
		Dir: dir, DirErr: dirErr, LookupEnv: g.env.LookupEnv, Config: cfg, Report: p,
		Progress: func(label string) func(install.Progress) { return progressLines(p, label) },
	}.Install
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
