// Package run is the one seam through which devcluster runs external
// commands (minikube, kind, docker). Library code receives a Runner; tests
// inject a recording fake (see package runtest) and assert the exact argv.
//
// Every failed command is reported as a *Error that carries the command line,
// the exit code and the captured output, so the message shown to the user can
// say what was run and what it printed.
package run

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"time"
)

// Stream names the output stream a line came from.
type Stream int

const (
	// Stdout is the command's standard output.
	Stdout Stream = iota
	// Stderr is the command's standard error.
	Stderr
)

// Cmd describes one command to run.
type Cmd struct {
	// Name is the program; it is looked up on PATH when it has no slash.
	Name string
	// Args are the arguments after the program name.
	Args []string
	// Env, when non-nil, is added to the runner's environment.
	Env []string
	// Stdin, when non-nil, is the command's standard input.
	Stdin io.Reader
	// OnLine, when non-nil, is called for every complete output line as it
	// arrives, so long commands can report progress. Output is captured
	// whether or not OnLine is set.
	OnLine func(s Stream, line string)
}

// Argv returns the program name followed by its arguments.
func (c Cmd) Argv() []string { return append([]string{c.Name}, c.Args...) }

// Result is what a finished command produced.
type Result struct {
	Stdout   []byte
	Stderr   []byte
	ExitCode int
}

// Runner runs commands. Run returns the Result even when the command fails,
// together with a *Error; a command that could not be started at all (for
// example because the binary is missing) yields an error that wraps
// exec.ErrNotFound or the os error, and an ExitCode of -1.
type Runner interface {
	Run(ctx context.Context, cmd Cmd) (Result, error)
}

// Error is a failed command: it names the command line, its exit code and
// what it printed.
type Error struct {
	Argv     []string
	ExitCode int
	Stdout   []byte
	Stderr   []byte
	Err      error
}

func (e *Error) Error() string {
	if e.ExitCode >= 0 && e.Err != nil && isExit(e.Err) {
		return fmt.Sprintf("command %q failed with exit code %d", Quote(e.Argv), e.ExitCode)
	}
	return fmt.Sprintf("command %q failed: %v", Quote(e.Argv), e.Err)
}

// Unwrap returns the underlying error (an *exec.ExitError, exec.ErrNotFound,
// a context error, ...).
func (e *Error) Unwrap() error { return e.Err }

// Output returns the combined output: stderr after stdout, trimmed.
func (e *Error) Output() string {
	var b strings.Builder
	b.Write(bytes.TrimSpace(e.Stdout))
	if s := bytes.TrimSpace(e.Stderr); len(s) > 0 {
		if b.Len() > 0 {
			b.WriteByte('\n')
		}
		b.Write(s)
	}
	return b.String()
}

func isExit(err error) bool {
	var ee *exec.ExitError
	return errors.As(err, &ee)
}

// ExitCode returns the exit code carried by err, or -1 if err is not a
// command that ran and exited.
func ExitCode(err error) int {
	var re *Error
	if errors.As(err, &re) {
		return re.ExitCode
	}
	return -1
}

// IsNotFound reports whether err says the program was not found.
func IsNotFound(err error) bool {
	return errors.Is(err, exec.ErrNotFound) || errors.Is(err, os.ErrNotExist)
}

// Quote renders argv as a shell command line for messages, with the values
// of secret-looking flags redacted (see Redact).
func Quote(argv []string) string { return ShellJoin(Redact(argv)) }

// ShellQuote quotes s as one word for a POSIX shell: unchanged when it holds
// only characters no shell treats specially, else in single quotes (a
// single quote inside becomes '\”). It is the one quoting function
// devcluster uses for anything a shell will read.
func ShellQuote(s string) string {
	if s != "" && strings.Trim(s, shellSafe) == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

const shellSafe = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./:=@%+,"

// ShellJoin quotes every word of argv with ShellQuote and joins them with
// spaces: a shell that reads the result sees exactly argv.
func ShellJoin(argv []string) string {
	parts := make([]string, len(argv))
	for i, a := range argv {
		parts[i] = ShellQuote(a)
	}
	return strings.Join(parts, " ")
}

// secretWord matches flag and variable names whose values are credentials.
var secretWord = regexp.MustCompile(`(?i)(pass(word|wd)?|secret|token|credential|api[-_]?key|private[-_]?key|auth)`)

// userinfo matches the password of a URL (scheme://user:password@host).
var userinfo = regexp.MustCompile(`(://[^/:@\s]*:)[^@/\s]+@`)

// Redacted replaces a secret value in messages.
const Redacted = "REDACTED"

// Redact returns a copy of argv for messages, with the values of flags that
// look like credentials replaced (--token=x, --password x, and NAME=value
// pairs such as --docker-env=AWS_SECRET_ACCESS_KEY=x), and passwords in
// URLs.
func Redact(argv []string) []string {
	out := make([]string, len(argv))
	for i, a := range argv {
		out[i] = userinfo.ReplaceAllString(a, "${1}"+Redacted+"@")
		if !strings.HasPrefix(a, "-") {
			if i > 0 && isSecretFlag(argv[i-1]) && !strings.Contains(argv[i-1], "=") {
				out[i] = Redacted
			}
			continue
		}
		name, val, ok := strings.Cut(a, "=")
		if !ok {
			continue
		}
		if secretWord.MatchString(name) {
			out[i] = name + "=" + Redacted
			continue
		}
		// --docker-env=NAME=value, --extra-config=comp.key=value
		if inner, _, ok := strings.Cut(val, "="); ok && secretWord.MatchString(inner) {
			out[i] = name + "=" + inner + "=" + Redacted
		}
	}
	return out
}

func isSecretFlag(a string) bool {
	return strings.HasPrefix(a, "-") && secretWord.MatchString(strings.TrimLeft(a, "-"))
}

// Local runs commands on this machine.
type Local struct {
	// Env is the base environment; nil means the process environment.
	Env []string
	// WaitDelay is how long a cancelled command gets between SIGINT and
	// SIGKILL, and how long Run waits for its output afterwards; zero
	// means DefaultWaitDelay.
	WaitDelay time.Duration
}

// DefaultWaitDelay is Local's default grace after cancellation.
const DefaultWaitDelay = 3 * time.Second

func (l *Local) waitDelay() time.Duration {
	if l.WaitDelay > 0 {
		return l.WaitDelay
	}
	return DefaultWaitDelay
}

var _ Runner = (*Local)(nil)

// Run implements Runner.
func (l *Local) Run(ctx context.Context, c Cmd) (Result, error) {
	path, err := exec.LookPath(c.Name)
	if err != nil {
		return Result{ExitCode: -1}, &Error{Argv: c.Argv(), ExitCode: -1, Err: err}
	}
	cmd := exec.CommandContext(ctx, path, c.Args...)
	// On cancellation (Ctrl-C), ask the command to stop as a terminal
	// would (SIGINT; on Windows it is ended); it is killed if it has not exited after WaitDelay,
	// and Run stops waiting for output pipes that children it left behind
	// still hold open.
	cmd.Cancel = func() error { return interrupt(cmd) }
	cmd.WaitDelay = l.waitDelay()
	env := l.Env
	if env == nil {
		env = os.Environ()
	}
	cmd.Env = append(append([]string(nil), env...), c.Env...)
	cmd.Stdin = c.Stdin
	var stdout, stderr bytes.Buffer
	var lw []*lineWriter
	if c.OnLine != nil {
		var mu sync.Mutex
		o := &lineWriter{stream: Stdout, fn: c.OnLine, mu: &mu}
		e := &lineWriter{stream: Stderr, fn: c.OnLine, mu: &mu}
		lw = append(lw, o, e)
		cmd.Stdout = io.MultiWriter(&stdout, o)
		cmd.Stderr = io.MultiWriter(&stderr, e)
	} else {
		cmd.Stdout = &stdout
		cmd.Stderr = &stderr
	}
	err = cmd.Run()
	for _, w := range lw {
		w.flush()
	}
	res := Result{Stdout: stdout.Bytes(), Stderr: stderr.Bytes(), ExitCode: 0}
	if err != nil {
		res.ExitCode = -1
		if ee := (*exec.ExitError)(nil); errors.As(err, &ee) {
			res.ExitCode = ee.ExitCode()
		}
		if ctx.Err() != nil {
			err = fmt.Errorf("%w (%v)", ctx.Err(), err)
		}
		return res, &Error{Argv: c.Argv(), ExitCode: res.ExitCode, Stdout: res.Stdout, Stderr: res.Stderr, Err: err}
	}
	return res, nil
}

// lineWriter splits a stream into lines for Cmd.OnLine.
type lineWriter struct {
	stream Stream
	fn     func(Stream, string)
	mu     *sync.Mutex
	buf    []byte
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		w.emit(string(bytes.TrimRight(w.buf[:i], "\r")))
		w.buf = w.buf[i+1:]
	}
	return len(p), nil
}

func (w *lineWriter) flush() {
	if len(w.buf) > 0 {
		w.emit(string(w.buf))
		w.buf = nil
	}
}

func (w *lineWriter) emit(line string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.fn(w.stream, line)
}

// Lines splits output into non-empty trimmed lines.
func Lines(b []byte) []string {
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// Background is a process started by StartBackground.
type Background struct {
	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

// StartBackground starts c detached from this process (its own session,
// no terminal), its output appended to out, and returns at once. It is how
// devcluster starts its agent, which outlives the command that started it.
func StartBackground(c Cmd, out io.Writer) (*Background, error) {
	path, err := exec.LookPath(c.Name)
	if err != nil {
		return nil, &Error{Argv: c.Argv(), ExitCode: -1, Err: err}
	}
	cmd := exec.Command(path, c.Args...)
	cmd.Env = append(os.Environ(), c.Env...)
	cmd.Stdin = c.Stdin
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = detached()
	if err := cmd.Start(); err != nil {
		return nil, &Error{Argv: c.Argv(), ExitCode: -1, Err: err}
	}
	b := &Background{cmd: cmd, done: make(chan struct{})}
	go func() { b.err = cmd.Wait(); close(b.done) }()
	return b, nil
}

// PID is the process ID.
func (b *Background) PID() int { return b.cmd.Process.Pid }

// Exited is closed when the process has exited; Err then says how.
func (b *Background) Exited() <-chan struct{} { return b.done }

// Err is the process' exit status once Exited is closed.
func (b *Background) Err() error { return b.err }

// Kill stops the process at once.
func (b *Background) Kill() error { return b.cmd.Process.Kill() }

// LookPath finds a program as Run would.
func LookPath(name string) (string, error) { return exec.LookPath(name) }

// Which finds the program a runner would run for name: the runner's own
// LookPath when it has one (fakes answer for the programs they stand in
// for), else the PATH.
func Which(r Runner, name string) (string, error) {
	if lp, ok := r.(interface{ LookPath(string) (string, error) }); ok {
		return lp.LookPath(name)
	}
	return exec.LookPath(name)
}
