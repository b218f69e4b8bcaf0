package app

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/devcluster/devcluster/bootstrap"
	"github.com/devcluster/devcluster/internal/testutil"
)

// list shows each cluster up made, with its state now and its agent's,
// and forgets one down deleted.
func TestListFollowsUpStopAndDown(t *testing.T) {
	h := newHarness(t)
	if code := h.run("list"); code != 0 || !strings.Contains(h.stdout.String(), "No clusters") {
		t.Fatalf("list of nothing: exit %d\n%s%s", code, h.stdout.String(), h.stderr.String())
	}
	ciPort := testutil.Port(t)
	for _, args := range [][]string{{"up", "--name", "dev"}, {"up", "--name", "ci", "--registry-port", strconv.Itoa(ciPort)}} {
		if code := h.run(args...); code != 0 {
			t.Fatalf("%q: exit %d\n%s", args, code, h.stderr.String())
		}
	}
	if code := h.run("stop", "--name", "ci"); code != 0 {
		t.Fatalf("stop: exit %d\n%s", code, h.stderr.String())
	}
	// Not a cluster's directory: left out.
	if err := os.MkdirAll(filepath.Join(h.dir, ".local", "state", "devcluster", "junk"), 0o700); err != nil {
		t.Fatal(err)
	}
	if code := h.run("list", "-o", "json"); code != 0 {
		t.Fatalf("list: exit %d\n%s", code, h.stderr.String())
	}
	var list []bootstrap.ListedCluster
	if err := json.Unmarshal(h.stdout.Bytes(), &list); err != nil || len(list) != 2 {
		t.Fatalf("list -o json = %s (%v)", h.stdout.String(), err)
	}
	ci, dev := list[0], list[1]
	if ci.Name != "ci" || ci.Provider != "minikube" || ci.State != "Stopped" || ci.Agent == nil || ci.Agent.Running || ci.RegistryPort != ciPort || ci.KubeContext != "ci" {
		t.Errorf("ci = %+v", ci)
	}
	if dev.Name != "dev" || dev.State != "Running" || dev.Agent == nil || !dev.Agent.Running || dev.Agent.PID == 0 || dev.RegistryData == "" {
		t.Errorf("dev = %+v", dev)
	}
	if code := h.run("list"); code != 0 {
		t.Fatal(code)
	}
	for _, want := range []string{"NAME", "PROVIDER", "STATE", "REGISTRY", "AGENT", "ci    ", "Stopped", "Running", "stopped", "running (pid", "localhost:"} {
		if !strings.Contains(h.stdout.String(), want) {
			t.Errorf("list lacks %q:\n%s", want, h.stdout.String())
		}
	}
	if code := h.run("down", "--name", "ci"); code != 0 {
		t.Fatalf("down: exit %d\n%s", code, h.stderr.String())
	}
	if code := h.run("ls", "-o", "yaml"); code != 0 || strings.Contains(h.stdout.String(), "name: ci") || !strings.Contains(h.stdout.String(), "name: dev") {
		t.Errorf("list after down ci: exit %d\n%s", code, h.stdout.String())
	}
	if code := h.run("list", "extra"); code != ExitUsage {
		t.Errorf("list extra: exit %d", code)
	}
}
