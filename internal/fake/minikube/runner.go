package minikube

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"strings"
	"sync"

	"github.com/devcluster/devcluster/internal/run"
)

// Runner is a run.Runner that answers "minikube" commands with the stand-in
// in-process, for unit tests that want minikube's real contract without
// building an executable. It records every argv. Other programs are "not
// found".
type Runner struct {
	// Env is the stand-in's environment (MINIKUBE_HOME, KUBECONFIG, ...).
	Env map[string]string

	mu    sync.Mutex
	calls [][]string
}

var _ run.Runner = (*Runner)(nil)

// Run implements run.Runner.
func (r *Runner) Run(ctx context.Context, c run.Cmd) (run.Result, error) {
	argv := c.Argv()
	r.mu.Lock()
	r.calls = append(r.calls, argv)
	r.mu.Unlock()
	if c.Name != "minikube" {
		return run.Result{ExitCode: -1}, &run.Error{Argv: argv, ExitCode: -1, Err: &exec.Error{Name: c.Name, Err: exec.ErrNotFound}}
	}
	// The command's own variables are added to the runner's, as
	// run.Local adds them to the process environment.
	env := maps.Clone(r.Env)
	if env == nil {
		env = map[string]string{}
	}
	for _, kv := range c.Env {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	var stdout, stderr bytes.Buffer
	code := Main(ctx, Env{Args: c.Args, Stdout: &stdout, Stderr: &stderr, Stdin: c.Stdin, LookupEnv: func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	}})
	if c.OnLine != nil {
		for _, l := range run.Lines(stdout.Bytes()) {
			c.OnLine(run.Stdout, l)
		}
		for _, l := range run.Lines(stderr.Bytes()) {
			c.OnLine(run.Stderr, l)
		}
	}
	res := run.Result{Stdout: stdout.Bytes(), Stderr: stderr.Bytes(), ExitCode: code}
	if code != 0 {
		return res, &run.Error{Argv: argv, ExitCode: code, Stdout: res.Stdout, Stderr: res.Stderr, Err: fmt.Errorf("exit status %d", code)}
	}
	return res, nil
}

// LookPath answers for "minikube" with this test executable, a real file
// whose size and modification time stay put for the run (the version cache
// keys on them).
func (r *Runner) LookPath(name string) (string, error) {
	if name != "minikube" {
		return "", &exec.Error{Name: name, Err: exec.ErrNotFound}
	}
	return os.Executable()
}

// Calls returns every argv run so far.
func (r *Runner) Calls() [][]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([][]string(nil), r.calls...)
}

// Reset forgets the recorded calls.
func (r *Runner) Reset() {
	r.mu.Lock()
	r.calls = nil
	r.mu.Unlock()
}
