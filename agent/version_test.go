package agent

import (
	"context"
	"encoding/binary"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/devcluster/devcluster/internal/proc"
)

// The test binary stands in for devcluster: run as `agent.test
// agent-for-test RELEASE agent --name … --state-dir … --listen …` it is
// the agent of that release, as `devcluster agent …` is.
func TestMain(m *testing.M) {
	if len(os.Args) > 2 && os.Args[1] == "agent-for-test" {
		os.Exit(runTestAgent(os.Args[2], os.Args[3:]))
	}
	os.Exit(m.Run())
}

func runTestAgent(release string, args []string) int {
	var s Spec
	for i := 0; i+1 < len(args); i++ {
		switch args[i] {
		case "--name":
			s.Name = args[i+1]
		case "--state-dir":
			s.StateDir = args[i+1]
		case "--listen":
			s.Listen = append(s.Listen, args[i+1])
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	exe, _ := os.Executable()
	if err := Run(ctx, s, os.Stderr, BuildVersion(release, exe), nil); err != nil {
		return 1
	}
	return 0
}

// An agent started by another devcluster release (an upgrade) is replaced,
// not reused: its version is part of its identity.
func TestAnAgentOfAnotherVersionIsReplaced(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "state")
	spec := Spec{Name: "dev", StateDir: dir, Listen: []string{"127.0.0.1:0"}}
	manager := func(release string) *Process {
		return &Process{Executable: exe, Args: []string{"agent-for-test", release}, Release: release}
	}
	t.Cleanup(func() { _, _ = manager("").Stop(context.Background(), dir) })

	v1, err := manager("v0.1.0").Ensure(context.Background(), spec)
	if err != nil || v1.Action != "started" {
		t.Fatalf("first start: %+v %v", v1, err)
	}
	again, err := manager("v0.1.0").Ensure(context.Background(), spec)
	if err != nil || again.Action != "reused" || again.PID != v1.PID {
		t.Fatalf("the same release: %+v %v, want the agent (pid %d) reused", again, err, v1.PID)
	}
	v2, err := manager("v0.2.0").Ensure(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	if v2.Action != "replaced" || v2.PID == v1.PID {
		t.Fatalf("after an upgrade: %+v, want the agent of v0.1.0 (pid %d) replaced", v2, v1.PID)
	}
	if !strings.Contains(v2.Detail, "v0.1.0") || !strings.Contains(v2.Detail, "v0.2.0") {
		t.Errorf("the replacement does not say why: %q", v2.Detail)
	}
	if proc.Exists(v1.PID) {
		t.Errorf("the old agent (pid %d) still runs", v1.PID)
	}
	st, err := manager("v0.2.0").Status(context.Background(), dir)
	if err != nil || !st.Running || !strings.HasPrefix(st.Version, "v0.2.0+") {
		t.Errorf("status: %+v %v", st, err)
	}
}

// A build's identity follows the executable's content: Go's build ID for a
// Go binary (the same for a copy, another for another build), its size and
// modification time for anything else.
func TestBuildVersion(t *testing.T) {
	t.Parallel()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if goBuildID(exe) == "" {
		t.Fatalf("no Go build ID read from %s", exe)
	}
	self := BuildVersion("dev", exe)
	if !strings.HasPrefix(self, "dev+") || len(self) != len("dev+")+12 || BuildVersion("dev", exe) != self {
		t.Errorf("BuildVersion = %q (again %q)", self, BuildVersion("dev", exe))
	}
	if BuildVersion("v0.2.0", exe) == BuildVersion("v0.1.0", exe) {
		t.Errorf("two releases share an identity")
	}
	dir := t.TempDir()
	cp := filepath.Join(dir, "devcluster")
	b, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cp, b, 0o755); err != nil {
		t.Fatal(err)
	}
	if BuildVersion("dev", cp) != self {
		t.Errorf("a copy of the same build has another identity")
	}
	if goTool, err := exec.LookPath("go"); err == nil && BuildVersion("dev", goTool) == self {
		t.Errorf("another Go build (%s) has the same identity", goTool)
	}
	script := filepath.Join(dir, "script")
	if err := os.WriteFile(script, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	before := BuildVersion("dev", script)
	if before != BuildVersion("dev", script) {
		t.Errorf("an unchanged file changed identity")
	}
	later := time.Now().Add(time.Hour)
	if err := os.Chtimes(script, later, later); err != nil {
		t.Fatal(err)
	}
	if BuildVersion("dev", script) == before {
		t.Errorf("a rewritten file kept its identity")
	}
	if BuildVersion("dev", filepath.Join(dir, "missing")) != "dev+unknown" {
		t.Errorf("a missing executable: %q", BuildVersion("dev", filepath.Join(dir, "missing")))
	}
}

// The readers of the two places the Go linker puts the build ID.
func TestBuildIDReaders(t *testing.T) {
	t.Parallel()
	note := func(name string, typ uint32, desc string) []byte {
		var b []byte
		b = binary.LittleEndian.AppendUint32(b, uint32(len(name)))
		b = binary.LittleEndian.AppendUint32(b, uint32(len(desc)))
		b = binary.LittleEndian.AppendUint32(b, typ)
		b = append(b, name...)
		for len(b)%4 != 0 {
			b = append(b, 0)
		}
		b = append(b, desc...)
		for len(b)%4 != 0 {
			b = append(b, 0)
		}
		return b
	}
	data := append(note("GNU\x00", 3, "gnu-build-id"), note("Go\x00\x00", 4, "abc/def")...)
	if got := elfNote(binary.LittleEndian, data, "Go\x00\x00", 4); got != "abc/def" {
		t.Errorf("elfNote = %q", got)
	}
	if got := elfNote(binary.LittleEndian, data[:len(data)-3], "Go\x00\x00", 4); got != "" {
		t.Errorf("a truncated note: %q", got)
	}
	if got := textBuildID([]byte("\x00\x00\xff Go build ID: \"abc/def\"\n \xff\x90")); got != "abc/def" {
		t.Errorf("textBuildID = %q", got)
	}
	if got := textBuildID([]byte("\xff Go build ID: \"abc")); got != "" {
		t.Errorf("an unterminated build ID: %q", got)
	}
}
