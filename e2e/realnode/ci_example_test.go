//go:build realnode

package realnode

import (
	"bufio"
	"bytes"
	"context"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"gopkg.in/yaml.v3"

	"github.com/devcluster/devcluster/e2e/harness"
	"github.com/devcluster/devcluster/image"
)

// TestCIExamplePipeline runs the Buildkite example's step as it is written,
// from a copy of examples/ci: its shell script with its trap, `devcluster
// up`, the image build, the push, the deploy with the app's manifests and
// nginx.conf. Only `docker buildx build` is stood in for: the image is built
// from the Dockerfile's COPY lines with devcluster's own image code, on the
// tier's offline nginx base instead of its FROM. Before the script ends, the
// app must answer through its LoadBalancer IP with its page and its
// nginx.conf's header; after it, the trap's `devcluster down` must have
// deleted the cluster.
func TestCIExamplePipeline(t *testing.T) {
	ctx := context.Background()
	root, err := harness.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	// The trap's down deletes the cluster, and with it (the stand-in's
	// emulation) the node's registration: the tests after this one get a
	// node that registers again.
	t.Cleanup(func() { reviveNode(t) })
	src := filepath.Join(root, "examples", "ci")
	app := filepath.Join(env.home, "ci-app")
	_ = os.RemoveAll(app)
	t.Cleanup(func() { _ = os.RemoveAll(app) })
	if err := os.CopyFS(app, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	// The example's devcluster.yaml with the tier's cluster name, shape and
	// registry port.
	var cfg map[string]any
	if err := yaml.Unmarshal(mustRead(t, filepath.Join(app, "devcluster.yaml")), &cfg); err != nil {
		t.Fatal(err)
	}
	port, err := strconv.Atoi(env.port)
	if err != nil {
		t.Fatal(err)
	}
	cfg["name"], cfg["provider"], cfg["registry"] = profile, "minikube", map[string]any{"port": port}
	if shape == "kind" {
		cfg["provider"] = "kind"
	}
	b, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(app, "devcluster.yaml"), b, 0o600); err != nil {
		t.Fatal(err)
	}

	// The build's result, made from the Dockerfile.
	const build = "7"
	img := buildFromDockerfile(t, ctx, app)
	prebuilt := filepath.Join(env.home, "ci-web.tar")
	if err := tarball.WriteToFile(prebuilt, name.MustParseReference("web:"+build), img); err != nil {
		t.Fatal(err)
	}
	// docker: `buildx build … --output type=docker,dest=FILE` writes the
	// prebuilt archive; anything else is the tier's stand-in.
	shim := filepath.Join(env.home, "ci-shim")
	_ = os.MkdirAll(shim, 0o755)
	dockerShim := `#!/bin/sh
if [ "$1 $2" = "buildx build" ]; then
  for a; do case "$a" in type=docker,dest=*) dest="${a#type=docker,dest=}" ;; esac; done
  [ -n "$dest" ] || { echo "no --output type=docker,dest=" >&2; exit 2; }
  exec cp "$CI_PREBUILT" "$dest"
fi
exec "` + filepath.Join(env.bin, "docker") + `" "$@"
`
	if err := os.WriteFile(filepath.Join(shim, "docker"), []byte(dockerShim), 0o755); err != nil {
		t.Fatal(err)
	}

	script := pipelineScript(t, filepath.Join(src, "buildkite-pipeline.yml"))
	// The check runs inside the step, before the trap deletes the cluster.
	out := filepath.Join(env.home, "ci-answer")
	_ = os.RemoveAll(out)
	_ = os.MkdirAll(out, 0o755)
	script += "\ncurl -fsS --retry 90 --retry-delay 1 --retry-all-errors --max-time 5 -D \"$CI_OUT/headers\" -o \"$CI_OUT/body\" \"http://$CI_NODE_IP/\"\n"

	runCtx, cancel := context.WithTimeout(ctx, 15*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(runCtx, "bash", "-c", script)
	cmd.Dir = app
	cmd.Env = append(tierEnv(shim+":"+env.bin),
		// What Buildkite and the step's env: give it.
		"BUILDKITE=true", "BUILDKITE_BUILD_NUMBER="+build, "BUILDKITE_BUILD_CHECKOUT_PATH="+app, "REGISTRY=localhost:"+env.port,
		"CI_PREBUILT="+prebuilt, "CI_OUT="+out, "CI_NODE_IP="+nodeIP)
	var o bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &o
	err = cmd.Run()
	t.Logf("the pipeline's step:\n%s", o.String())
	if err != nil {
		t.Fatalf("the pipeline's step failed: %v", err)
	}
	body, _ := os.ReadFile(filepath.Join(out, "body"))
	headers, _ := os.ReadFile(filepath.Join(out, "headers"))
	if !strings.Contains(string(body), "web is up") {
		t.Errorf("the app's page: %q", body)
	}
	if !strings.Contains(strings.ToLower(string(headers)), "x-app-config: web/v1") {
		t.Errorf("the example's nginx.conf is not in effect: %s", headers)
	}
	for _, want := range []string{"deployment/web", "apps"} {
		if !strings.Contains(o.String(), want) {
			t.Errorf("the deploy's output does not name %s", want)
		}
	}
	// The trap's down deleted the cluster.
	st := exec.Command(filepath.Join(env.bin, "devcluster"), "status")
	st.Dir, st.Env = app, cmd.Env
	if b, err := st.CombinedOutput(); err == nil || st.ProcessState.ExitCode() != 3 {
		t.Errorf("after the step, status: %v (want exit 3: no cluster)\n%s", err, b)
	}
}

// pipelineScript is the command of the Buildkite example's one step.
func pipelineScript(t *testing.T, file string) string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var p struct {
		Steps []struct{ Command string }
	}
	if err := yaml.Unmarshal(b, &p); err != nil {
		t.Fatal(err)
	}
	if len(p.Steps) != 1 || !strings.Contains(p.Steps[0].Command, "trap 'devcluster down' EXIT") {
		t.Fatalf("the example is not one step with down in a trap: %+v", p.Steps)
	}
	return p.Steps[0].Command
}

// buildFromDockerfile builds the app's image as its Dockerfile says, from
// its COPY lines, on the tier's nginx base (its FROM pulls from a registry).
func buildFromDockerfile(t *testing.T, ctx context.Context, dir string) v1.Image {
	t.Helper()
	base, err := image.LoadBase(ctx, "oci:"+env.nginxBase)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(dir, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	files := map[string][]byte{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		w := strings.Fields(sc.Text())
		if len(w) != 3 || w[0] != "COPY" {
			continue
		}
		from, to := filepath.Join(dir, w[1]), strings.TrimPrefix(w[2], "/")
		st, err := os.Stat(from)
		if err != nil {
			t.Fatalf("Dockerfile: %v", err)
		}
		if !st.IsDir() {
			files[to] = mustRead(t, from)
			continue
		}
		_ = filepath.WalkDir(from, func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				rel, _ := filepath.Rel(from, p)
				files[filepath.ToSlash(filepath.Join(to, rel))] = mustRead(t, p)
			}
			return err
		})
	}
	if len(files) < 2 {
		t.Fatalf("the Dockerfile copies %d files", len(files))
	}
	img, err := image.AddFiles(base, files)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
