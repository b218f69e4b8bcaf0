package app

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/devcluster/devcluster/internal/problem"
	"github.com/devcluster/devcluster/internal/run"
)

// ExitCode maps an error returned by Run to the process exit code.
func ExitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	if errors.Is(err, context.Canceled) {
		return ExitInterrupted
	}
	switch problem.KindOf(err) {
	case problem.Usage, problem.Config:
		return ExitUsage
	case problem.NotRunning:
		return ExitNotRunning
	case problem.Drift:
		return ExitDrift
	case problem.Missing:
		return ExitMissing
	case problem.Timeout:
		return ExitTimeout
	}
	return ExitFailed
}

// errVersionShown ends a command line with --version once the version is
// printed: no command runs.
var errVersionShown = errors.New("version shown")

// run runs the app made for g.
func (g *globals) run(ctx context.Context, a *cli.App, args []string) error {
	args, err := orderArgs(a, args)
	if err == nil {
		err = a.RunContext(ctx, args)
	}
	if errors.Is(err, errVersionShown) {
		return nil
	}
	if err == nil && g.notFound != "" {
		err = problem.New(problem.Usage, "", fmt.Errorf("unknown command %q", g.notFound), "run `devcluster --help` for the list of commands")
	}
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) {
		// Ctrl-C or SIGTERM: say so, and nothing else — the advice of the
		// step that was cut short does not apply — unless the command says
		// what the interrupt left behind (deploy's writes).
		msg, fix := interruptMessage(err)
		g.printer().ErrorBlock(msg, "", fix)
		return err
	}
	if problem.KindOf(err) == problem.Failed && isUsageError(err) {
		err = problem.New(problem.Usage, "", err, "run `devcluster --help` or `devcluster <command> --help`")
	}
	g.printer().ErrorBlock(err.Error(), errorDetails(err), problem.FixOf(err))
	return err
}

// interruptMessage is what an interrupted command says: "interrupted", or
// the problem that tells what the interrupt left behind, with its advice.
func interruptMessage(err error) (msg, fix string) {
	if left := problem.LeftOf(err); left != nil {
		return left.Error(), problem.FixOf(left)
	}
	return "interrupted", ""
}

// isUsageError recognises urfave/cli's own flag parsing errors.
func isUsageError(err error) bool {
	s := err.Error()
	for _, p := range []string{"flag provided but not defined", "invalid value", "flag needs an argument", "Required flag", "Incorrect Usage"} {
		if strings.Contains(s, p) {
			return true
		}
	}
	return false
}

// errorDetails shows the failed command and the tail of its output.
func errorDetails(err error) string {
	var re *run.Error
	if !errors.As(err, &re) || run.IsNotFound(err) {
		return ""
	}
	out := re.Output()
	if out == "" {
		return ""
	}
	lines := strings.Split(out, "\n")
	const keep = 25
	if len(lines) > keep {
		lines = append([]string{fmt.Sprintf("… (%d earlier lines)", len(lines)-keep)}, lines[len(lines)-keep:]...)
	}
	return "output of " + run.Quote(re.Argv) + ":\n" + strings.Join(lines, "\n")
}
