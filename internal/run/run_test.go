package run

import (
	"context"
	"errors"
	"strings"
	"testing"
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
