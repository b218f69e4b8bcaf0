package proc

import (
	"os"
	"os/exec"
	"runtime"
	"slices"
	"testing"
	"time"
)

// helperEnv makes the test binary a process that waits to be stopped.
const helperEnv = "DEVCLUSTER_PROC_TEST_SLEEP"

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) == "1" {
		time.Sleep(time.Minute)
		os.Exit(3)
	}
	os.Exit(m.Run())
}

// sleeper starts this test binary as a process that sleeps for a minute.
func sleeper(t *testing.T) (*exec.Cmd, <-chan struct{}) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$", "marker-argument")
	cmd.Env = append(os.Environ(), helperEnv+"=1")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() { _ = cmd.Process.Kill(); <-exited })
	return cmd, exited
}

func TestExists(t *testing.T) {
	if !Exists(os.Getpid()) {
		t.Error("Exists(own pid) = false")
	}
	for _, pid := range []int{0, -1} {
		if Exists(pid) {
			t.Errorf("Exists(%d) = true", pid)
		}
	}
	cmd, exited := sleeper(t)
	if !Exists(cmd.Process.Pid) {
		t.Error("Exists(running child) = false")
	}
	_ = cmd.Process.Kill()
	<-exited // reaped: the PID is free
	if Exists(cmd.Process.Pid) {
		t.Error("Exists(reaped child) = true")
	}
}

func TestTerminateStopsWithinGrace(t *testing.T) {
	cmd, exited := sleeper(t)
	start := time.Now()
	done := make(chan struct{})
	go func() { Terminate(cmd.Process.Pid, 20*time.Second); close(done) }()
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		t.Fatal("the process did not exit on Terminate")
	}
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Terminate did not return once the process had exited")
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("Terminate took %v", d)
	}
	// A PID that is gone: nothing to do, no error, no wait.
	start = time.Now()
	Terminate(cmd.Process.Pid, 20*time.Second)
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Terminate of a gone process took %v", d)
	}
}

func TestCommandLine(t *testing.T) {
	if runtime.GOOS != "linux" && runtime.GOOS != "darwin" {
		if _, err := CommandLine(os.Getpid()); err == nil {
			t.Error("CommandLine succeeded where it is not implemented")
		}
		return
	}
	cmd, _ := sleeper(t)
	// The child may not have exec'd yet: wait for its own arguments.
	deadline := time.Now().Add(5 * time.Second)
	for {
		args, err := CommandLine(cmd.Process.Pid)
		if err == nil && slices.Contains(args, "marker-argument") {
			if args[len(args)-1] != "marker-argument" || args[len(args)-2] != "-test.run=^$" {
				t.Errorf("CommandLine = %q", args)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("CommandLine = %q, %v", args, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
