//go:build realnode

// Package realnode is the real-node end-to-end tier: a control plane and one
// real worker node (containerd, kubelet, kube-proxy, runc, CNI) in a network
// namespace shaped like minikube's docker network, driven through the
// devcluster binary and the minikube stand-in. Pods really pull from
// devcluster's registry and really serve HTTP through the LoadBalancer IP.
// It needs root, cgroup v1 or v2 mounted under /sys/fs/cgroup, iproute2,
// iptables, runc, containernetworking-plugins, debootstrap and curl.
package realnode

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/devcluster/devcluster/bootstrap"
	"github.com/devcluster/devcluster/e2e/harness"
	"github.com/devcluster/devcluster/internal/testutil"
	"github.com/devcluster/devcluster/registry"
)

// The node network's shape. By default it is minikube's docker network and
// the node is the profile's; with DEVCLUSTER_REALNODE_SHAPE=kind it is
// kind's (172.18.0.0/16, gateway .1, node .2) and the node is the kind
// cluster's control-plane container (the TestKind* tests).
var (
	shape    = "minikube"
	profile  = "e2e-node" // the cluster's name
	nodeName = profile
	hostIP   = "192.168.49.1"
	nodeIP   = "192.168.49.2"
	prefix   = "/24"
)

// kindTools are real kind and kubectl, for the kind shape.
var kindTools struct{ kind, kubectl string }

var env struct {
	cp        *harness.ControlPlane
	node      *harness.RealNode
	netw      *harness.NodeNetwork
	bin       string
	home      string
	port      string
	nginxBase string
	pauseRef  string
}

func TestMain(m *testing.M) { os.Exit(run(m)) }

func logf(f string, a ...any) { fmt.Fprintf(os.Stderr, f+"\n", a...) }

func run(m *testing.M) int {
	if os.Geteuid() != 0 {
		logf("the real-node tier needs root")
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	switch v := os.Getenv("DEVCLUSTER_REALNODE_SHAPE"); v {
	case "", "minikube":
	case "kind":
		shape, profile, nodeName, hostIP, nodeIP, prefix = "kind", "e2e-kind", "e2e-kind-control-plane", "172.18.0.1", "172.18.0.2", "/16"
		var err error
		if kindTools.kind, err = harness.EnsureGoInstall(ctx, "sigs.k8s.io/kind@"+harness.KindVersion, "kind"); err != nil {
			logf("building kind: %v", err)
			return 1
		}
		if kindTools.kubectl, err = harness.EnsureKubectl(ctx, logf); err != nil {
			logf("building kubectl: %v", err)
			return 1
		}
	default:
		logf("DEVCLUSTER_REALNODE_SHAPE=%q: use minikube or kind", v)
		return 1
	}
	cpBins, err := harness.EnsureBinaries(ctx, logf)
	if err != nil {
		logf("%v", err)
		return 1
	}
	nodeBins, err := harness.EnsureNodeBinaries(ctx, logf)
	if err != nil {
		logf("%v", err)
		return 1
	}
	if env.nginxBase, err = harness.EnsureNginxBase(ctx, logf); err != nil {
		logf("%v", err)
		return 1
	}
	work, err := os.MkdirTemp("", "devcluster-realnode-")
	if err != nil {
		logf("%v", err)
		return 1
	}
	defer os.RemoveAll(work)
	env.home = filepath.Join(work, "home")
	env.bin = filepath.Join(work, "bin")
	_ = os.MkdirAll(env.home, 0o755)
	root, _ := harness.RepoRoot()
	for out, pkg := range map[string]string{"devcluster": "./cmd/devcluster", "minikube": "./internal/fake/minikube/cmd/minikube",
		"docker": "./internal/fake/docker/cmd/docker", "pause": "./e2e/realnode/pause", "hello": "./e2e/realnode/hello"} {
		cmd := exec.Command("go", "build", "-o", filepath.Join(env.bin, out), pkg)
		cmd.Dir, cmd.Env = root, append(os.Environ(), "CGO_ENABLED=0")
		if b, err := cmd.CombinedOutput(); err != nil {
			logf("building %s: %v\n%s", pkg, err, b)
			return 1
		}
	}
	_ = os.WriteFile(filepath.Join(env.bin, "sudo"), []byte("#!/bin/sh\nexec \"$@\"\n"), 0o755)

	start := time.Now()
	env.netw, err = harness.CreateNodeNetwork(fmt.Sprintf("dcrn%d", os.Getpid()%100000), hostIP+prefix, nodeIP+prefix)
	if err != nil {
		logf("%v", err)
		return 1
	}
	defer env.netw.Delete()
	cpDir := filepath.Join(work, "controlplane")
	_ = os.MkdirAll(cpDir, 0o700)
	env.cp, err = harness.StartControlPlane(ctx, cpBins, cpDir, harness.InNetNS(env.netw.Name, nodeIP), harness.WithoutKwok())
	if err != nil {
		logf("control plane: %v", err)
		return 1
	}
	defer env.cp.Stop()

	// The registry port, and the pause image seeded into the registry's
	// storage before the agent starts, so the node can create sandboxes.
	port, err := testutil.FreePort()
	if err != nil {
		logf("a registry port: %v", err)
		return 1
	}
	env.port = strconv.Itoa(port)
	dataDir := filepath.Join(env.home, ".local", "share", "devcluster", profile, "registry")
	if err := seedPause(ctx, filepath.Join(env.bin, "pause"), dataDir); err != nil {
		logf("seeding the pause image: %v", err)
		return 1
	}
	env.pauseRef = hostIP + ":" + env.port + "/e2e/pause:v1"
	env.node, err = harness.StartRealNode(ctx, env.cp, env.netw, nodeBins, filepath.Join(work, "node"), nodeName, env.pauseRef)
	if err != nil {
		logf("real node: %v\n%s", err, env.cp.Logs(30))
		return 1
	}
	defer env.node.Stop()
	logf("control plane and real node started in %s", time.Since(start).Round(time.Millisecond))
	code := m.Run()
	harness.KillAgents(env.home)
	// After the last test's `down` (minikube's delete, emulated by the
	// stand-in), no container may be left on the node.
	deadline := time.Now().Add(2 * time.Minute)
	for code == 0 {
		n, err := env.node.RunningTasks(context.Background())
		if err == nil && n == 0 {
			break
		}
		if time.Now().After(deadline) {
			logf("containers still running on the node after down: %d (%v)", n, err)
			code = 1
		}
		time.Sleep(time.Second)
	}
	if code != 0 {
		logf("component logs:\n%s\n%s", env.cp.Logs(60), env.node.Logs(80))
	}
	return code
}

// seedPause pushes the pause image into the registry storage at dataDir
// through a short-lived in-process registry.
func seedPause(ctx context.Context, pauseBin, dataDir string) error {
	b, err := os.ReadFile(pauseBin)
	if err != nil {
		return err
	}
	img, err := imageWithFile(b, "pause", []string{"/pause"})
	if err != nil {
		return err
	}
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	srv, err := registry.New(sctx, registry.Options{DataDir: dataDir, Listen: []string{"127.0.0.1:0"}})
	if err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(sctx) }()
	_, err = registry.PushImage(ctx, img, srv.Addrs()[0], "e2e/pause:v1")
	cancel()
	<-done
	return err
}

// imageWithFile is an image of one executable file.
func imageWithFile(content []byte, name string, entrypoint []string) (v1.Image, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o755, Size: int64(len(content)), Typeflag: tar.TypeReg}); err != nil {
		return nil, err
	}
	if _, err := tw.Write(content); err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	raw := buf.Bytes()
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(raw)), nil },
		tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, err
	}
	img, err := mutate.Append(empty.Image, mutate.Addendum{Layer: layer})
	if err != nil {
		return nil, err
	}
	img = mutate.MediaType(img, types.OCIManifestSchema1)
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cfg = cfg.DeepCopy()
	cfg.OS, cfg.Architecture = "linux", "amd64"
	cfg.Config.Entrypoint = entrypoint
	return mutate.ConfigFile(img, cfg)
}

type result struct {
	code           int
	stdout, stderr string
}

func devcluster(t *testing.T, args ...string) result {
	t.Helper()
	return devclusterEnv(t, nil, args...)
}

// tierEnv is the environment of a command of the tier: PATH with bin
// first, HOME, kubeconfig and the stand-in's settings.
func tierEnv(bin string) []string {
	return []string{
		"PATH=" + bin + ":/usr/sbin:/usr/bin:/sbin:/bin", "HOME=" + env.home, "MINIKUBE_HOME=" + env.home,
		"KUBECONFIG=" + filepath.Join(env.home, ".kube", "config"), "CI=true", "TERM=dumb",
		"STANDIN_APISERVER=" + env.cp.URL, "STANDIN_TOKEN=" + env.cp.Token, "STANDIN_NODE_IP=" + nodeIP, "STANDIN_REAL_NODE=1",
		"STANDIN_SSH_EXEC=" + strings.Join(env.node.ExecPrefix(), " "),
	}
}

// devclusterEnv runs the binary with extra environment variables.
func devclusterEnv(t testing.TB, extra []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	r := runDevcluster(t, devclusterCommand(ctx, extra, args...))
	t.Logf("$ devcluster %s → exit %d\n%s%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	return r
}

// devclusterCommand is the binary's command line in the tier's environment.
func devclusterCommand(ctx context.Context, extra []string, args ...string) *exec.Cmd {
	if !slices.Contains(extra, mirrorsOnEnv) {
		args = harness.NoMirrors(args)
	}
	cmd := exec.CommandContext(ctx, filepath.Join(env.bin, "devcluster"), args...)
	cmd.Dir = env.home
	cmd.Env = append(tierEnv(env.bin), extra...)
	return cmd
}

// runDevcluster runs cmd and returns what it printed and its exit code.
func runDevcluster(t testing.TB, cmd *exec.Cmd) result {
	t.Helper()
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	r := result{stdout: o.String(), stderr: e.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return r
}

// devclusterEnvironment is the environment the tier runs devcluster in.
func devclusterEnvironment() []string { return tierEnv(env.bin) }

// TestSampleServesThroughLoadBalancer is scenario 1 and 4: `up` builds the
// nginx sample, the node pulls it through devcluster's registry via the
// hosts.toml written over `minikube ssh`, it rolls out, and the page answers
// at the LoadBalancer IP with the ConfigMap's configuration in effect; a
// re-run changes nothing and the page still answers.
func TestSampleServesThroughLoadBalancer(t *testing.T) {
	writeConfig(t)
	start := time.Now()
	r := devcluster(t, "up", "-o", "json")
	if r.code != 0 {
		t.Fatalf("up: exit %d", r.code)
	}
	var res bootstrap.Result
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		t.Fatal(err)
	}
	if res.Registry == nil || !contains(res.Registry.Listen, hostIP+":"+env.port) {
		t.Fatalf("the registry does not listen on the cluster-facing %s:%s: %+v", hostIP, env.port, res.Registry)
	}
	body, header := curl(t, "http://"+nodeIP+":8080/", time.Minute)
	t.Logf("nothing → page through the LoadBalancer in %s", time.Since(start).Round(time.Millisecond))
	if !strings.Contains(body, "It works: devcluster sample-web") {
		t.Errorf("unexpected page: %q", body)
	}
	if header.Get("X-Devcluster-Config") != "sample-web/v1" {
		t.Errorf("the ConfigMap's nginx.conf is not in effect: X-Devcluster-Config = %q", header.Get("X-Devcluster-Config"))
	}

	admin, err := env.cp.Client()
	if err != nil {
		t.Fatal(err)
	}
	before, _ := admin.CoreV1().Pods("devcluster-samples").List(context.Background(), metav1.ListOptions{})
	r = devcluster(t, "up")
	if r.code != 0 || !strings.Contains(r.stdout, "(no changes)") {
		t.Errorf("re-run: exit %d, not converged", r.code)
	}
	after, _ := admin.CoreV1().Pods("devcluster-samples").List(context.Background(), metav1.ListOptions{})
	if podSet(before.Items) != podSet(after.Items) {
		t.Errorf("re-run restarted pods: %s → %s", podSet(before.Items), podSet(after.Items))
	}
	if body, _ := curl(t, "http://"+nodeIP+":8080/", 10*time.Second); !strings.Contains(body, "It works") {
		t.Errorf("page gone after the re-run")
	}
}

// writeConfig writes the tier's devcluster.yaml: the cluster of the shape
// (provider kind in kind's), the registry port, the offline nginx base.
func writeConfig(t testing.TB) {
	t.Helper()
	provider := "minikube"
	if shape == "kind" {
		provider = "kind"
	}
	cfg := fmt.Sprintf(`apiVersion: devcluster.dev/v1alpha1
kind: Cluster
name: %s
provider: %s
registry:
  port: %s
workloads:
  sampleBase: oci:%s
  timeout: 3m
`, profile, provider, env.port, env.nginxBase)
	if err := os.WriteFile(filepath.Join(env.home, "devcluster.yaml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
}

// curl polls url until it answers 200 (kube-proxy syncs at most once a
// second) and returns the body and headers.
func curl(t *testing.T, url string, within time.Duration) (string, http.Header) {
	t.Helper()
	deadline := time.Now().Add(within)
	c := &http.Client{Timeout: 2 * time.Second}
	var last error
	for time.Now().Before(deadline) {
		resp, err := c.Get(url)
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return string(b), resp.Header
			}
			last = fmt.Errorf("HTTP %d: %s", resp.StatusCode, b)
		} else {
			last = err
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("%s did not answer within %s: %v", url, within, last)
	return "", nil
}

func contains(list []string, s string) bool {
	for _, l := range list {
		if l == s {
			return true
		}
	}
	return false
}

func podSet(pods []corev1.Pod) string {
	var uids []string
	for _, p := range pods {
		uids = append(uids, p.Name+"/"+string(p.UID))
	}
	sort.Strings(uids)
	return strings.Join(uids, ",")
}

// TestUserImage is scenario 2: a small image pushed with `devcluster
// registry push` and referenced as localhost:<port>/… in a user manifest
// runs on the node (the reference is rewritten to the cluster-side address)
// and answers through its LoadBalancer.
func TestUserImage(t *testing.T) {
	writeConfig(t)
	b, err := os.ReadFile(filepath.Join(env.bin, "hello"))
	if err != nil {
		t.Fatal(err)
	}
	img, err := imageWithFile(b, "hello", []string{"/hello"})
	if err != nil {
		t.Fatal(err)
	}
	tarPath := filepath.Join(env.home, "hello.tar")
	ref, _ := name.ParseReference("example.com/hello:v1")
	if err := tarball.WriteToFile(tarPath, ref, img); err != nil {
		t.Fatal(err)
	}
	if r := devcluster(t, "registry", "push", tarPath, "team/hello:v1"); r.code != 0 {
		t.Fatalf("registry push: exit %d", r.code)
	}
	dir := filepath.Join(env.home, "user")
	_ = os.MkdirAll(dir, 0o755)
	manifest := fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata: {name: hello, namespace: team}
spec:
  replicas: 1
  selector: {matchLabels: {app: hello}}
  template:
    metadata: {labels: {app: hello}}
    spec:
      containers:
        - name: hello
          image: localhost:%s/team/hello:v1
          ports: [{containerPort: 8080}]
          readinessProbe: {httpGet: {path: /, port: 8080}, periodSeconds: 1}
---
apiVersion: v1
kind: Service
metadata: {name: hello, namespace: team}
spec:
  type: LoadBalancer
  selector: {app: hello}
  ports: [{port: 9090, targetPort: 8080}]
`, env.port)
	if err := os.WriteFile(filepath.Join(dir, "hello.yaml"), []byte(manifest), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := devcluster(t, "up", "--manifest", dir); r.code != 0 {
		t.Fatalf("up --manifest: exit %d", r.code)
	}
	body, _ := curl(t, "http://"+nodeIP+":9090/", time.Minute)
	if !strings.Contains(body, "hello from the user image on hello-") {
		t.Errorf("unexpected answer: %q", body)
	}
}

// TestBrokenImage is scenario 3: a reference to an image that does not
// exist is reported with pod and reason within 15 s.
func TestBrokenImage(t *testing.T) {
	writeConfig(t)
	broken := filepath.Join(env.home, "broken.yaml")
	manifest := fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata: {name: broken, namespace: team}
spec:
  replicas: 1
  selector: {matchLabels: {app: broken}}
  template:
    metadata: {labels: {app: broken}}
    spec:
      containers: [{name: main, image: "localhost:%s/team/does-not-exist:v1"}]
`, env.port)
	if err := os.WriteFile(broken, []byte(manifest), 0o644); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	r := devcluster(t, "up", "--manifest", broken)
	took := time.Since(start)
	if r.code == 0 {
		t.Fatal("up with a missing image succeeded")
	}
	if !strings.Contains(r.stderr, "Deployment team/broken is failing: pod broken-") ||
		!(strings.Contains(r.stderr, "ErrImagePull") || strings.Contains(r.stderr, "ImagePullBackOff")) {
		t.Errorf("the failure does not name the pod and the pull error:\n%s", r.stderr)
	}
	if took > 15*time.Second {
		t.Errorf("reported after %s, want under 15 s", took)
	}
	t.Logf("missing image reported after %s", took.Round(time.Millisecond))
}

// TestDeployOnRealNode: `devcluster deploy` rolls out a second sample
// image pushed to devcluster's registry (the node really pulls it), a
// changed nginx.conf changes the header the page is served with, and a
// crash-looping image is reported with its real log lines and rolled back —
// under GitHub Actions, where those lines (workflow commands, escape
// sequences) must run no command in the runner.
func TestDeployOnRealNode(t *testing.T) {
	ctx := context.Background()
	writeConfig(t)
	if r := devcluster(t, "up"); r.code != 0 {
		t.Fatalf("up: exit %d", r.code)
	}
	base := pushPage(t, "devcluster/sample-web:v2", "<h1>devcluster sample-web v2</h1>\n")
	deploy := func(args ...string) result {
		return devcluster(t, append([]string{"deploy", "deployment/web", "-n", "devcluster-samples", "--timeout", "2m"}, args...)...)
	}

	// A new image: the node pulls it from the registry and the page changes.
	if r := deploy("--image", "nginx=localhost:"+env.port+"/devcluster/sample-web:v2"); r.code != 0 {
		t.Fatalf("deploy --image: exit %d", r.code)
	}
	if body := curlUntil(t, "http://"+nodeIP+":8080/", time.Minute, func(b string, _ http.Header) bool { return strings.Contains(b, "sample-web v2") }); body == "" {
		t.Error("the new page is not served")
	}

	// A new nginx.conf: the header changes.
	admin, err := env.cp.Client()
	if err != nil {
		t.Fatal(err)
	}
	cm, err := admin.CoreV1().ConfigMaps("devcluster-samples").Get(ctx, "web-nginx", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(env.home, "nginx.conf")
	if err := os.WriteFile(conf, []byte(strings.ReplaceAll(cm.Data["nginx.conf"], "sample-web/v1", "sample-web/v2")), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := deploy("--configmap", "web-nginx="+conf); r.code != 0 {
		t.Fatalf("deploy --configmap: exit %d", r.code)
	}
	curlUntil(t, "http://"+nodeIP+":8080/", time.Minute, func(_ string, h http.Header) bool { return h.Get("X-Devcluster-Config") == "sample-web/v2" })

	// A crash-looping image: reported with its own log lines, rolled back.
	// It runs under GitHub Actions, its log full of workflow commands.
	crasher, err := mutateEntrypoint(base, []string{"/bin/sh", "-c", crasherScript})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := registry.PushImage(ctx, crasher, "127.0.0.1:"+env.port, "devcluster/crasher:v1"); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	summary := filepath.Join(env.home, "github-step-summary.md")
	_ = os.Remove(summary)
	r := devclusterEnv(t, []string{"GITHUB_ACTIONS=true", "GITHUB_STEP_SUMMARY=" + summary}, "deploy", "deployment/web", "-n", "devcluster-samples",
		"--timeout", "2m", "--image", "nginx=localhost:"+env.port+"/devcluster/crasher:v1", "--rollback-on-failure", "-o", "json")
	if r.code != 1 {
		t.Fatalf("crash-looping image: exit %d, want 1", r.code)
	}
	t.Logf("crash loop reported and rolled back in %s", time.Since(start).Round(time.Millisecond))
	var res bootstrap.DeployResult
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		t.Fatal(err)
	}
	if res.Failure == nil || !strings.Contains(strings.Join(res.Failure.Logs, "\n"), "config file /etc/app.conf is missing") {
		t.Errorf("the failure does not carry the container's log lines: %+v", res.Failure)
	}
	if !res.RolledBack {
		t.Error("not rolled back")
	}
	// The diagnostics bundle the failed deploy wrote holds the crashed
	// container's real log lines.
	found := false
	_ = filepath.WalkDir(filepath.Join(env.home, "devcluster-diagnostics", "logs"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if b, _ := os.ReadFile(p); strings.Contains(string(b), "config file /etc/app.conf is missing") {
				found = true
			}
		}
		return nil
	})
	if !found {
		t.Error("the diagnostics bundle does not hold the crashed container's log lines")
	}
	checkGitHubLog(t, r, summary)
	curlUntil(t, "http://"+nodeIP+":8080/", time.Minute, func(b string, _ http.Header) bool { return strings.Contains(b, "sample-web v2") })
}

// checkGitHubLog checks the output of the crasher's deploy under GitHub
// Actions: devcluster shows the container's log lines without their escape
// sequences, and the GitHub runner, reading the output by its own rules,
// acts on none of them — the failure is devcluster's one ::error
// annotation, nothing is masked, no group closed. The job summary holds
// the lines in one code block they cannot close.
func checkGitHubLog(t *testing.T, r result, summary string) {
	t.Helper()
	for _, want := range []string{"::add-mask::devcluster", "::error file=app.go,line=1::a fake annotation", "mid-line ##[warning]legacy", "red  osc8 end"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("the output lacks the log line %q", want)
		}
	}
	if strings.ContainsAny(r.stderr+r.stdout, "\x1b\a") {
		t.Error("escape sequences from the container's log in the output")
	}
	for _, out := range []string{r.stderr, r.stdout} {
		for _, c := range testutil.ForeignGitHubCommands(out) {
			t.Errorf("the runner would act on line %d: %q (%s)", c.Line, c.Raw, c.Name)
		}
	}
	annotations := 0
	for _, c := range testutil.GitHubCommands(r.stderr) {
		if c.Name == "error" {
			annotations++
			if !strings.Contains(c.Properties["title"], "devcluster: rolling out") {
				t.Errorf("an error annotation that is not devcluster's failure: %q", c.Raw)
			}
		}
	}
	if annotations != 1 {
		t.Errorf("%d error annotations, want devcluster's one", annotations)
	}
	b, err := os.ReadFile(summary)
	if err != nil {
		t.Fatal(err)
	}
	blocks, outside := testutil.MarkdownCodeBlocks(string(b))
	if len(blocks) != 1 || !slices.Contains(blocks[0], "</details><img src=x>") || !slices.Contains(blocks[0], "```") {
		t.Errorf("the summary's code blocks %q do not hold the log lines", blocks)
	}
	if rest := strings.Join(outside, "\n"); strings.Contains(rest, "<img") || strings.Count(rest, "</details>") != 1 {
		t.Errorf("log text outside the summary's code block:\n%s", b)
	}
}

// crasherScript is a crash-looping container that says why, then prints
// what a hostile or careless program may print: GitHub workflow commands
// (v2, indented, legacy mid-line, add-mask, a fake file annotation,
// stop-commands), a Buildkite group header, a code fence and HTML for the
// job summary, and terminal escape sequences (colour, Buildkite's OSC 1339
// link, an OSC 8 hyperlink).
const crasherScript = `echo starting the crasher; echo 'config file /etc/app.conf is missing' >&2
printf '%s\n' '::add-mask::devcluster' '::error file=app.go,line=1::a fake annotation' '##[error]legacy' \
  '  ::stop-commands::pwned' 'mid-line ##[warning]legacy' '--- a fake Buildkite group' '` + "```" + `' '</details><img src=x>'
printf '\033[31mred\033[0m \033]1339;url=https://example.invalid;content=link\007 \033]8;;https://example.invalid\033\\osc8\033]8;;\033\\ end\n'
exit 3`

// curlUntil polls url until ok accepts the answer, and returns the body.
func curlUntil(t *testing.T, url string, within time.Duration, ok func(string, http.Header) bool) string {
	t.Helper()
	deadline := time.Now().Add(within)
	var last string
	for time.Now().Before(deadline) {
		resp, err := (&http.Client{Timeout: 3 * time.Second}).Get(url)
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			last = string(b)
			if ok(last, resp.Header) {
				return last
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("%s did not give the expected answer within %s; last: %q", url, within, last)
	return ""
}

// mutateEntrypoint is img with another entrypoint.
func mutateEntrypoint(img v1.Image, entrypoint []string) (v1.Image, error) {
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cfg = cfg.DeepCopy()
	cfg.Config.Entrypoint, cfg.Config.Cmd = entrypoint, nil
	return mutate.ConfigFile(img, cfg)
}

// TestDown checks what `down` itself is responsible for: it asks minikube
// to delete the profile, stops the agent (no process, the registry answers
// on neither address, the LoadBalancer controller is gone with it), and
// keeps the registry's images. That the machine's containers then vanish is
// minikube's part (the stand-in emulates it); teardown checks the node is
// left clean.
func TestDown(t *testing.T) {
	writeConfig(t)
	// An image of this test's own, so the check below needs no other test.
	if r := devcluster(t, "up"); r.code != 0 {
		t.Fatalf("up: exit %d", r.code)
	}
	keep, err := random.Image(1024, 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := registry.PushImage(context.Background(), keep, "127.0.0.1:"+env.port, "team/keep:v1"); err != nil {
		t.Fatal(err)
	}
	calls := filepath.Join(env.home, "down-calls.log")
	r := devclusterEnv(t, []string{"STANDIN_CALL_LOG=" + calls}, "down", "-o", "json")
	if r.code != 0 {
		t.Fatalf("down: exit %d", r.code)
	}
	var res struct {
		Deleted, AgentStopped bool
		Kept                  string
	}
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		t.Fatal(err)
	}
	if !res.Deleted || !res.AgentStopped {
		t.Errorf("down reports %+v, want the cluster deleted and the agent stopped", res)
	}
	b, _ := os.ReadFile(calls)
	if !strings.Contains(string(b), `["delete","-p","`+profile+`"]`) {
		t.Errorf("down did not run minikube delete -p %s; minikube calls:\n%s", profile, b)
	}
	stateDir := filepath.Join(env.home, ".local", "state", "devcluster", profile)
	if _, err := os.Stat(filepath.Join(stateDir, "agent.json")); err == nil {
		t.Error("the agent's record is still there after down")
	}
	if n := testutil.AgentProcesses(stateDir); n != 0 {
		t.Errorf("%d agent processes run after down", n)
	}
	for _, host := range []string{"127.0.0.1", hostIP} {
		if c, err := net.DialTimeout("tcp", host+":"+env.port, time.Second); err == nil {
			c.Close()
			t.Errorf("the registry still listens on %s after down", host)
		}
	}
	dataDir := filepath.Join(env.home, ".local", "share", "devcluster", profile, "registry")
	if res.Kept != dataDir {
		t.Errorf("down kept %q, want the registry data %s", res.Kept, dataDir)
	}
	if _, err := os.Stat(filepath.Join(dataDir, "docker", "registry", "v2", "repositories", "team", "keep")); err != nil {
		t.Errorf("the pushed image is gone after down: %v", err)
	}
}
