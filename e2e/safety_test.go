//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/validate"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"

	"github.com/devcluster/devcluster/bootstrap"
	"github.com/devcluster/devcluster/internal/testutil"
)

// TestGCDuringConcurrentPushes runs `registry gc` again and again while
// images are pushed without pause, while a second `up` runs and while a
// foreground `registry serve` tries to use the same storage. Every push the
// registry acknowledged must still pull and verify afterwards, the serve
// must be refused, and the agent must come back with its LoadBalancer
// controller.
func TestGCDuringConcurrentPushes(t *testing.T) {
	u := newUser(t)
	port := freePort(t)
	const cluster = "e2e-gc"
	res := u.upJSON("--name", cluster, "--registry-port", port)
	defer u.devcluster("down", "--name", cluster, "--purge")
	host := "127.0.0.1:" + port
	lbIP := res.Registry.Agent.LoadBalancerIP
	if lbIP == "" {
		t.Fatalf("the agent runs no LoadBalancer controller: %+v", res.Registry.Agent)
	}

	// A foreground registry on the same storage is refused while the agent
	// holds it.
	serve := u.devcluster("registry", "serve", "--name", cluster, "--data-dir", res.Registry.DataDir, "--listen", "127.0.0.1:"+freePort(t))
	if serve.code != 1 || !strings.Contains(serve.stderr, "is in use by") || !strings.Contains(serve.stderr, "agent of cluster") {
		t.Errorf("registry serve beside the agent: exit %d\n%s", serve.code, serve.stderr)
	}

	var stop atomic.Bool
	var mu sync.Mutex
	var acked []string
	attempts := 0
	var wg sync.WaitGroup
	const pushers = 12
	for w := 0; w < pushers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; !stop.Load(); i++ {
				img, err := random.Image(64<<10, 2)
				if err != nil {
					t.Error(err)
					return
				}
				ref := fmt.Sprintf("%s/gc/w%d:v%d", host, w, i)
				parsed, err := name.ParseReference(ref, name.Insecure)
				if err != nil {
					t.Error(err) // not Fatal: this is not the test's goroutine
					return
				}
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				err = remote.Write(parsed, img, remote.WithContext(ctx))
				cancel()
				mu.Lock()
				attempts++
				if err == nil {
					acked = append(acked, ref)
				}
				mu.Unlock()
				if err != nil {
					time.Sleep(20 * time.Millisecond)
				}
			}
		}(w)
	}
	// An `up` that runs halfway through a collection would restart the
	// agent; with the data directory's lock it waits instead.
	upDone := make(chan result, 1)
	go func() {
		time.Sleep(700 * time.Millisecond)
		upDone <- u.devcluster("up", "--name", cluster, "--registry-port", port)
	}()
	const gcs = 5
	for i := 0; i < gcs; i++ {
		time.Sleep(300 * time.Millisecond)
		if r := u.devcluster("-q", "registry", "gc", "--name", cluster, "--delete-untagged"); r.code != 0 {
			t.Errorf("gc %d: exit %d\n%s", i, r.code, r.stderr)
		} else if strings.TrimSpace(r.stderr) != "" {
			t.Errorf("gc -q printed:\n%s", r.stderr)
		}
	}
	time.Sleep(300 * time.Millisecond)
	stop.Store(true)
	wg.Wait()
	if r := <-upDone; r.code != 0 {
		t.Errorf("up during gc: exit %d\n%s", r.code, r.stderr)
	}

	mu.Lock()
	defer mu.Unlock()
	if len(acked) < pushers {
		t.Fatalf("only %d of %d pushes were acknowledged", len(acked), attempts)
	}
	bad := 0
	for _, ref := range acked {
		img, err := remote.Image(mustRef(t, ref))
		if err == nil {
			err = validate.Image(img)
		}
		if err != nil {
			bad++
			if bad <= 5 {
				t.Errorf("acknowledged push %s does not verify after gc: %v", ref, err)
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d acknowledged pushes are damaged", bad, len(acked))
	}
	t.Logf("%d gc runs during %d pushes (%d acknowledged): all acknowledged pushes verify", gcs, attempts, len(acked))

	// The agent came back with every setting, the LoadBalancer IP included.
	st := u.devcluster("status", "--name", cluster, "-o", "json")
	var after bootstrap.Result
	if err := json.Unmarshal([]byte(st.stdout), &after); err != nil {
		t.Fatal(err)
	}
	if after.Registry == nil || after.Registry.Agent == nil || !after.Registry.Agent.Running || after.Registry.Agent.LoadBalancerIP != lbIP {
		t.Errorf("agent after gc: %+v", after.Registry)
	}
}

// TestPurgeNeverDeletesTheUsersDirectories: registry.dataDir set to the
// working directory, its parent or the home directory — down --purge
// deletes none of them and says why.
func TestPurgeNeverDeletesTheUsersDirectories(t *testing.T) {
	for _, tc := range []struct{ name, dataDir string }{
		{"working directory", "./"},
		{"parent", ".."},
		{"home", `"~"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := newUser(t)
			work := filepath.Join(u.home, "src", "app")
			if err := os.MkdirAll(work, 0o700); err != nil {
				t.Fatal(err)
			}
			for _, f := range []string{filepath.Join(work, "main.go"), filepath.Join(u.home, "src", "notes.txt"), filepath.Join(u.home, "thesis.tex")} {
				writeFile(t, f, "user data")
			}
			writeFile(t, filepath.Join(work, "devcluster.yaml"), "apiVersion: devcluster.dev/v1alpha1\nkind: Cluster\nname: e2e-purge\n"+
				"workloads:\n  samples: false\nregistry:\n  port: "+freePort(t)+"\n  dataDir: "+tc.dataDir+"\n")
			u.dir = work
			if r := u.devcluster("up"); r.code != 0 {
				t.Fatalf("up: exit %d", r.code)
			}
			r := u.devcluster("down", "--purge")
			if r.code != 0 {
				t.Fatalf("down --purge: exit %d", r.code)
			}
			for _, f := range []string{filepath.Join(work, "main.go"), filepath.Join(work, "devcluster.yaml"), filepath.Join(u.home, "src", "notes.txt"), filepath.Join(u.home, "thesis.tex")} {
				if _, err := os.Stat(f); err != nil {
					t.Errorf("down --purge deleted %s", f)
				}
			}
			if !strings.Contains(r.stdout, "Registry data kept in") || !strings.Contains(r.stdout, "refusing to delete") {
				t.Errorf("down --purge does not say what it kept and why:\n%s", r.stdout)
			}
		})
	}
}

// TestConcurrentUpStartsOneAgent: two `up` runs at once end with one agent
// for the cluster, and both succeed.
func TestConcurrentUpStartsOneAgent(t *testing.T) {
	u := newUser(t)
	port := freePort(t)
	const cluster = "e2e-twice"
	if r := u.devcluster("up", "--name", cluster, "--registry-port", port, "--no-registry", "--no-lb"); r.code != 0 {
		t.Fatalf("first up: exit %d", r.code)
	}
	defer u.devcluster("down", "--name", cluster, "--purge")
	results := make(chan result, 2)
	for i := 0; i < 2; i++ {
		go func() { results <- u.devcluster("up", "--name", cluster, "--registry-port", port) }()
	}
	for i := 0; i < 2; i++ {
		if r := <-results; r.code != 0 {
			t.Errorf("concurrent up: exit %d", r.code)
		}
	}
	stateDir := filepath.Join(u.home, ".local", "state", "devcluster", cluster)
	if n := testutil.AgentProcesses(stateDir); n != 1 {
		t.Errorf("%d agents run for %s, want 1", n, stateDir)
	}
}

// TestInterrupts: Ctrl-C while the configuration comes from a pipe that
// never closes, and while minikube runs with children that keep its output
// open, ends devcluster at once with exit 130 and the word "interrupted".
func TestInterrupts(t *testing.T) {
	u := newUser(t)
	// A minikube whose start leaves a child holding the output pipe.
	slow := filepath.Join(u.home, "slow-minikube")
	writeFile(t, slow, "#!/bin/sh\ncase \"$1\" in\n  version) echo '{\"commit\":\"x\",\"minikubeVersion\":\"v1.38.1\"}';;\n"+
		"  profile) echo '{\"invalid\":[],\"valid\":[]}';;\n  start) sleep 60 & trap 'exit 130' INT; wait;;\n  *) exit 85;;\nesac\n")
	if err := os.Chmod(slow, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		args  []string
		stdin bool
	}{
		{"config from a pipe", []string{"-f", "-", "up"}, true},
		{"minikube start", []string{"--minikube", slow, "up", "--name", "e2e-int", "--no-registry", "--no-lb"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(filepath.Join(binDir, "devcluster"), tc.args...)
			cmd.Dir, cmd.Env = u.home, u.env
			var o, e bytes.Buffer
			cmd.Stdout, cmd.Stderr = &o, &e
			if tc.stdin {
				// `sleep 15 | devcluster -f - up`
				pr, pw, _ := os.Pipe()
				defer pw.Close()
				cmd.Stdin = pr
				defer pr.Close()
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			time.Sleep(time.Second)
			start := time.Now()
			_ = cmd.Process.Signal(syscall.SIGINT)
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case <-done:
			case <-time.After(15 * time.Second):
				_ = cmd.Process.Kill()
				t.Fatalf("devcluster ignored SIGINT for 15 s\n%s", e.String())
			}
			took := time.Since(start)
			if code := cmd.ProcessState.ExitCode(); code != 130 {
				t.Errorf("exit %d, want 130\n%s", code, e.String())
			}
			if !strings.Contains(e.String(), "interrupted") || strings.Contains(e.String(), "profile list") || strings.Contains(e.String(), "To fix") {
				t.Errorf("stderr after SIGINT:\n%s", e.String())
			}
			if took > 6*time.Second {
				t.Errorf("took %s to stop after SIGINT", took)
			}
			t.Logf("stopped %s after SIGINT", took.Round(time.Millisecond))
		})
	}
}

// TestAgentCannotListen: the agent on a taken port exits 1 with a message,
// never a SIGSEGV (exit 2).
func TestAgentCannotListen(t *testing.T) {
	u := newUser(t)
	port := freePort(t)
	l, err := net.Listen("tcp", "127.0.0.1:"+port)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	r := u.devcluster("agent", "--name", "x", "--state-dir", filepath.Join(u.home, "st"), "--data-dir", filepath.Join(u.home, "data"), "--listen", "127.0.0.1:"+port)
	if r.code != 1 || !strings.Contains(r.stderr, "port "+port+" is in use") || strings.Contains(r.stderr, "SIGSEGV") {
		t.Errorf("agent on a taken port: exit %d\n%s", r.code, r.stderr)
	}
	r = u.devcluster("agent", "--name", "x", "--state-dir", filepath.Join(u.home, "st"), "--listen", "nope")
	if r.code != 1 || !strings.Contains(r.stderr, `invalid listen address "nope"`) {
		t.Errorf("agent --listen nope: exit %d\n%s", r.code, r.stderr)
	}
}

// TestUserManifestsAreNotForced: a field of the user's manifest that another
// manager owns is a conflict that names the field and the manager, as
// `kubectl apply --server-side` without --force-conflicts — nothing is
// taken over and nothing is applied.
func TestUserManifestsAreNotForced(t *testing.T) {
	ctx := context.Background()
	u := newUser(t)
	const cluster = "e2e-conflict"
	if r := u.devcluster("up", "--name", cluster, "--no-registry", "--no-lb"); r.code != 0 {
		t.Fatalf("up: exit %d", r.code)
	}
	defer u.devcluster("down", "--name", cluster)
	admin, err := cp.Client()
	if err != nil {
		t.Fatal(err)
	}
	ns := fmt.Sprintf("conflict-%d", time.Now().UnixNano()%100000)
	if _, err := admin.CoreV1().Namespaces().Apply(ctx, corev1ac.Namespace(ns), metav1.ApplyOptions{FieldManager: "e2e"}); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.CoreV1().ConfigMaps(ns).Apply(ctx, corev1ac.ConfigMap("settings", ns).WithData(map[string]string{"mode": "production"}),
		metav1.ApplyOptions{FieldManager: "helm"}); err != nil {
		t.Fatal(err)
	}
	manifest := filepath.Join(u.home, "cm.yaml")
	writeFile(t, manifest, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: "+ns+"}\ndata: {mode: debug}\n---\n"+
		"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: other, namespace: "+ns+"}\ndata: {a: b}\n")
	r := u.devcluster("up", "--name", cluster, "--no-registry", "--no-lb", "--manifest", manifest)
	if r.code != 1 || !strings.Contains(r.stderr, "conflict") || !strings.Contains(r.stderr, "helm") || !strings.Contains(r.stderr, ".data.mode") {
		t.Errorf("a conflicting manifest: exit %d\n%s", r.code, r.stderr)
	}
	cm, err := admin.CoreV1().ConfigMaps(ns).Get(ctx, "settings", metav1.GetOptions{})
	if err != nil || cm.Data["mode"] != "production" {
		t.Errorf("the other manager's value was taken over: %v %v", cm.Data, err)
	}
	if _, err := admin.CoreV1().ConfigMaps(ns).Get(ctx, "other", metav1.GetOptions{}); err == nil {
		t.Error("a manifest set with a conflict was partly applied")
	}
}
