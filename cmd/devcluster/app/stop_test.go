package app

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/devcluster/devcluster/bootstrap"
	"github.com/devcluster/devcluster/internal/run/runtest"
)

// stop keeps the cluster and frees it; up resumes the cluster and its
// agent; a second stop is not an error.
func TestStopThenUpResumes(t *testing.T) {
	h := newHarness(t)
	if code := h.run("up"); code != 0 {
		t.Fatalf("up: exit %d\n%s", code, h.stderr.String())
	}
	if code := h.run("stop", "-o", "json"); code != 0 {
		t.Fatalf("stop: exit %d\n%s", code, h.stderr.String())
	}
	var res bootstrap.StopResult
	if err := json.Unmarshal(h.stdout.Bytes(), &res); err != nil || !res.Stopped || !res.AgentStopped || res.Was != "Running" || res.Name != "devcluster" {
		t.Errorf("stop -o json = %s (%v)", h.stdout.String(), err)
	}
	if code := h.run("status"); code != ExitNotRunning || !strings.Contains(h.stdout.String(), "Stopped") || !strings.Contains(h.stdout.String(), "agent not running") {
		t.Errorf("status after stop: exit %d\n%s", code, h.stdout.String())
	}
	if code := h.run("stop"); code != 0 || !strings.Contains(h.stdout.String(), `Cluster "devcluster" is stopped already.`) {
		t.Errorf("second stop: exit %d\n%s%s", code, h.stdout.String(), h.stderr.String())
	}
	if code := h.run("up", "-o", "json"); code != 0 {
		t.Fatalf("up after stop: exit %d\n%s", code, h.stderr.String())
	}
	var up bootstrap.Result
	if err := json.Unmarshal(h.stdout.Bytes(), &up); err != nil || up.Cluster.State != "Running" || !strings.Contains(strings.Join(up.Actions, ","), "started") {
		t.Errorf("up after stop = %s (%v)", h.stdout.String(), err)
	}
	if code := h.run("status"); code != 0 || !strings.Contains(h.stdout.String(), "running (pid") {
		t.Errorf("status after up: exit %d\n%s", code, h.stdout.String())
	}
	// The cluster was kept: up started it, it did not create it again.
	if strings.Contains(strings.Join(up.Actions, ","), "created") {
		t.Errorf("up created the cluster again: %v", up.Actions)
	}
}

func TestStopRefusals(t *testing.T) {
	h := newHarness(t)
	// Nothing to stop: exit 3, as status.
	if code := h.run("stop"); code != ExitNotRunning || !strings.Contains(h.stderr.String(), `cluster "devcluster" does not exist`) {
		t.Errorf("stop of a missing cluster: exit %d\n%s", code, h.stderr.String())
	}
	// A cluster devcluster did not create is not stopped: exit 2, before
	// anything runs.
	h.runner = &runtest.Fake{Handler: func(argv []string) runtest.Reply {
		t.Errorf("ran %q", argv)
		return runtest.Reply{}
	}}
	if code := h.run("stop", "--provider", "existing", "--context", "staging"); code != ExitUsage || !strings.Contains(h.stderr.String(), "does not stop a cluster it did not create") {
		t.Errorf("stop of an existing cluster: exit %d\n%s", code, h.stderr.String())
	}
	if code := h.run("stop", "extra"); code != ExitUsage {
		t.Errorf("stop extra: exit %d", code)
	}
}
