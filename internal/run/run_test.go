package run

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestLocalStreamsAndCaptures(t *testing.T) {
	t.Parallel()
	var lines []string
	res, err := (&Local{}).Run(context.Background(), Cmd{Name: "sh", Args: []string{"-c", "echo one; echo two >&2; printf three"},
		OnLine: func(s Stream, l string) {
			lines = append(lines, map[Stream]string{Stdout: "out:", Stderr: "err:"}[s]+l)
		}})
	if err != nil {
		t.Fatal(err)
	}
	if string(res.Stdout) != "one\nthree" || string(res.Stderr) != "two\n" {
		t.Errorf("captured %q / %q", res.Stdout, res.Stderr)
	}
	if strings.Join(lines, ",") != "out:one,err:two,out:three" && strings.Join(lines, ",") != "err:two,out:one,out:three" {
		t.Errorf("lines = %q", lines)
	}
}

func TestLocalFailureCarriesArgvExitCodeAndOutput(t *testing.T) {
	t.Parallel()
	_, err := (&Local{}).Run(context.Background(), Cmd{Name: "sh", Args: []string{"-c", "echo failing; exit 7"}})
	var re *Error
	if !errors.As(err, &re) {
		t.Fatalf("err = %v, want *Error", err)
	}
	if re.ExitCode != 7 || ExitCode(err) != 7 || re.Output() != "failing" {
		t.Errorf("exit %d, output %q", re.ExitCode, re.Output())
	}
	if err.Error() != `command "sh -c 'echo failing; exit 7'" failed with exit code 7` {
		t.Errorf("message = %q", err.Error())
	}
}

func TestLocalMissingBinary(t *testing.T) {
	t.Parallel()
	_, err := (&Local{}).Run(context.Background(), Cmd{Name: "devcluster-no-such-binary"})
	if !IsNotFound(err) || ExitCode(err) != -1 {
		t.Errorf("err = %v, want not found", err)
	}
}

func TestShellQuoteRoundTripsThroughARealShell(t *testing.T) {
	t.Parallel()
	words := []string{"", "plain", "a b", "it's", `"dq"`, "$HOME", "`id`", "a;b", "x>y", "new\nline", `back\slash`,
		"*", "~", "-n", "192.168.49.1:5001", "/etc/containerd/certs.d/localhost:5001/hosts.toml", "'", "''", "tab\there", "!bang", "{a,b}"}
	script := "for a in " + ShellJoin(words) + `; do printf '%s\0' "$a"; done`
	res, err := (&Local{}).Run(context.Background(), Cmd{Name: "sh", Args: []string{"-c", script}})
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Split(strings.TrimSuffix(string(res.Stdout), "\x00"), "\x00")
	if len(got) != len(words) {
		t.Fatalf("shell saw %d words, want %d: %q", len(got), len(words), got)
	}
	for i := range words {
		if got[i] != words[i] {
			t.Errorf("word %d: shell saw %q, want %q", i, got[i], words[i])
		}
	}
	if ShellQuote("192.168.49.1:5001") != "192.168.49.1:5001" || ShellQuote("a b") != "'a b'" {
		t.Errorf("safe words must stay unquoted, others quoted: %s %s", ShellQuote("192.168.49.1:5001"), ShellQuote("a b"))
	}
}

func TestRedactHidesCredentialsInMessages(t *testing.T) {
	t.Parallel()
	argv := []string{"minikube", "start", "-p", "dev", "--cpus=2", "--docker-env=AWS_SECRET_ACCESS_KEY=abc123",
		"--registry-password", "hunter2", "--github-token=ghp_x", "--addons=metrics-server",
		"--registry-mirror=https://user:s3cret@mirror.example", "--extra-config=apiserver.oidc-client-secret=zz"}
	got := Quote(argv)
	for _, secret := range []string{"abc123", "hunter2", "ghp_x", "s3cret", "zz"} {
		if strings.Contains(got, secret) {
			t.Errorf("%q leaks %q", got, secret)
		}
	}
	for _, kept := range []string{"--cpus=2", "--addons=metrics-server", "--docker-env=AWS_SECRET_ACCESS_KEY=REDACTED",
		"--registry-password REDACTED", "https://user:REDACTED@mirror.example"} {
		if !strings.Contains(got, kept) {
			t.Errorf("%q lacks %q", got, kept)
		}
	}
	err := &Error{Argv: argv, ExitCode: -1, Err: errors.New("boom")}
	if strings.Contains(err.Error(), "hunter2") {
		t.Errorf("error message leaks a secret: %s", err)
	}
}

func TestCancelInterruptsAndDoesNotWaitForChildrenHoldingTheOutput(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	// The shell traps SIGINT and exits; a background child keeps stdout
	// open for 30 s, as minikube's children can.
	script := `trap 'echo got-int; exit 130' INT; sleep 30 & echo started; wait`
	done := make(chan struct{})
	var res Result
	var err error
	start := time.Now()
	go func() {
		res, err = (&Local{WaitDelay: 500 * time.Millisecond}).Run(ctx, Cmd{Name: "sh", Args: []string{"-c", script},
			OnLine: func(_ Stream, l string) {
				if l == "started" {
					cancel()
				}
			}})
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return within 10 s of cancellation")
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if !strings.Contains(string(res.Stdout), "got-int") {
		t.Errorf("the command did not receive SIGINT first: stdout %q", res.Stdout)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Run took %s after cancellation", d)
	}
}
