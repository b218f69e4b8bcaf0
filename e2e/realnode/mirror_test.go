//go:build realnode

package realnode

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/devcluster/devcluster/e2e/harness"
	"github.com/devcluster/devcluster/registry"
)

// mirrorsOnEnv marks a devcluster run whose configuration sets the
// mirrors' remotes to the test's own upstream: it runs without
// --no-mirrors.
const mirrorsOnEnv = "DEVCLUSTER_E2E_MIRRORS=on"

// hub is a registry standing in for Docker Hub on the host side of the
// node network (the agent reaches it there, and so does the node's
// containerd when it falls back), counting what it serves.
type hub struct {
	addr    string
	pushTo  string
	handler http.Handler
	mu      sync.Mutex
	srv     *http.Server
	gets    int   // downloads of manifests and blobs
	bytes   int64 // their bytes
	fromIPs map[string]bool
}

func startHub(t testing.TB) *hub {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	reg, err := registry.New(ctx, registry.Options{DataDir: t.TempDir(), Listen: []string{"127.0.0.1:0"}})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- reg.Serve(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	// Pushes go to its loopback address (writes are refused elsewhere).
	h := &hub{handler: reg.Handler(), fromIPs: map[string]bool{}, pushTo: reg.Addrs()[0]}
	l, err := net.Listen("tcp", hostIP+":0")
	if err != nil {
		t.Fatal(err)
	}
	h.addr = l.Addr().String()
	h.serve(l)
	t.Cleanup(h.stop)
	return h
}

func (h *hub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// containerd names the image's registry with ?ns= on every host of a
	// hosts.toml that is not that registry, its server included. The hub
	// stands in for docker.io, which ignores the parameter; the registry
	// it runs on answers 404 for a name it does not mirror, so drop it.
	q := r.URL.Query()
	if q.Has(registry.MirrorQuery) {
		q.Del(registry.MirrorQuery)
		r.URL.RawQuery = q.Encode()
	}
	cw := &countingWriter{ResponseWriter: w}
	h.handler.ServeHTTP(cw, r)
	if r.Method == http.MethodGet && (strings.Contains(r.URL.Path, "/manifests/") || strings.Contains(r.URL.Path, "/blobs/")) {
		ip, _, _ := net.SplitHostPort(r.RemoteAddr)
		h.mu.Lock()
		h.gets++
		h.bytes += cw.n
		h.fromIPs[ip] = true
		h.mu.Unlock()
	}
}

type countingWriter struct {
	http.ResponseWriter
	n int64
}

func (c *countingWriter) Write(b []byte) (int, error) {
	n, err := c.ResponseWriter.Write(b)
	c.n += int64(n)
	return n, err
}

func (h *hub) serve(l net.Listener) {
	h.mu.Lock()
	h.srv = &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	srv := h.srv
	h.mu.Unlock()
	go func() { _ = srv.Serve(l) }()
}

func (h *hub) stop() {
	h.mu.Lock()
	srv := h.srv
	h.srv = nil
	h.mu.Unlock()
	if srv != nil {
		_ = srv.Close()
	}
}

// restart serves again on the same address.
func (h *hub) restart(t testing.TB) {
	t.Helper()
	var l net.Listener
	var err error
	for i := 0; i < 50; i++ {
		if l, err = net.Listen("tcp", h.addr); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	h.serve(l)
}

// take returns the downloads, their bytes and the addresses they came from
// since the last call.
func (h *hub) take() (int, int64, map[string]bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	g, b, ips := h.gets, h.bytes, h.fromIPs
	h.gets, h.bytes, h.fromIPs = 0, 0, map[string]bool{}
	return g, b, ips
}

func (h *hub) push(t testing.TB, ref string, img v1.Image) {
	t.Helper()
	r, err := name.ParseReference(h.pushTo+"/"+ref, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(r, img); err != nil {
		t.Fatal(err)
	}
}

// writeMirrorConfig is the tier's devcluster.yaml with docker.io mirrored
// from the hub.
func writeMirrorConfig(t testing.TB, h *hub) {
	t.Helper()
	writeConfig(t)
	p := filepath.Join(env.home, "devcluster.yaml")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	cfg := strings.Replace(string(b), "registry:\n", "registry:\n  mirrors:\n    - upstream: docker.io\n      remote: http://"+h.addr+"\n", 1)
	if err := os.WriteFile(p, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
}

// removeNodeImage deletes an image from the node's containerd, with its
// content, so the next pull fetches it again.
func removeNodeImage(t testing.TB, ref string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if out, err := env.node.Ctr(ctx, "images", "rm", "--sync", ref); err != nil && !strings.Contains(out, "not found") {
		t.Fatal(err)
	}
}

func helloManifest(image string) string {
	return fmt.Sprintf(`apiVersion: v1
kind: Namespace
metadata: {name: team}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: hub-hello, namespace: team}
spec:
  replicas: 1
  selector: {matchLabels: {app: hub-hello}}
  template:
    metadata: {labels: {app: hub-hello}}
    spec:
      containers:
        - name: hello
          image: %s
          ports: [{containerPort: 8080}]
          readinessProbe: {httpGet: {path: /, port: 8080}, periodSeconds: 1}
`, image)
}

// TestMirrorOnRealNode: the node's containerd pulls
// docker.io/library/e2e-hello:1, which exists only in the hub, through the
// mirror, and the pod runs; after down and up with the hub stopped (and the
// image gone from the node) it runs again from the mirror's store; with the
// agent stopped and the hub up, a pod of an image never mirrored still
// starts: containerd falls back to the server of hosts.toml.
func TestMirrorOnRealNode(t *testing.T) {
	if shape == "kind" {
		t.Skip("the kind shape's node takes the same hosts.toml files (TestKind* cover its wiring)")
	}
	h := startHub(t)
	b, err := os.ReadFile(filepath.Join(env.bin, "hello"))
	if err != nil {
		t.Fatal(err)
	}
	img, err := imageWithFile(b, "hello", []string{"/hello"})
	if err != nil {
		t.Fatal(err)
	}
	h.push(t, "library/e2e-hello:1", img)
	// :2 is another image (one more layer): the node has none of it.
	extra, err := random.Layer(64<<10, types.OCILayer)
	if err != nil {
		t.Fatal(err)
	}
	img2, err := mutate.AppendLayers(img, extra)
	if err != nil {
		t.Fatal(err)
	}
	h.push(t, "library/e2e-hello:2", img2)
	h.take()
	const ref = "docker.io/library/e2e-hello:1"
	t.Cleanup(func() {
		// The tier's later tests find the node as it was: registered,
		// without these images.
		devcluster(t, "down")
		reviveNode(t)
		removeNodeImage(t, ref)
		removeNodeImage(t, "docker.io/library/e2e-hello:2")
	})
	removeNodeImage(t, ref)
	writeMirrorConfig(t, h)
	dir := filepath.Join(env.home, "hub-user")
	_ = os.MkdirAll(dir, 0o755)
	if err := os.WriteFile(filepath.Join(dir, "hello.yaml"), []byte(helloManifest(ref)), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := devclusterEnv(t, []string{mirrorsOnEnv}, "up", "--manifest", dir); r.code != 0 {
		t.Fatalf("up: exit %d", r.code)
	}
	gets, n, ips := h.take()
	if gets == 0 || ips[nodeIP] || !ips[hostIP] {
		t.Errorf("the hub served %d downloads (%d bytes) to %v; want them all through the agent on %s", gets, n, ips, hostIP)
	}
	if r := devcluster(t, "mirror", "ls"); !strings.Contains(r.stdout, "library/e2e-hello") {
		t.Errorf("the mirror store lacks the image:\n%s", r.stdout)
	}

	// down, the hub stopped, the image gone from the node: up runs the pod
	// again, from the store.
	if r := devclusterEnv(t, []string{mirrorsOnEnv}, "down"); r.code != 0 {
		t.Fatalf("down: exit %d", r.code)
	}
	reviveNode(t)
	h.stop()
	removeNodeImage(t, ref)
	if r := devclusterEnv(t, []string{mirrorsOnEnv}, "up", "--manifest", dir); r.code != 0 {
		t.Fatalf("up with the upstream stopped: exit %d\n%s", r.code, r.stderr)
	}
	if gets, _, _ := h.take(); gets != 0 {
		t.Errorf("the stopped hub served %d downloads", gets)
	}

	// The agent stopped, the hub up: a new image is pulled from the hub
	// by the node itself.
	h.restart(t)
	harness.KillAgents(env.home)
	admin, err := env.cp.Client()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "hub-fallback", Namespace: "team"},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "hello", Image: "docker.io/library/e2e-hello:2"}}}}
	if _, err := admin.CoreV1().Pods("team").Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	defer admin.CoreV1().Pods("team").Delete(ctx, pod.Name, metav1.DeleteOptions{})
	deadline := time.Now().Add(2 * time.Minute)
	for {
		p, err := admin.CoreV1().Pods("team").Get(ctx, pod.Name, metav1.GetOptions{})
		if err == nil && p.Status.Phase == corev1.PodRunning {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the pod did not run with the agent stopped: %v %+v", err, p.Status)
		}
		time.Sleep(500 * time.Millisecond)
	}
	if gets, _, ips := h.take(); gets == 0 || !ips[nodeIP] {
		t.Errorf("the fallback pull: %d downloads from %v; want them from the node %s", gets, ips, nodeIP)
	}
}

// reviveNode readies the node for the tier's next test after a down: the
// stand-in's delete unregisters the node and deletes the workloads'
// namespaces, so it waits until those are gone and no container runs,
// then restarts kubelet and kube-proxy (containerd and its images stay)
// and waits until the node is Ready again.
func reviveNode(t testing.TB) {
	t.Helper()
	waitNoTasks(t)
	if err := env.node.Reregister(context.Background(), env.cp); err != nil {
		t.Error(err)
	}
}

// waitNoTasks waits until the node runs no container and the workloads'
// namespaces the stand-in's delete removes are gone (after down), so the
// next up does not apply into a terminating namespace.
func waitNoTasks(t testing.TB) {
	t.Helper()
	admin, err := env.cp.Client()
	if err != nil {
		t.Fatal(err)
	}
	for _, ns := range []string{"team", "devcluster-samples"} {
		deadline := time.Now().Add(2 * time.Minute)
		for {
			_, err := admin.CoreV1().Namespaces().Get(context.Background(), ns, metav1.GetOptions{})
			if apierrors.IsNotFound(err) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("namespace %s still there after down: %v", ns, err)
			}
			time.Sleep(300 * time.Millisecond)
		}
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		n, err := env.node.RunningTasks(context.Background())
		if err == nil && n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal(errors.Join(err, fmt.Errorf("%d containers still run after down", n)))
		}
		time.Sleep(500 * time.Millisecond)
	}
}
