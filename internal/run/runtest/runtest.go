// Package runtest provides a recording fake run.Runner for unit tests: it
// answers each command from a handler and remembers every argv, so tests can
// assert exactly what devcluster would have executed.
package runtest

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"os/exec"
	"strconv"
	"strings"
	"sync"

	"github.com/devcluster/devcluster/internal/run"
)

// Reply is a canned answer to one command.
type Reply struct {
	Stdout   string
	Stderr   string
	ExitCode int
	// NotFound simulates a missing binary.
	NotFound bool
}

// Fake is a run.Runner that records calls and answers them with Handler.
type Fake struct {
	// Handler answers a command given its argv (program name first).
	Handler func(argv []string) Reply

	mu    sync.Mutex
	calls [][]string
}

var _ run.Runner = (*Fake)(nil)

// Run implements run.Runner.
func (f *Fake) Run(_ context.Context, c run.Cmd) (run.Result, error) {
	argv := c.Argv()
	f.mu.Lock()
	f.calls = append(f.calls, argv)
	f.mu.Unlock()
	r := Reply{}
	if f.Handler != nil {
		r = f.Handler(argv)
	}
	if r.NotFound {
		return run.Result{ExitCode: -1}, &run.Error{Argv: argv, ExitCode: -1,
			Err: &exec.Error{Name: c.Name, Err: exec.ErrNotFound}}
	}
	if c.OnLine != nil {
		for _, l := range strings.Split(strings.TrimRight(r.Stdout, "\n"), "\n") {
			if l != "" {
				c.OnLine(run.Stdout, l)
			}
		}
		for _, l := range strings.Split(strings.TrimRight(r.Stderr, "\n"), "\n") {
			if l != "" {
				c.OnLine(run.Stderr, l)
			}
		}
	}
	res := run.Result{Stdout: []byte(r.Stdout), Stderr: []byte(r.Stderr), ExitCode: r.ExitCode}
	if r.ExitCode != 0 {
		return res, &run.Error{Argv: argv, ExitCode: r.ExitCode, Stdout: res.Stdout, Stderr: res.Stderr,
			Err: errors.New("exit status " + strconv.Itoa(r.ExitCode))}
	}
	return res, nil
}

// Calls returns every argv run so far.
func (f *Fake) Calls() [][]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([][]string(nil), f.calls...)
}

// Tar is a tar archive of one file, as `docker cp CONTAINER:FILE -` writes
// it to standard output.
func Tar(name, content string) string {
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	_ = tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(content)), Typeflag: tar.TypeReg})
	_, _ = tw.Write([]byte(content))
	_ = tw.Close()
	return b.String()
}
