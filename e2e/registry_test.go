//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/validate"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/devcluster/devcluster/bootstrap"
	"github.com/devcluster/devcluster/e2e/harness"
)

// TestRegistryEndToEnd: `up` starts the registry agent on loopback and on
// the cluster-facing address, writes hosts.toml over `minikube ssh` where a
// real containerd reads it, publishes the KEP-1755 ConfigMap; containerd
// pulls what `devcluster registry push` pushed; the cluster side refuses
// writes; tags survive an agent restart; down keeps the data.
func TestRegistryEndToEnd(t *testing.T) {
	if nodeNet == nil {
		missing(t, "needs the node network namespace (root and iproute2)")
	}
	if err := harness.ContainerdAvailable(); err != nil {
		missing(t, "needs containerd: %v", err)
	}
	if _, err := os.Stat("/etc/containerd"); err != nil {
		missing(t, "needs /etc/containerd as a mount point for the simulated node's files")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	u := newUser(t)
	nodeEtc := filepath.Join(u.home, "node-etc-containerd")
	if err := os.MkdirAll(nodeEtc, 0o755); err != nil {
		t.Fatal(err)
	}
	u.env = append(u.env, "STANDIN_SSH_EXEC="+filepath.Join(binDir, "node-exec"), "NODE_ETC_CONTAINERD="+nodeEtc)
	port := freePort(t)
	const cluster = "e2e-reg"

	r := u.devcluster("up", "--name", cluster, "--registry-port", port, "-o", "json")
	if r.code != 0 {
		t.Fatalf("up: exit %d", r.code)
	}
	var res bootstrap.Result
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		t.Fatal(err)
	}
	clusterHost := "192.168.49.1:" + port
	reg := res.Registry
	if reg == nil || reg.ClusterHost != clusterHost || reg.Host != "localhost:"+port {
		t.Fatalf("registry summary = %+v", reg)
	}
	if len(reg.Listen) != 2 || reg.Listen[0] != "127.0.0.1:"+port || reg.Listen[1] != clusterHost {
		t.Errorf("agent listens on %v, want loopback and %s only", reg.Listen, clusterHost)
	}
	if !strings.HasPrefix(reg.DataDir, u.home) {
		t.Errorf("data dir %s is not under the user's home", reg.DataDir)
	}

	// hosts.toml, written through `minikube ssh`, for both names.
	for _, host := range []string{clusterHost, "localhost:" + port} {
		b, err := os.ReadFile(filepath.Join(nodeEtc, "certs.d", host, "hosts.toml"))
		if err != nil {
			t.Fatalf("hosts.toml for %s was not written on the node: %v", host, err)
		}
		want := fmt.Sprintf("server = \"http://%s\"\n\n[host.\"http://%s\"]\n  capabilities = [\"pull\", \"resolve\"]\n", clusterHost, clusterHost)
		if string(b) != want {
			t.Errorf("hosts.toml for %s:\n%s\nwant:\n%s", host, b, want)
		}
	}

	// The KEP-1755 ConfigMap with all four fields.
	admin, err := cp.Client()
	if err != nil {
		t.Fatal(err)
	}
	cm, err := admin.CoreV1().ConfigMaps("kube-public").Get(ctx, "local-registry-hosting", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("local-registry-hosting: %v", err)
	}
	v := cm.Data["localRegistryHosting.v1"]
	for _, want := range []string{"host: localhost:" + port, "hostFromContainerRuntime: " + clusterHost, "hostFromClusterNetwork: " + clusterHost, "help: https://"} {
		if !strings.Contains(v, want) {
			t.Errorf("localRegistryHosting.v1 lacks %q:\n%s", want, v)
		}
	}
	if cm.ManagedFields[0].Manager != "devcluster" {
		t.Errorf("ConfigMap field manager = %q", cm.ManagedFields[0].Manager)
	}

	// Push with the CLI, from a docker-archive tarball.
	img, err := random.Image(256<<10, 3)
	if err != nil {
		t.Fatal(err)
	}
	tarPath := filepath.Join(u.home, "app.tar")
	if err := tarball.WriteToFile(tarPath, name.MustParseReference("example.com/app:v1"), img); err != nil {
		t.Fatal(err)
	}
	if r := u.devcluster("registry", "push", "--name", cluster, tarPath, "team/app:v1"); r.code != 0 {
		t.Fatalf("registry push: exit %d", r.code)
	}
	digest, _ := img.Digest()

	// containerd pulls it: plain HTTP from the cluster-side address, and by
	// the KEP-1755 host name through the hosts.toml devcluster wrote.
	c, err := harness.StartContainerd(ctx, filepath.Join(u.home, "containerd"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Stop()
	if _, err := c.Ctr(ctx, "content", "fetch", "--plain-http", clusterHost+"/team/app:v1"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Ctr(ctx, "content", "fetch", "--hosts-dir", filepath.Join(nodeEtc, "certs.d"), "localhost:"+port+"/team/app:v1"); err != nil {
		t.Fatal(err)
	}
	if out, _ := c.Ctr(ctx, "content", "ls"); !strings.Contains(out, digest.String()) {
		t.Errorf("containerd lacks manifest %s", digest)
	}

	// The cluster side is read-only: a push from the node's address is
	// refused, a read is served.
	code, _ := nodeNet.Exec("curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST", "http://"+clusterHost+"/v2/evil/blobs/uploads/")
	if strings.TrimSpace(code) != "403" {
		t.Errorf("POST from the node's address: HTTP %q, want 403", code)
	}
	code, _ = nodeNet.Exec("curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "http://"+clusterHost+"/v2/team/app/tags/list")
	if strings.TrimSpace(code) != "200" {
		t.Errorf("GET from the node's address: HTTP %q, want 200", code)
	}

	// Tags survive an agent restart (SIGTERM, then `up` starts a new one).
	pid := reg.Agent.PID
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitGone(t, pid)
	if r := u.devcluster("status", "--name", cluster); !strings.Contains(r.stdout, "agent not running") {
		t.Errorf("status does not say the agent is down:\n%s", r.stdout)
	}
	if r := u.devcluster("up", "--name", cluster, "--registry-port", port); r.code != 0 || !strings.Contains(r.stdout, "agent started") {
		t.Fatalf("up after agent death: exit %d\n%s", r.code, r.stdout)
	}
	pulled, err := remote.Image(mustRef(t, "127.0.0.1:"+port+"/team/app:v1"))
	if err != nil {
		t.Fatalf("pull after restart: %v", err)
	}
	if err := validate.Image(pulled); err != nil {
		t.Errorf("image after restart does not verify: %v", err)
	}

	// down stops the agent and keeps the data; the next up serves it again.
	if r := u.devcluster("down", "--name", cluster); r.code != 0 || !strings.Contains(r.stdout, "Registry data kept in") {
		t.Fatalf("down: exit %d", r.code)
	}
	waitGone(t, agentPID(t, u, cluster, port))
	if r := u.devcluster("up", "--name", cluster, "--registry-port", port); r.code != 0 {
		t.Fatalf("up after down: exit %d", r.code)
	}
	if r := u.devcluster("registry", "ls", "--name", cluster); !strings.Contains(r.stdout, "team/app") {
		t.Errorf("images lost across down/up:\n%s", r.stdout)
	}
	if r := u.devcluster("down", "--name", cluster, "--purge"); r.code != 0 {
		t.Fatalf("down --purge: exit %d", r.code)
	}
	if _, err := os.Stat(reg.DataDir); !os.IsNotExist(err) {
		t.Errorf("down --purge left %s", reg.DataDir)
	}
}

// TestRegistryKill9DuringPushes kills the agent with SIGKILL while images
// are being pushed concurrently; after a restart every push that finished
// pulls with verified digests, and nothing of an unfinished push is visible
// as a blob.
func TestRegistryKill9DuringPushes(t *testing.T) {
	u := newUser(t)
	port := freePort(t)
	const cluster = "e2e-kill"
	res := u.upJSON("--name", cluster, "--registry-port", port)
	defer u.devcluster("down", "--name", cluster, "--purge")
	host := "127.0.0.1:" + port

	type push struct {
		ref    string
		parsed name.Reference
		img    v1.Image
		err    error
		doneAt time.Time
	}
	const n = 12
	pushes := make([]*push, n)
	var wg sync.WaitGroup
	var killedAt time.Time
	var mu sync.Mutex
	finished := 0
	for i := range pushes {
		img, err := random.Image(2<<20, 2)
		if err != nil {
			t.Fatal(err)
		}
		p := &push{ref: fmt.Sprintf("%s/load/img%d:v1", host, i), img: img}
		p.parsed = mustRef(t, p.ref) // here: t.Fatal must not run in the goroutine
		pushes[i] = p
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.err = remote.Write(p.parsed, p.img)
			mu.Lock()
			p.doneAt = time.Now()
			if p.err == nil {
				finished++
			}
			mu.Unlock()
		}()
	}
	// Kill once a few pushes have finished and others are in flight.
	deadline := time.Now().Add(time.Minute)
	for {
		mu.Lock()
		f := finished
		mu.Unlock()
		if f >= 3 || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	mu.Lock()
	killedAt = time.Now()
	mu.Unlock()
	if err := syscall.Kill(res.Registry.Agent.PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	waitGone(t, res.Registry.Agent.PID)

	if r := u.devcluster("up", "--name", cluster, "--registry-port", port); r.code != 0 {
		t.Fatalf("up after kill -9: exit %d", r.code)
	}
	ok, failed := 0, 0
	for _, p := range pushes {
		if p.err == nil {
			ok++
			img, err := remote.Image(mustRef(t, p.ref))
			if err != nil {
				t.Errorf("finished push %s does not pull after the restart: %v", p.ref, err)
				continue
			}
			if err := validate.Image(img); err != nil {
				t.Errorf("finished push %s does not verify after the restart: %v", p.ref, err)
			}
			continue
		}
		failed++
		// An unfinished push may have committed some blobs; whatever is
		// visible must be complete and match its digest.
		layers, _ := p.img.Layers()
		for _, l := range layers {
			d, _ := l.Digest()
			blob, err := remote.Layer(mustDigest(t, host+"/"+strings.SplitN(strings.TrimPrefix(p.ref, host+"/"), ":", 2)[0]+"@"+d.String()))
			if err != nil {
				continue
			}
			rc, err := blob.Compressed()
			if err != nil {
				continue // not present: fine
			}
			if err := verifyDigest(rc, d); err != nil {
				t.Errorf("partial blob visible for %s layer %s: %v", p.ref, d, err)
			}
		}
	}
	t.Logf("%d pushes finished before the kill at %s, %d were cut off", ok, killedAt.Format(time.StampMilli), failed)
	if ok < 3 {
		t.Errorf("only %d pushes finished", ok)
	}
}

func waitGone(t *testing.T, pid int) {
	t.Helper()
	if pid <= 0 {
		return
	}
	for i := 0; i < 200; i++ {
		if syscall.Kill(pid, 0) != nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("process %d did not exit", pid)
}

// agentPID reads the last agent PID from the state directory (0 if none).
func agentPID(t *testing.T, u *user, cluster, _ string) int {
	b, err := os.ReadFile(filepath.Join(u.home, ".local", "state", "devcluster", cluster, "agent.json"))
	if err != nil {
		return 0
	}
	var r struct{ PID int }
	_ = json.Unmarshal(b, &r)
	return r.PID
}

func mustRef(t *testing.T, s string) name.Reference {
	t.Helper()
	r, err := name.ParseReference(s, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func mustDigest(t *testing.T, s string) name.Digest {
	t.Helper()
	d, err := name.NewDigest(s, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	return d
}
