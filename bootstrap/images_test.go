package bootstrap

import (
	"context"
	"errors"
	"net"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/devcluster/devcluster/agent"
	"github.com/devcluster/devcluster/config"
	"github.com/devcluster/devcluster/image"
	"github.com/devcluster/devcluster/install"
	"github.com/devcluster/devcluster/internal/paths"
	"github.com/devcluster/devcluster/internal/problem"
	"github.com/devcluster/devcluster/registry"
)

// agentStatus is an agent.Manager that only answers Status.
type agentStatus struct {
	st  *agent.Status
	err error
}

func (a agentStatus) Ensure(context.Context, agent.Spec) (*agent.Status, error) {
	return nil, errors.New("not here")
}
func (a agentStatus) Status(context.Context, string) (*agent.Status, error) { return a.st, a.err }
func (a agentStatus) Stop(context.Context, string) (bool, error)            { return false, nil }

// The registry commands talk to --address, else the running agent's first
// address, else loopback at the configured port.
func TestFindRegistry(t *testing.T) {
	dir := t.TempDir()
	cfg := &config.Config{Name: "dev", Registry: config.Registry{Port: 5999}}
	dirs := func(name string) (paths.Dirs, error) {
		return paths.Dirs{State: filepath.Join(dir, "state", name), Data: filepath.Join(dir, "data", name)}, nil
	}
	running := agentStatus{st: &agent.Status{Running: true, Listen: []string{"127.0.0.1:5123", "192.168.49.1:5123"}}}
	for _, tc := range []struct {
		agent   agentStatus
		address string
		want    string
	}{
		{running, "127.0.0.1:7000", "127.0.0.1:7000"},
		{running, "", "127.0.0.1:5123"},
		{agentStatus{st: &agent.Status{}}, "", "127.0.0.1:5999"},
		{agentStatus{err: errors.New("no state")}, "", "127.0.0.1:5999"},
	} {
		e, err := FindRegistry(t.Context(), Deps{Dirs: dirs, Agent: tc.agent}, cfg, tc.address)
		if err != nil || e.Host != tc.want {
			t.Errorf("agent %+v, --address %q: %+v, %v; want host %s", tc.agent.st, tc.address, e, err, tc.want)
			continue
		}
		if e.DataDir != RegistryDataDir(cfg, paths.Dirs{State: filepath.Join(dir, "state", "dev"), Data: filepath.Join(dir, "data", "dev")}) {
			t.Errorf("data directory %s", e.DataDir)
		}
	}
	noHome := func(string) (paths.Dirs, error) { return paths.Dirs{}, errors.New("HOME is not set") }
	if _, err := FindRegistry(t.Context(), Deps{Dirs: noHome, Agent: running}, cfg, ""); problem.KindOf(err) != problem.Failed || problem.FixOf(err) != "set HOME or XDG_DATA_HOME" {
		t.Errorf("without a data directory: %v", err)
	}
}

// Push reads the source, pushes it with its progress (the last report is
// the whole size) and says what it pushed; a registry that is not there
// is a failure that says how to look for it.
func TestPushReportsProgressAndFailures(t *testing.T) {
	dir := t.TempDir()
	srv, err := registry.New(t.Context(), registry.Options{DataDir: filepath.Join(dir, "data"), Listen: []string{"127.0.0.1:0"}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx) }()
	defer func() { cancel(); <-served }()
	img, err := random.Image(4096, 2)
	if err != nil {
		t.Fatal(err)
	}
	if err := tarball.WriteToFile(filepath.Join(dir, "app.tar"), nil, img); err != nil {
		t.Fatal(err)
	}
	var reports []install.Progress
	res, err := Push(t.Context(), srv.Addrs()[0], PushOptions{Source: "app.tar", Target: "app:dev", Read: image.ReadOptions{Dir: dir},
		Progress: func(p install.Progress) { reports = append(reports, p) }})
	if err != nil {
		t.Fatal(err)
	}
	want, _ := img.Digest()
	if res.Digest != want.String() || !strings.HasSuffix(res.Reference, "/app:dev") {
		t.Errorf("pushed %+v, want digest %s", res, want)
	}
	if len(reports) == 0 || !reports[len(reports)-1].Final || reports[len(reports)-1].Done != reports[len(reports)-1].Total {
		t.Errorf("progress %+v: want a final report of the whole size", reports)
	}

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gone := l.Addr().String()
	_ = l.Close()
	_, err = Push(t.Context(), gone, PushOptions{Source: "app.tar", Target: "app:dev", Read: image.ReadOptions{Dir: dir}})
	if problem.KindOf(err) != problem.Failed || !strings.Contains(err.Error(), "pushing app.tar") || !strings.Contains(problem.FixOf(err), "devcluster status") {
		t.Errorf("push to no registry: %v (fix %q)", err, problem.FixOf(err))
	}
	// A source that is not there is bad input, found before any upload.
	if _, err := Push(t.Context(), srv.Addrs()[0], PushOptions{Source: "./absent.tar", Target: "app:dev", Read: image.ReadOptions{Dir: dir}}); problem.KindOf(err) != problem.Usage {
		t.Errorf("absent source: %v", err)
	}
}
