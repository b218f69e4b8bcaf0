package run

import (
	"os/exec"
	"syscall"
)

// detachedProcess is DETACHED_PROCESS: no console, so closing the one the
// command ran in does not end the process.
const detachedProcess = 0x00000008

// detached starts a process without a console, in a process group of its
// own, so it outlives the command that started it and no Ctrl-C of that
// console reaches it.
func detached() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{CreationFlags: syscall.CREATE_NEW_PROCESS_GROUP | detachedProcess, HideWindow: true}
}

// interrupt stops a command: Windows has no signal to send another
// process's console, so it is ended at once.
func interrupt(cmd *exec.Cmd) error { return cmd.Process.Kill() }
