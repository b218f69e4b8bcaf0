package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	fakeminikube "github.com/devcluster/devcluster/internal/fake/minikube"
	"github.com/devcluster/devcluster/internal/problem"
	"github.com/devcluster/devcluster/internal/run"
)

// Bad input is refused with exit 2 and a message that says what to do —
// never silently replaced by a default, and never a whole directory applied.
func TestUsageMistakesAreRefused(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"up", "extra"}, `up takes no arguments, got ["extra"]`},
		{[]string{"up", "--name", ""}, "--name: the value is empty"},
		{[]string{"up", "--memory", ""}, "--memory: the value is empty"},
		{[]string{"up", "--registry-port", "0"}, "--registry-port: 0 is not a port"},
		{[]string{"up", "--manifest", ""}, "--manifest: the path is empty"},
		{[]string{"up", "--name", strings.Repeat("a", 300)}, "300 characters, at most 50"},
		{[]string{"up", "--name", "Dev"}, "use lower case"},
		{[]string{"status", "now"}, "status takes no arguments"},
		{[]string{"down", "--purge", "yes"}, "down takes no arguments"},
		{[]string{"-f", "a.yaml", "up", "-f", "b.yaml"}, `--config is given twice, as "a.yaml" and "b.yaml"`},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			h := newHarness(t)
			if code := h.run(tc.args...); code != ExitUsage {
				t.Fatalf("exit %d, want %d\n%s", code, ExitUsage, h.stderr.String())
			}
			if !strings.Contains(h.stderr.String(), tc.want) {
				t.Errorf("stderr lacks %q:\n%s", tc.want, h.stderr.String())
			}
			if calls := h.runner.(interface{ Calls() [][]string }).Calls(); len(calls) != 0 {
				t.Errorf("minikube was run: %q", calls)
			}
		})
	}
}

// -f after the command means the same as before it.
func TestConfigFlagAfterTheCommand(t *testing.T) {
	h := newHarness(t)
	cfg := filepath.Join(h.dir, "other.yaml")
	if err := os.WriteFile(cfg, []byte("apiVersion: devcluster.dev/v1alpha1\nkind: Cluster\nname: other\nregistry:\n  enabled: false\nloadBalancer:\n  enabled: false\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code := h.run("status", "-f", cfg); code != ExitNotRunning || !strings.Contains(h.stdout.String(), "other") {
		t.Fatalf("status -f: exit %d\n%s%s", code, h.stdout.String(), h.stderr.String())
	}
}

// Ctrl-C while the configuration is read from a pipe that never closes:
// exit 130 at once, saying only "interrupted".
func TestInterruptWhileReadingConfigFromStdin(t *testing.T) {
	h := newHarness(t)
	r, w := io.Pipe()
	defer w.Close()
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	start := time.Now()
	code := h.runWith(ctx, r, "-f", "-", "up")
	if code != ExitInterrupted {
		t.Fatalf("exit %d, want %d\n%s", code, ExitInterrupted, h.stderr.String())
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %s after the interrupt", d)
	}
	out := h.stderr.String()
	if !strings.Contains(out, "interrupted") || strings.Contains(out, "To fix") || strings.Contains(out, "profile list") {
		t.Errorf("stderr after an interrupt:\n%s", out)
	}
}

func TestInterruptDuringUpSaysInterruptedWithoutAdvice(t *testing.T) {
	h := newHarness(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if code := h.runWith(ctx, strings.NewReader(""), "up"); code != ExitInterrupted {
		t.Fatalf("exit %d, want %d\n%s", code, ExitInterrupted, h.stderr.String())
	}
	out := h.stderr.String()
	if !strings.Contains(out, "interrupted") || strings.Contains(out, "To fix") || strings.Contains(out, "minikube profile list") {
		t.Errorf("stderr after an interrupt:\n%s", out)
	}
}

// `registry serve` on a taken port is an error with exit 1 that names the
// port and who holds it — not a SIGSEGV with exit 2.
func TestRegistryServeOnATakenPort(t *testing.T) {
	h := newHarness(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	for _, addr := range []string{"127.0.0.1:" + port, "nope"} {
		code := h.run("registry", "serve", "--data-dir", filepath.Join(h.dir, "data"), "--listen", addr)
		if code != ExitFailed {
			t.Errorf("serve --listen %s: exit %d, want %d\n%s", addr, code, ExitFailed, h.stderr.String())
		}
		if addr != "nope" && !strings.Contains(h.stderr.String(), "port "+port+" is in use by PID") {
			t.Errorf("serve on a taken port:\n%s", h.stderr.String())
		}
		if addr == "nope" && !strings.Contains(h.stderr.String(), `invalid listen address "nope"`) {
			t.Errorf("serve --listen nope:\n%s", h.stderr.String())
		}
	}
}

// gc restarts the agent with every setting it had, the LoadBalancer
// controller included, and -q keeps it quiet.
func TestGCKeepsTheAgentsSettingsAndIsQuiet(t *testing.T) {
	h := newHarness(t)
	h.writeConfig("  clusterAddress: 127.0.0.1\n")
	if code := h.run("up"); code != 0 {
		t.Fatalf("up: %d %s", code, h.stderr.String())
	}
	st, err := h.agents.Status(context.Background(), filepath.Join(h.dir, ".local", "state", "devcluster", "devcluster"))
	if err != nil || !st.Running || st.LoadBalancerIP == "" {
		t.Fatalf("agent before gc: %+v %v", st, err)
	}
	before := st.Spec
	if code := h.run("-q", "registry", "gc"); code != 0 {
		t.Fatalf("gc: %d %s", code, h.stderr.String())
	}
	if h.stderr.Len() != 0 || h.stdout.Len() != 0 {
		t.Errorf("gc -q printed:\nstdout: %s\nstderr: %s", h.stdout.String(), h.stderr.String())
	}
	st, err = h.agents.Status(context.Background(), before.StateDir)
	if err != nil || !st.Running {
		t.Fatalf("agent after gc: %+v %v", st, err)
	}
	if st.Spec.LB != before.LB || st.Spec.DataDir != before.DataDir || strings.Join(st.Spec.Listen, ",") != strings.Join(before.Listen, ",") {
		t.Errorf("agent after gc runs with %+v, before %+v", st.Spec, before)
	}
	if st.LoadBalancerIP != before.LB.NodeIP {
		t.Errorf("LoadBalancer controller lost: %q", st.LoadBalancerIP)
	}
}

// down --purge deletes only a registry directory devcluster created: never
// the working directory, its parent or the home directory, whatever
// registry.dataDir says, and never a directory holding other files.
func TestPurgeDeletesOnlyWhatDevclusterCreated(t *testing.T) {
	for _, tc := range []struct {
		name, dataDir string
		keep          bool
		reason        string
	}{
		{"working directory", "../work", true, "it is or contains"},
		{"parent of the working directory", "..", true, "it is or contains"},
		{"home", `"~"`, true, "it is or contains"},
		{"own directory relative to the file", "images", false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			sentinel := filepath.Join(h.dir, "keep-me.txt")
			if err := os.WriteFile(sentinel, []byte("user data"), 0o600); err != nil {
				t.Fatal(err)
			}
			// The configuration lives in a sub-directory: dataDir is
			// relative to it, not to the working directory.
			cfgDir := filepath.Join(h.dir, "project")
			_ = os.MkdirAll(cfgDir, 0o700)
			cfg := filepath.Join(cfgDir, "devcluster.yaml")
			doc := "apiVersion: devcluster.dev/v1alpha1\nkind: Cluster\nloadBalancer:\n  enabled: false\nworkloads:\n  samples: false\n" +
				"registry:\n  clusterAddress: 127.0.0.1\n  port: " + strconv.Itoa(h.port) + "\n  dataDir: " + tc.dataDir + "\n"
			if err := os.WriteFile(cfg, []byte(doc), 0o600); err != nil {
				t.Fatal(err)
			}
			// The working directory is a sibling of the file's directory;
			// home is elsewhere.
			work := filepath.Join(h.dir, "work")
			_ = os.MkdirAll(work, 0o700)
			h.workDir = work
			want := map[string]string{"../work": work, "..": h.dir, `"~"`: h.dir, "images": filepath.Join(cfgDir, "images")}[tc.dataDir]
			if code := h.run("-f", cfg, "up"); code != 0 {
				t.Fatalf("up: %d\n%s", code, h.stderr.String())
			}
			if !strings.Contains(h.stdout.String(), "Registry data  "+want) {
				t.Errorf("dataDir %q was not taken relative to the file (want %s):\n%s", tc.dataDir, want, h.stdout.String())
			}
			code := h.run("-f", cfg, "down", "--purge")
			if code != 0 {
				t.Fatalf("down --purge: %d\n%s", code, h.stderr.String())
			}
			_, err := os.Stat(want)
			if tc.keep {
				if err != nil {
					t.Fatalf("down --purge deleted %s", want)
				}
				if _, err := os.Stat(sentinel); err != nil {
					t.Fatalf("down --purge deleted the user's file")
				}
				if !strings.Contains(h.stdout.String(), "Registry data kept in "+want) || !strings.Contains(h.stdout.String(), tc.reason) {
					t.Errorf("down --purge does not say what it kept and why:\n%s", h.stdout.String())
				}
				return
			}
			if err == nil {
				t.Errorf("down --purge kept devcluster's own %s:\n%s", want, h.stdout.String())
			}
		})
	}
}

func TestPurgeKeepsADirectoryWithOtherFiles(t *testing.T) {
	h := newHarness(t)
	data := filepath.Join(h.dir, "shared")
	_ = os.MkdirAll(data, 0o700)
	_ = os.WriteFile(filepath.Join(data, "thesis.tex"), []byte("years of work"), 0o600)
	h.writeConfig("  clusterAddress: 127.0.0.1\n  dataDir: shared\n")
	if code := h.run("up"); code != 0 {
		t.Fatalf("up: %d\n%s", code, h.stderr.String())
	}
	if code := h.run("down", "--purge"); code != 0 {
		t.Fatalf("down: %d\n%s", code, h.stderr.String())
	}
	if _, err := os.Stat(filepath.Join(data, "thesis.tex")); err != nil {
		t.Fatal("down --purge deleted a file devcluster did not write")
	}
	if !strings.Contains(h.stdout.String(), "thesis.tex") {
		t.Errorf("down does not say why it kept the directory:\n%s", h.stdout.String())
	}
}

// Bad deploy input is exit 2 before any cluster is contacted.
func TestDeployRefusesBadFlags(t *testing.T) {
	h := newHarness(t)
	for _, args := range [][]string{
		{"deploy", "deployment/web", "--configmap", "nameonly"},
		{"deploy", "deployment/web", "--configmap", "cm=a,,b"},
		{"deploy", "deployment/web", "--timeout", "0s"},
		{"deploy", "deployment/web", "--manifest", ""},
	} {
		if code := h.run(args...); code != ExitUsage {
			t.Errorf("%q: exit %d, want %d\n%s", args, code, ExitUsage, h.stderr.String())
		}
	}
}

// Under Buildkite (a PTY: a terminal by every test) up prints groups and no
// cursor control; --ci overrides the detection; a bad --ci is exit 2.
func TestCIConventionsThroughTheCommandLine(t *testing.T) {
	h := newHarness(t)
	h.writeConfig("  clusterAddress: 127.0.0.1\n")
	h.env["BUILDKITE"] = "true"
	h.env["CI"] = "true"
	h.tty = true
	if code := h.run("up"); code != 0 {
		t.Fatalf("up: %d\n%s", code, h.stderr.String())
	}
	out := h.stderr.String()
	if !strings.Contains(out, "--- Checking minikube\n") || strings.ContainsAny(out, "\r⠋⠙") || strings.Contains(out, "\x1b[2K") {
		t.Errorf("Buildkite log:\n%q", out)
	}
	if code := h.run("--ci", "github", "status"); code != 0 && code != ExitNotRunning {
		t.Fatalf("status: %d", code)
	}
	if code := h.run("--ci", "jenkins", "status"); code != ExitUsage || !strings.Contains(h.stderr.String(), "unknown CI system") {
		t.Errorf("--ci jenkins: exit %d\n%s", code, h.stderr.String())
	}
}

// agentRunner answers buildkite-agent itself and passes everything else on.
type agentRunner struct {
	next  run.Runner
	calls [][]string
	stdin []string
	fail  bool
}

func (a *agentRunner) Run(ctx context.Context, c run.Cmd) (run.Result, error) {
	if c.Name != "buildkite-agent" {
		return a.next.Run(ctx, c)
	}
	a.calls = append(a.calls, c.Argv())
	b, _ := io.ReadAll(c.Stdin)
	a.stdin = append(a.stdin, string(b))
	if a.fail {
		return run.Result{ExitCode: 1}, &run.Error{Argv: c.Argv(), ExitCode: 1, Err: errors.New("exit status 1")}
	}
	return run.Result{}, nil
}

func (a *agentRunner) LookPath(name string) (string, error) {
	if name == "buildkite-agent" {
		return "/usr/local/bin/buildkite-agent", nil
	}
	return "", errors.New("not found")
}

// On GitHub Actions `up` appends a Markdown summary to
// $GITHUB_STEP_SUMMARY; on Buildkite it annotates the build through the
// runner seam, success or error style, and a failing agent only warns.
func TestJobSummaries(t *testing.T) {
	h := newHarness(t)
	h.writeConfig("  clusterAddress: 127.0.0.1\n")
	summary := filepath.Join(h.dir, "summary.md")
	h.env["GITHUB_ACTIONS"] = "true"
	h.env["GITHUB_STEP_SUMMARY"] = summary
	if code := h.run("up"); code != 0 {
		t.Fatalf("up: %d\n%s", code, h.stderr.String())
	}
	b, err := os.ReadFile(summary)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"### ✅ devcluster up: cluster `devcluster` is ready", "Kubernetes v1.35.1", "push to `localhost:" + strconv.Itoa(h.port) + "`",
		"| step | result | time |", "| ✅ Checking minikube | v1.38.1 |"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("summary lacks %q:\n%s", want, b)
		}
	}

	delete(h.env, "GITHUB_ACTIONS")
	h.env["BUILDKITE"] = "true"
	agent := &agentRunner{next: h.runner}
	h.runner = agent
	if code := h.run("up"); code != 0 {
		t.Fatalf("up: %d\n%s", code, h.stderr.String())
	}
	if len(agent.calls) != 1 || strings.Join(agent.calls[0], " ") != "buildkite-agent annotate --context devcluster --style success" ||
		!strings.Contains(agent.stdin[0], "is ready") {
		t.Errorf("buildkite-agent calls %q, body %q", agent.calls, agent.stdin)
	}
	agent.fail = true
	if code := h.run("up"); code != 0 {
		t.Fatalf("a failing buildkite-agent failed up: exit %d\n%s", code, h.stderr.String())
	}
	if !strings.Contains(h.stderr.String(), "could not annotate the build") {
		t.Errorf("no warning about the failed annotation:\n%s", h.stderr.String())
	}
}

// `devcluster diagnose` on a running cluster writes the bundle; no
// credential from the kubeconfig reaches it.
func TestDiagnoseBundle(t *testing.T) {
	h := newHarness(t)
	h.runner.(*fakeminikube.Runner).Env["STANDIN_TOKEN"] = "s3cr3t-bearer-token"
	h.writeConfig("  clusterAddress: 127.0.0.1\n")
	if code := h.run("up"); code != 0 {
		t.Fatalf("up: %d\n%s", code, h.stderr.String())
	}
	kubeconfig, err := os.ReadFile(filepath.Join(h.dir, "kubeconfig"))
	if err != nil {
		t.Fatal(err)
	}
	h.env["KUBECONFIG"] = filepath.Join(h.dir, "kubeconfig")
	if code := h.run("--kubeconfig", h.env["KUBECONFIG"], "diagnose", "-o", "json"); code != 0 {
		t.Fatalf("diagnose: %d\n%s", code, h.stderr.String())
	}
	var res struct {
		Dir   string
		Files []string
	}
	if err := json.Unmarshal(h.stdout.Bytes(), &res); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"minikube-logs.txt", "kubeconfig-redacted.yaml", "nodes.yaml", "agent/status.json", "agent/registry-catalog.json"} {
		if !slices.Contains(res.Files, want) {
			t.Errorf("bundle lacks %s: %q", want, res.Files)
		}
	}
	token := ""
	for _, l := range strings.Split(string(kubeconfig), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), "token: "); ok {
			token = v
		}
	}
	if token != "s3cr3t-bearer-token" {
		t.Fatalf("the test kubeconfig has no token to leak: %q", token)
	}
	err = filepath.WalkDir(res.Dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := os.ReadFile(p)
		if token != "" && strings.Contains(string(b), token) {
			t.Errorf("%s holds the kubeconfig's token", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// diagnose's --context names the context to read; it is not the cluster's
// context of provider existing (which minikube refuses) unless the
// provider is existing.
func TestDiagnoseContextFlag(t *testing.T) {
	h := newHarness(t)
	if code := h.run("up"); code != 0 {
		t.Fatalf("up: %d\n%s", code, h.stderr.String())
	}
	if code := h.run("diagnose", "--context", "devcluster", "--dir", filepath.Join(h.dir, "bundle")); code != 0 {
		t.Fatalf("diagnose --context: exit %d\n%s", code, h.stderr.String())
	}
	// Provider existing reads the context from the kubeconfig minikube wrote.
	h.env["KUBECONFIG"] = filepath.Join(h.dir, "kubeconfig")
	if code := h.run("diagnose", "--provider", "existing", "--context", "devcluster", "-o", "json", "--dir", filepath.Join(h.dir, "bundle2")); code != 0 {
		t.Fatalf("diagnose --provider existing: exit %d\n%s", code, h.stderr.String())
	}
	if strings.Contains(h.stdout.String(), "minikube-logs.txt") {
		t.Errorf("an existing cluster's diagnostics asked minikube:\n%s", h.stdout.String())
	}
}

// After an interrupt devcluster says only "interrupted", unless the command
// tells what the interrupt left behind (deploy's writes, undone or not):
// that is shown whole, with its advice.
func TestInterruptMessage(t *testing.T) {
	cut := problem.New(problem.Failed, "starting cluster \"dev\"", fmt.Errorf("minikube start: %w", context.Canceled), "run minikube profile list")
	if msg, fix := interruptMessage(cut); msg != "interrupted" || fix != "" {
		t.Errorf("a step cut short: %q, %q", msg, fix)
	}
	left := problem.Left(problem.New(problem.Failed, "interrupted", fmt.Errorf("%w\n  written before it, and not undone: ConfigMap apps/web-config updated", context.Canceled), "run it again with --rollback-on-failure"))
	msg, fix := interruptMessage(fmt.Errorf("deploy: %w", left))
	if !strings.Contains(msg, "written before it, and not undone: ConfigMap apps/web-config updated") || fix != "run it again with --rollback-on-failure" {
		t.Errorf("what the interrupt left: %q, %q", msg, fix)
	}
}
