package bootstrap

import (
	"context"
	"errors"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/devcluster/devcluster/agent"
	"github.com/devcluster/devcluster/config"
	fakeagent "github.com/devcluster/devcluster/internal/fake/agent"
	"github.com/devcluster/devcluster/internal/paths"
	"github.com/devcluster/devcluster/internal/problem"
	"github.com/devcluster/devcluster/internal/testutil"
	"github.com/devcluster/devcluster/registry"
)

// gcAgents is the in-process agent manager with what can go wrong around
// a collection: afterStop runs once the agent stopped, and restartErr
// fails the start after a stop.
type gcAgents struct {
	*fakeagent.InProcess
	afterStop  func()
	restartErr error
	stops      int
}

func (m *gcAgents) Stop(ctx context.Context, dir string) (bool, error) {
	ok, err := m.InProcess.Stop(ctx, dir)
	m.stops++
	if m.afterStop != nil {
		m.afterStop()
	}
	return ok, err
}

func (m *gcAgents) Ensure(ctx context.Context, s agent.Spec) (*agent.Status, error) {
	if m.stops > 0 && m.restartErr != nil {
		return nil, m.restartErr
	}
	return m.InProcess.Ensure(ctx, s)
}

// gcFixture is a cluster configuration whose agent runs in process, with
// garbage in its registry: app:v1 pushed twice, its first manifest and
// layers left untagged.
type gcFixture struct {
	*fixture
	cfg     *config.Config
	agents  *gcAgents
	spec    agent.Spec
	dataDir string
}

func newGCFixture(t *testing.T, running bool) *gcFixture {
	t.Helper()
	f := &gcFixture{fixture: newFixture(t)}
	f.cfg = f.fixture.cfg(nil)
	f.agents = &gcAgents{InProcess: &fakeagent.InProcess{}}
	t.Cleanup(f.agents.StopAll)
	f.deps.Agent = f.agents
	dirs, err := f.deps.Dirs(f.cfg.Name)
	if err != nil {
		t.Fatal(err)
	}
	f.dataDir = RegistryDataDir(f.cfg, dirs)
	host := "127.0.0.1:" + strconv.Itoa(testutil.Port(t))
	f.spec = agent.Spec{Name: f.cfg.Name, StateDir: dirs.State, DataDir: f.dataDir, Listen: []string{host}}
	if _, err := f.agents.Ensure(context.Background(), f.spec); err != nil {
		t.Fatal(err)
	}
	ref, err := name.ParseReference(host+"/app:v1", name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	// Its own transport, whose connections are closed after: the agent's
	// shutdown would wait for them.
	tr := http.DefaultTransport.(*http.Transport).Clone()
	for range 2 {
		img, _ := random.Image(1024, 1)
		if err := remote.Write(ref, img, remote.WithTransport(tr)); err != nil {
			t.Fatal(err)
		}
	}
	tr.CloseIdleConnections()
	if !running {
		f.agents.StopAll()
	}
	f.agents.stops = 0
	f.rec.lines = nil
	return f
}

// CollectGarbage stops the agent, collects, and starts it again with the
// settings it had, even when the collection fails; what cannot be done is
// a problem with what to do.
func TestCollectGarbage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		running bool
		opts    GCOptions
		arrange func(t *testing.T, f *gcFixture)

		wantSteps     []string // "title → result" (a prefix of the result)
		wantRestarted bool
		wantManifests int
		wantErr       string // "" = no error
		wantFix       string
		wantRunning   bool // the agent runs afterwards
	}{{
		name:          "without an agent it only collects",
		opts:          GCOptions{RemoveUntagged: true},
		wantSteps:     []string{"Collecting garbage in {data} → freed "},
		wantManifests: 1,
	}, {
		name:    "a running agent is stopped and started again with its settings",
		running: true,
		opts:    GCOptions{RemoveUntagged: true},
		wantSteps: []string{"Stopping the agent → stopped (pid ", "Collecting garbage in {data} → freed ",
			"Starting the agent again → running (pid "},
		wantRestarted: true, wantManifests: 1, wantRunning: true,
	}, {
		name:    "a dry run deletes nothing",
		running: true,
		opts:    GCOptions{RemoveUntagged: true, DryRun: true},
		wantSteps: []string{"Stopping the agent → ", "Collecting garbage in {data} → would free ",
			"Starting the agent again → "},
		wantRestarted: true, wantManifests: 1, wantRunning: true,
	}, {
		name:    "a collection that fails still starts the agent again",
		running: true,
		arrange: func(t *testing.T, f *gcFixture) {
			f.agents.afterStop = func() {
				if err := os.RemoveAll(f.dataDir); err != nil {
					t.Error(err)
				}
			}
		},
		wantSteps: []string{"Stopping the agent → ", "Collecting garbage in {data} → failed; starting the agent again",
			"Starting the agent again → running"},
		wantErr:     "garbage collection of {data}: no registry storage at {data}",
		wantRunning: true,
	}, {
		name: "another registry on the storage is refused at once",
		arrange: func(t *testing.T, f *gcFixture) {
			l, err := registry.LockDir(context.Background(), f.dataDir, "registry serve", 0)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = l.Close() })
		},
		wantErr: "in use by",
		wantFix: "stop the other registry (a `devcluster registry serve` on the same directory) and run gc again",
	}, {
		name:    "an agent that cannot be started again says how to start it",
		running: true,
		arrange: func(t *testing.T, f *gcFixture) { f.agents.restartErr = errors.New("port taken") },
		wantErr: "starting the agent again after gc: port taken",
		wantFix: "run `devcluster up`",
	}, {
		name: "without a data directory",
		arrange: func(t *testing.T, f *gcFixture) {
			f.deps.Dirs = func(string) (paths.Dirs, error) { return paths.Dirs{}, errors.New("$HOME is not set") }
		},
		wantErr: "locating devcluster's data directory: $HOME is not set",
		wantFix: "set HOME or XDG_DATA_HOME",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newGCFixture(t, tt.running)
			if tt.arrange != nil {
				tt.arrange(t, f)
			}
			data := func(s string) string { return strings.ReplaceAll(s, "{data}", f.dataDir) }
			res, err := CollectGarbage(context.Background(), f.deps, f.cfg, tt.opts)
			if tt.wantErr == "" && err != nil {
				t.Fatal(err)
			}
			if tt.wantErr != "" {
				var p *problem.Error
				if !errors.As(err, &p) || !strings.Contains(err.Error(), data(tt.wantErr)) || p.Fix != tt.wantFix {
					t.Fatalf("error %v (%#v), want %q with fix %q", err, p, data(tt.wantErr), tt.wantFix)
				}
			}
			var steps []string
			for _, l := range f.rec.lines {
				if title, ok := strings.CutPrefix(l, "start "); ok {
					steps = append(steps, title)
				} else if result, ok := strings.CutPrefix(l, "end ok "); ok && len(steps) > 0 {
					steps[len(steps)-1] += " → " + result
				}
			}
			if tt.wantSteps != nil {
				if len(steps) != len(tt.wantSteps) {
					t.Fatalf("steps %q, want %q", steps, tt.wantSteps)
				}
				for i, w := range tt.wantSteps {
					if !strings.HasPrefix(steps[i], data(w)) {
						t.Errorf("step %d: %q, want %q…", i, steps[i], data(w))
					}
				}
			}
			if err == nil {
				if res.DataDir != f.dataDir || res.AgentRestarted != tt.wantRestarted || len(res.Manifests) != tt.wantManifests || res.DryRun != tt.opts.DryRun {
					t.Errorf("result %+v %+v", res, res.GCResult)
				}
			}
			st, err := f.agents.Status(context.Background(), f.spec.StateDir)
			if err != nil {
				t.Fatal(err)
			}
			if st.Running != tt.wantRunning {
				t.Errorf("the agent runs afterwards: %v, want %v", st.Running, tt.wantRunning)
			}
			if tt.wantRunning && (st.Spec.DataDir != f.spec.DataDir || strings.Join(st.Listen, ",") != strings.Join(f.spec.Listen, ",")) {
				t.Errorf("the agent came back with other settings: %+v", st)
			}
		})
	}
}
