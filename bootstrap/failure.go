package bootstrap

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/devcluster/devcluster/config"
	"github.com/devcluster/devcluster/internal/problem"
	"github.com/devcluster/devcluster/internal/run"
	"github.com/devcluster/devcluster/internal/ui"
	"github.com/devcluster/devcluster/kube"
)

// Aftermath is what `up` and `deploy` leave for the person or the CI job
// once they end: a Markdown summary of the run handed to the CI system
// (GitHub's job summary, a Buildkite annotation), and after a failure worth
// looking into a diagnostics bundle. Neither ever changes the command's
// outcome: a problem with them is a warning.
type Aftermath struct {
	// CI is the CI system whose conventions apply (ui.DetectCI); ui.NoCI
	// publishes no summary.
	CI ui.CI
	// LookupEnv reads $GITHUB_STEP_SUMMARY.
	LookupEnv ui.Env
	// Runner runs buildkite-agent.
	Runner run.Runner
	// Dir is the working directory: a relative DiagnosticsDir is in it,
	// and messages name the bundle relative to it.
	Dir string
	// DiagnosticsDir is where a failure's bundle is written
	// (--diagnostics-dir).
	DiagnosticsDir string
	// Steps are the steps reported so far (ui.Printer.Steps), for the
	// summary's table; EndSteps ends the one in progress (ui.Printer.Close)
	// once the command is over. Either may be nil.
	Steps    func() []ui.StepRecord
	EndSteps func()
}

// Up runs Up, then publishes its summary and, after a failure, writes the
// diagnostics bundle of the workloads that are not ready (every workload
// when none is known). --install-only leaves no aftermath.
func (a Aftermath) Up(ctx context.Context, d Deps, cfg *config.Config, o UpOptions) (*Result, error) {
	res, err := Up(ctx, d, cfg, o)
	a.endSteps()
	if o.InstallOnly {
		return res, err
	}
	summary := upSummary(res, err, a.steps())
	a.publish(ctx, d.Report, err == nil, summary)
	a.diagnose(ctx, d, cfg, err, DiagnoseOptions{Workloads: failingWorkloads(res), Summary: summary, Result: res})
	return res, err
}

// failingWorkloads are the workloads of r that are not ready; nil for
// every workload.
func failingWorkloads(r *Result) []kube.Workload {
	if r == nil {
		return nil
	}
	var failing []kube.Workload
	for _, w := range r.Workloads {
		if !w.Ready {
			failing = append(failing, w.Workload)
		}
	}
	return failing
}

// Deploy runs Deploy, then publishes its summary. The diagnostics bundle
// of a failed rollout is collected before any rollback, while the failing
// pods exist; that of a deploy that failed elsewhere, once it ends. d's
// provider is the one diagnostics ask for its logs.
func (a Aftermath) Deploy(ctx context.Context, d Deps, o DeployOptions) (*DeployResult, error) {
	diagnosed := false
	diagnose := func(ctx context.Context, res *DeployResult, err error) {
		var ws []kube.Workload
		for _, w := range res.Workloads {
			ws = append(ws, w.Workload)
		}
		a.diagnose(ctx, d, nil, err, DiagnoseOptions{Context: res.Context, Workloads: ws, Summary: deploySummary(res, err, a.steps()), Result: res})
		diagnosed = true
	}
	o.OnFailure = diagnose
	res, err := Deploy(ctx, d, o)
	a.endSteps()
	a.publish(ctx, d.Report, err == nil, deploySummary(res, err, a.steps()))
	if res != nil && err != nil && !diagnosed {
		diagnose(ctx, res, err)
	}
	return res, err
}

func (a Aftermath) steps() []ui.StepRecord {
	if a.Steps == nil {
		return nil
	}
	return a.Steps()
}

func (a Aftermath) endSteps() {
	if a.EndSteps != nil {
		a.EndSteps()
	}
}

// maxSummary keeps a job summary well under GitHub's 1 MiB per step and
// Buildkite's 1 MiB per annotation.
const maxSummary = 512 << 10

// publish hands a Markdown summary of the command to the CI system:
// appended to $GITHUB_STEP_SUMMARY on GitHub Actions, a `buildkite-agent
// annotate --context devcluster` on Buildkite when the agent is on PATH.
func (a Aftermath) publish(ctx context.Context, r Reporter, ok bool, md string) {
	if md == "" {
		return
	}
	if len(md) > maxSummary {
		// At a line's end, so no character is split.
		cut := strings.LastIndexByte(md[:maxSummary], '\n')
		md = md[:cut+1] + "\n… (cut at 512 KiB)\n"
	}
	switch a.CI {
	case ui.GitHub:
		path, _ := a.LookupEnv("GITHUB_STEP_SUMMARY")
		if path == "" {
			return
		}
		f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err == nil {
			_, err = f.WriteString(md + "\n")
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
		if err != nil {
			r.Warn("could not write the job summary: " + err.Error())
		}
	case ui.Buildkite:
		if _, err := run.Which(a.Runner, "buildkite-agent"); err != nil {
			return
		}
		style := "success"
		if !ok {
			style = "error"
		}
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if _, err := a.Runner.Run(actx, run.Cmd{Name: "buildkite-agent",
			Args: []string{"annotate", "--context", "devcluster", "--style", style}, Stdin: strings.NewReader(md)}); err != nil {
			r.Warn("could not annotate the build: " + err.Error())
		}
	}
}

// diagnose writes the bundle after a failure and says where it is;
// "upload it as a build artifact" only in CI. It writes nothing when there
// is nothing to diagnose: after bad input, drift, a missing prerequisite
// (exit 5: no minikube, no Docker, an install declined) or an interrupt,
// and when there is no cluster.
func (a Aftermath) diagnose(ctx context.Context, d Deps, cfg *config.Config, err error, o DiagnoseOptions) {
	if err == nil || errors.Is(err, context.Canceled) {
		return
	}
	switch problem.KindOf(err) {
	case problem.Usage, problem.Config, problem.Drift, problem.Missing:
		return
	}
	if strings.TrimSpace(a.DiagnosticsDir) == "" {
		d.Report.Warn("no diagnostics written: --diagnostics-dir is empty")
		return
	}
	o.Dir = a.DiagnosticsDir
	if !filepath.IsAbs(o.Dir) {
		o.Dir = filepath.Join(a.Dir, o.Dir)
	}
	res, derr := Diagnose(ctx, d, cfg, o)
	switch {
	case errors.Is(derr, ErrNothingToDiagnose):
		return
	case derr != nil:
		d.Report.Warn("could not write diagnostics: " + derr.Error())
		return
	}
	msg := fmt.Sprintf("diagnostics written to %s (%d files)", config.DisplayPath(a.Dir, res.Dir), len(res.Files))
	if a.CI != ui.NoCI {
		msg += " — upload it as a build artifact"
	}
	d.Report.Warn(msg)
}
