//go:build unix

package run

import (
	"os"
	"os/exec"
	"syscall"
)

// detached starts a process detached from the terminal (setsid), so it
// outlives the command that started it and no terminal signal reaches it.
func detached() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setsid: true} }

// interrupt asks a command to stop as a terminal's Ctrl-C would.
func interrupt(cmd *exec.Cmd) error { return cmd.Process.Signal(os.Interrupt) }
