// Package testutil holds helpers shared by the tests and test harnesses,
// never by the product.
package testutil

import (
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

var (
	mu     sync.Mutex
	handed = map[int]bool{}
)

// FreePort returns a loopback TCP port nobody listened on a moment ago,
// for a program that must be told its port (etcd, the API server, the
// devcluster binary). It never hands out the same port twice in one
// process, so concurrent tests cannot collide with each other; a listener
// of this process should rather bind port 0 and ask for its address.
func FreePort() (int, error) {
	mu.Lock()
	defer mu.Unlock()
	for i := 0; i < 100; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		port := l.Addr().(*net.TCPAddr).Port
		_ = l.Close()
		if !handed[port] {
			handed[port] = true
			return port, nil
		}
	}
	return 0, fmt.Errorf("no free loopback port found")
}

// Port is FreePort for a test: a failure ends it.
func Port(t testing.TB) int {
	t.Helper()
	p, err := FreePort()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// AgentProcesses counts the running processes that are the devcluster agent
// of stateDir (`devcluster … agent … --state-dir stateDir`).
func AgentProcesses(stateDir string) int {
	n := 0
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		args := strings.Split(string(b), "\x00")
		if !slices.Contains(args, "agent") {
			continue
		}
		for i, a := range args {
			if a == "--state-dir" && i+1 < len(args) && args[i+1] == stateDir {
				n++
			}
		}
	}
	return n
}

// Kubeconfig writes a kubeconfig file in a new temporary directory with
// one context per name, each with a cluster and a user of the same name
// (the server an unused loopback address), and returns its path.
func Kubeconfig(t testing.TB, contexts ...string) string {
	t.Helper()
	var clusters, users, ctxs strings.Builder
	for _, n := range contexts {
		fmt.Fprintf(&clusters, "- {name: %q, cluster: {server: \"https://127.0.0.1:1\"}}\n", n)
		fmt.Fprintf(&users, "- {name: %q, user: {}}\n", n)
		fmt.Fprintf(&ctxs, "- {name: %q, context: {cluster: %q, user: %q}}\n", n, n, n)
	}
	file := filepath.Join(t.TempDir(), "kubeconfig")
	content := "apiVersion: v1\nkind: Config\nclusters:\n" + clusters.String() + "users:\n" + users.String() + "contexts:\n" + ctxs.String()
	if err := os.WriteFile(file, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}

// ReadBundle returns every file below dir (a diagnostics bundle) by its
// slash-separated name, and fails the test for a file that is not 0600, a
// directory that is not 0700, or anything that is neither.
func ReadBundle(t testing.TB, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := os.Lstat(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		switch {
		case info.IsDir():
			if info.Mode().Perm() != 0o700 {
				t.Errorf("directory %s has mode %v, want 0700", rel, info.Mode().Perm())
			}
		case info.Mode().IsRegular():
			if info.Mode().Perm() != 0o600 {
				t.Errorf("file %s has mode %v, want 0600", rel, info.Mode().Perm())
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			files[filepath.ToSlash(rel)] = string(b)
		default:
			t.Errorf("%s is neither a file nor a directory: %v", rel, info.Mode())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}
