package bootstrap

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/devcluster/devcluster/internal/problem"
	"github.com/devcluster/devcluster/internal/run"
	"github.com/devcluster/devcluster/internal/ui"
	"github.com/devcluster/devcluster/kube"
)

// annotator is a runner with buildkite-agent on its PATH that keeps what
// it was asked to annotate.
type annotator struct {
	argv  []string
	stdin string
	fail  error
}

func (a *annotator) LookPath(name string) (string, error) {
	if name == "buildkite-agent" {
		return "/usr/bin/buildkite-agent", nil
	}
	return "", errors.New("not found")
}

func (a *annotator) Run(_ context.Context, c run.Cmd) (run.Result, error) {
	a.argv = c.Argv()
	b, _ := io.ReadAll(c.Stdin)
	a.stdin = string(b)
	return run.Result{}, a.fail
}

func envOf(m map[string]string) ui.Env {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

// The summary goes to the CI system of the job: appended to GitHub's step
// summary file, cut at a line's end past 512 KiB; a Buildkite annotation
// styled by the outcome; nothing elsewhere. A failure to publish is a
// warning, never the command's error.
func TestAftermathPublishesTheSummary(t *testing.T) {
	file := filepath.Join(t.TempDir(), "summary.md")
	rec := &recorder{}
	gh := Aftermath{CI: ui.GitHub, LookupEnv: envOf(map[string]string{"GITHUB_STEP_SUMMARY": file})}
	gh.publish(t.Context(), rec, true, "### first\n")
	long := strings.Repeat("a line of the summary\n", 30000)
	gh.publish(t.Context(), rec, false, long)
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	if !strings.HasPrefix(s, "### first\n\n") || !strings.HasSuffix(s, "a line of the summary\n\n… (cut at 512 KiB)\n\n") || len(s) > maxSummary+100 {
		t.Errorf("step summary: %d bytes, starts %q, ends %q", len(s), s[:min(len(s), 20)], s[max(0, len(s)-40):])
	}
	if len(rec.lines) != 0 {
		t.Errorf("warnings: %q", rec.lines)
	}
	gh.LookupEnv = envOf(map[string]string{"GITHUB_STEP_SUMMARY": filepath.Join(file, "not-a-dir", "x.md")})
	gh.publish(t.Context(), rec, true, "x")
	if len(rec.lines) != 1 || !strings.HasPrefix(rec.lines[0], "warn could not write the job summary: ") {
		t.Errorf("unwritable summary: %q", rec.lines)
	}

	bk := &annotator{}
	Aftermath{CI: ui.Buildkite, Runner: bk}.publish(t.Context(), rec, false, "### failed\n")
	if strings.Join(bk.argv, " ") != "buildkite-agent annotate --context devcluster --style error" || bk.stdin != "### failed\n" {
		t.Errorf("annotation: %q with %q", bk.argv, bk.stdin)
	}
	bk.fail = errors.New("agent gone")
	Aftermath{CI: ui.Buildkite, Runner: bk}.publish(t.Context(), rec, true, "### ok\n")
	if !strings.Contains(bk.argv[len(bk.argv)-1], "success") || rec.lines[len(rec.lines)-1] != "warn could not annotate the build: agent gone" {
		t.Errorf("failed annotation: %q, warnings %q", bk.argv, rec.lines)
	}
	none := &annotator{}
	Aftermath{CI: ui.NoCI, Runner: none}.publish(t.Context(), rec, true, "### ok\n")
	if none.argv != nil {
		t.Errorf("outside CI: ran %q", none.argv)
	}
}

// Diagnostics follow a failure worth looking into only: not bad input,
// drift, a missing prerequisite or an interrupt; an empty
// --diagnostics-dir is a warning.
func TestAftermathDiagnosesOnlyWhatIsWorthIt(t *testing.T) {
	rec := &recorder{}
	dir := t.TempDir()
	a := Aftermath{Dir: dir, DiagnosticsDir: "bundle"}
	for _, err := range []error{nil, context.Canceled, problem.New(problem.Usage, "", errors.New("bad flag"), ""),
		problem.New(problem.Config, "", errors.New("bad file"), ""), problem.New(problem.Drift, "", errors.New("cpus differ"), ""),
		problem.New(problem.Missing, "", errors.New("no minikube"), "")} {
		// Deps are empty: Diagnose would fail on them, so a call shows.
		a.diagnose(t.Context(), Deps{Report: rec}, nil, err, DiagnoseOptions{})
	}
	if len(rec.lines) != 0 {
		t.Errorf("diagnosed what needs no diagnostics: %q", rec.lines)
	}
	if _, err := os.Stat(filepath.Join(dir, "bundle")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a bundle was written: %v", err)
	}
	a.DiagnosticsDir = " "
	a.diagnose(t.Context(), Deps{Report: rec}, nil, errors.New("rollout failed"), DiagnoseOptions{})
	if len(rec.lines) != 1 || rec.lines[0] != "warn no diagnostics written: --diagnostics-dir is empty" {
		t.Errorf("empty --diagnostics-dir: %q", rec.lines)
	}
}

func TestFailingWorkloads(t *testing.T) {
	if failingWorkloads(nil) != nil || failingWorkloads(&Result{}) != nil {
		t.Error("no result or no workloads: want nil (every workload)")
	}
	web, db := kube.Workload{Kind: "Deployment", Namespace: "apps", Name: "web"}, kube.Workload{Kind: "StatefulSet", Namespace: "apps", Name: "db"}
	got := failingWorkloads(&Result{Workloads: []kube.WorkloadState{{Workload: web, Ready: true}, {Workload: db}}})
	if len(got) != 1 || got[0] != db {
		t.Errorf("failing workloads %v, want only %v", got, db)
	}
}
