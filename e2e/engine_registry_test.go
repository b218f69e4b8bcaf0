//go:build e2e

package e2e

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/devcluster/devcluster/e2e/harness"
)

// engineForTest starts a Docker Engine of the test's own in the host's
// network namespace (its daemon must reach the registry on loopback), with
// no docker0 and no iptables rules, stopped when the test ends.
func engineForTest(t *testing.T) *harness.Engine {
	t.Helper()
	if err := harness.EngineAvailable(); err != nil {
		missing(t, "needs a Docker Engine (Debian package docker.io): %v", err)
	}
	// Short: the socket's path is limited.
	dir, err := os.MkdirTemp("", "dce-")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	e, err := harness.StartEngine(ctx, filepath.Join(dir, "e"), harness.EngineOptions{})
	if err != nil {
		_ = os.RemoveAll(dir)
		t.Fatalf("starting the Docker Engine: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("dockerd log:\n%s", e.Logs(40))
		}
		e.Stop()
		_ = os.RemoveAll(dir)
	})
	return e
}

// serveRegistry runs `devcluster registry serve` on a loopback port and
// returns its address.
func serveRegistry(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	addr := "127.0.0.1:" + freePort(t)
	serve := exec.Command(filepath.Join(binDir, "devcluster"), "registry", "serve", "--listen", addr, "--data-dir", filepath.Join(dir, "data"))
	serve.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + dir}
	var log bytes.Buffer
	serve.Stdout, serve.Stderr = &log, &log
	serve.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = serve.Process.Signal(syscall.SIGTERM)
		_ = serve.Wait()
		if t.Failed() {
			t.Logf("registry serve log:\n%s", log.String())
		}
	})
	for i := 0; ; i++ {
		resp, err := http.Get("http://" + addr + "/v2/")
		if err == nil {
			resp.Body.Close()
			return addr
		}
		if i > 100 {
			t.Fatalf("registry serve did not answer: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// importImage makes an image in the engine with `docker import` of a
// root filesystem the test writes (one file, content), and returns its ID.
func importImage(t *testing.T, e *harness.Engine, ref, content string) string {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, f := range []struct{ name, body string }{{"etc/", ""}, {"etc/e2e-image", content}} {
		h := &tar.Header{Name: f.name, Mode: 0o644, Size: int64(len(f.body)), Typeflag: tar.TypeReg, ModTime: time.Unix(1e9, 0)}
		if f.body == "" {
			h.Mode, h.Typeflag = 0o755, tar.TypeDir
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(f.body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "rootfs.tar")
	if err := os.WriteFile(file, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := e.Docker(ctx, "import", "--change", "CMD [\"/bin/true\"]", file, ref); err != nil {
		t.Fatal(err)
	}
	id, err := e.Docker(ctx, "image", "inspect", "--format", "{{.Id}}", ref)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(id)
}

// TestDockerAsRegistryClient: a real Docker Engine pushes to and pulls
// from devcluster's registry by localhost:<port> (localhost is an
// insecure registry to the engine by default, no daemon configuration),
// and `devcluster registry push` reads an image from the engine's own
// store through the docker client (no stand-in on PATH), so the registry
// holds exactly the engine's image.
func TestDockerAsRegistryClient(t *testing.T) {
	e := engineForTest(t)
	addr := serveRegistry(t)
	port := addr[strings.LastIndex(addr, ":")+1:]
	ctx := context.Background()
	id := importImage(t, e, "e2e/app:v1", "pushed by docker\n")

	// docker push localhost:<port>/x
	local := "localhost:" + port + "/x:v1"
	if _, err := e.Docker(ctx, "tag", "e2e/app:v1", local); err != nil {
		t.Fatal(err)
	}
	out, err := e.Docker(ctx, "push", local)
	if err != nil {
		t.Fatalf("docker push %s: %v\n%s", local, err, out)
	}
	m := regexp.MustCompile(`digest: (sha256:[0-9a-f]{64})`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("docker push printed no digest:\n%s", out)
	}
	desc, err := remote.Head(mustRef(t, addr+"/x:v1"))
	if err != nil || desc.Digest.String() != m[1] {
		t.Fatalf("the registry's x:v1 is %v (%v), docker pushed %s", desc, err, m[1])
	}
	t.Logf("docker push %s: %s", local, m[1])

	// docker pull of it, after the engine forgot it.
	if _, err := e.Docker(ctx, "rmi", local, "e2e/app:v1"); err != nil {
		t.Fatal(err)
	}
	if out, err := e.Docker(ctx, "pull", local); err != nil {
		t.Fatalf("docker pull %s: %v\n%s", local, err, out)
	}
	pulled, err := e.Docker(ctx, "image", "inspect", "--format", "{{.Id}}", local)
	if err != nil || strings.TrimSpace(pulled) != id {
		t.Fatalf("pulled image %q (%v), pushed %s", pulled, err, id)
	}

	// devcluster registry push <image in the engine>, through the real
	// client and engine.
	u := newUser(t)
	u.setPath(toolPath(t, filepath.Join(u.home, "docker-only"), map[string]string{"docker": e.CLI}))
	u.env = append(u.env, e.Env()...)
	id2 := importImage(t, e, "e2e/app:v2", "pushed by devcluster\n")
	r := u.devcluster("registry", "push", "--address", addr, "e2e/app:v2", "team/app:v2", "-o", "json")
	if r.code != 0 {
		t.Fatalf("registry push of an engine image: exit %d\n%s", r.code, r.stderr)
	}
	var res struct{ Reference, Digest string }
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		t.Fatal(err)
	}
	img, err := remote.Image(mustRef(t, addr+"/team/app:v2"))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := img.ConfigName()
	if err != nil || cfg.String() != id2 {
		t.Errorf("the registry's team/app:v2 has config %s (%v); the engine's image is %s", cfg, err, id2)
	}
	layers, _ := img.Layers()
	engineLayers, err := e.Docker(ctx, "image", "inspect", "--format", "{{json .RootFS.Layers}}", "e2e/app:v2")
	if err != nil || len(layers) != 1 {
		t.Fatalf("layers: %d, engine %s %v", len(layers), engineLayers, err)
	}
	if diff, _ := layers[0].DiffID(); !strings.Contains(engineLayers, diff.String()) {
		t.Errorf("the pushed layer %s is not the engine's %s", diff, engineLayers)
	}
	// And the engine pulls what devcluster pushed.
	back := "localhost:" + port + "/team/app:v2"
	if out, err := e.Docker(ctx, "pull", back); err != nil {
		t.Fatalf("docker pull %s: %v\n%s", back, err, out)
	}
	if got, _ := e.Docker(ctx, "image", "inspect", "--format", "{{.Id}}", back); strings.TrimSpace(got) != id2 {
		t.Errorf("docker pull of devcluster's push: %s, want %s", got, id2)
	}
	// dockerd 20.10 holds one platform per image (no containerd image
	// store, API 1.41): it refuses `docker save --platform`, devcluster
	// saves the image as it is and checks its platform against the one
	// asked for.
	if r := u.devcluster("registry", "push", "--address", addr, "--platform", "linux/s390x", "e2e/app:v2", "team/app:s390x"); r.code != 2 ||
		!strings.Contains(r.stderr, "is a linux/"+runtime.GOARCH+" image; the cluster runs linux/s390x") {
		t.Errorf("registry push of an engine image for another platform: exit %d\n%s", r.code, r.stderr)
	}
	// An image the engine does not have: the client's own error.
	if r := u.devcluster("registry", "push", "--address", addr, "e2e/absent:v1", "team/absent:v1"); r.code != 1 || !strings.Contains(r.stderr, "reading \"e2e/absent:v1\" from the Docker engine") {
		t.Errorf("registry push of an image the engine lacks: exit %d\n%s", r.code, r.stderr)
	}
}
