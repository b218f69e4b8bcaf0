package app

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

type actionStep struct {
	ID, Name, If, Shell, Run, Uses string
	ContinueOnError                bool `yaml:"continue-on-error"`
	Env, With                      map[string]string
}

type actionFile struct {
	Name    string
	Inputs  map[string]struct{ Default string }
	Outputs map[string]struct{ Value string }
	Runs    struct {
		Using string
		Steps []actionStep
	}
}

const repoRoot = "../../.."

func readAction(t *testing.T) (actionFile, []byte) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var a actionFile
	if err := yaml.Unmarshal(b, &a); err != nil {
		t.Fatalf("action.yml: %v", err)
	}
	return a, b
}

// pinned is a third-party action pinned by a full commit SHA, with its tag
// in a comment.
var pinned = regexp.MustCompile(`uses:\s*[\w.-]+/[\w./-]+@[0-9a-f]{40}\s+#\s*v\d+(\.\d+)*\s*$`)

// The repository's GitHub Action is a valid composite action: every
// ${{ inputs.x }} names a declared input, every value reaches a shell
// through env: (never an expression inside run:), third-party actions are
// pinned by SHA, the diagnostics steps cannot skip the delete, and the
// artifact name is the unique one.
func TestGitHubAction(t *testing.T) {
	a, b := readAction(t)
	if a.Runs.Using != "composite" {
		t.Errorf("runs.using = %q", a.Runs.Using)
	}
	for _, in := range []string{"config", "provider", "name", "context", "cpus", "memory", "driver", "container-runtime", "kubernetes-version",
		"start-args", "registry", "registry-port", "load-balancer", "samples", "manifests", "wait", "install-only",
		"minikube-version", "kind-version", "cache", "command", "job-status", "dashboard"} {
		if _, ok := a.Inputs[in]; !ok {
			t.Errorf("no input %q", in)
		}
	}
	for _, out := range []string{"kube-context", "registry", "node-ip", "cluster-name", "host-urls", "dashboard-url", "diagnostics-dir"} {
		if o, ok := a.Outputs[out]; !ok || !strings.Contains(o.Value, "steps.up.outputs."+out) {
			t.Errorf("output %q = %+v", out, o)
		}
	}
	ref := regexp.MustCompile(`inputs\.([a-z-]+)`)
	for _, m := range ref.FindAllStringSubmatch(string(b), -1) {
		if _, ok := a.Inputs[m[1]]; !ok {
			t.Errorf("action.yml refers to undeclared input %q", m[1])
		}
	}
	// INPUT_<NAME> is what the script reads for input <name>.
	envInput := regexp.MustCompile(`^INPUT_([A-Z_]+)$`)
	byName := map[string]actionStep{}
	for _, st := range a.Runs.Steps {
		byName[st.ID] = st
		if st.Run != "" && st.Shell == "" {
			t.Errorf("step %q runs a script without a shell (required in composite actions)", st.Name)
		}
		if strings.Contains(st.Run, "${{") {
			t.Errorf("step %q puts an expression inside run: %q", st.Name, st.Run)
		}
		for k, v := range st.Env {
			if m := envInput.FindStringSubmatch(k); m != nil {
				name := strings.ToLower(strings.ReplaceAll(m[1], "_", "-"))
				if want := "${{ inputs." + name + " }}"; v != want {
					t.Errorf("step %q: %s = %q, want %q", st.Name, k, v, want)
				}
			}
		}
		if st.Uses != "" && !strings.HasPrefix(st.Uses, "./") && !regexp.MustCompile(`@[0-9a-f]{40}$`).MatchString(st.Uses) {
			t.Errorf("step %q uses %s, not pinned by commit SHA", st.Name, st.Uses)
		}
		if strings.Contains(st.Uses, "upload-artifact") {
			if !st.ContinueOnError || st.With["overwrite"] != "true" || !strings.Contains(st.With["name"], "outputs.artifact-name") {
				t.Errorf("upload step %q: continue-on-error %v, with %v; want continue-on-error, overwrite and the unique artifact name", st.Name, st.ContinueOnError, st.With)
			}
		}
	}
	checkPinnedComments(t, "action.yml", b)
	if d := byName["diagnose"]; !d.ContinueOnError {
		t.Error("a failed diagnose step would skip the delete: no continue-on-error")
	}
	var down *actionStep
	for i, st := range a.Runs.Steps {
		if strings.Contains(st.Run, "devcluster-action.js\" down") {
			down = &a.Runs.Steps[i]
		}
	}
	if down == nil || !strings.Contains(down.If, "always()") {
		t.Fatalf("the down step %+v does not run always(): a failed diagnose or upload would skip the delete", down)
	}
	if i := strings.Index(string(b), "devcluster-action.js\" down"); i < strings.LastIndex(string(b), "upload-artifact") {
		t.Error("the delete runs before the upload")
	}
	post := false
	for _, st := range a.Runs.Steps {
		if strings.Contains(st.With["post"], "devcluster-action.js\" post") {
			post = true
		}
	}
	if !post {
		t.Error("no post step deletes the cluster at the end of the job")
	}
}

// checkPinnedComments: every third-party `uses:` line of a file is pinned
// by SHA with the tag in a comment.
func checkPinnedComments(t *testing.T, name string, b []byte) {
	t.Helper()
	for i, line := range strings.Split(string(b), "\n") {
		l := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "- "))
		if !strings.HasPrefix(l, "uses:") || strings.HasPrefix(strings.TrimSpace(strings.TrimPrefix(l, "uses:")), "./") {
			continue
		}
		if strings.Contains(l, "devcluster/devcluster@") {
			continue // this repository's own Action, in an example
		}
		if !pinned.MatchString(l) {
			t.Errorf("%s:%d: %q is not pinned by commit SHA with its tag in a comment", name, i+1, l)
		}
	}
}

// The up command line the Action's script builds from every input exists
// with those flags in devcluster, and so do the dashboard, diagnose and
// down ones.
func TestGitHubActionCommandLinesExist(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("node is not installed")
		}
		t.Skip("node is not installed")
	}
	ws := t.TempDir()
	if err := os.WriteFile(filepath.Join(ws, "devcluster.yaml"), []byte("kind: Cluster\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	script := `const a = require(process.argv[1]);
const env = { GITHUB_WORKSPACE: process.argv[2], RUNNER_TEMP: process.argv[2], DEVCLUSTER_ACTION_MINIKUBE: '/m', DEVCLUSTER_ACTION_KIND: '/k',
  INPUT_NAME: 'n', INPUT_PROVIDER: 'kind', INPUT_CONTEXT: 'c', INPUT_CPUS: '4', INPUT_MEMORY: '4g', INPUT_DRIVER: 'docker',
  INPUT_CONTAINER_RUNTIME: 'containerd', INPUT_KUBERNETES_VERSION: 'v1.35.1', INPUT_START_ARGS: '--a=b', INPUT_REGISTRY: 'true',
  INPUT_REGISTRY_PORT: '5002', INPUT_LOAD_BALANCER: 'true', INPUT_SAMPLES: 'true', INPUT_MANIFESTS: 'k8s', INPUT_WAIT: '5m' };
const off = { ...env, INPUT_REGISTRY: 'false', INPUT_LOAD_BALANCER: 'false', INPUT_SAMPLES: 'false' };
const only = { ...env, INPUT_INSTALL_ONLY: 'true' };
const t = a.targets(env)[0];
console.log(JSON.stringify([a.upArgs(env, '/d'), a.upArgs(off, '/d'), a.upArgs(only, '/d'),
  a.dashboardArgs(t.globals, t.identity), [...t.globals, 'diagnose', ...t.identity, '--dir', '/d'], [...t.globals, 'down', ...t.identity]]));`
	out, err := exec.Command(node, "-e", script, filepath.Join(repoRoot, "action", "devcluster-action.js"), ws).Output()
	if err != nil {
		t.Fatalf("node: %v", err)
	}
	var lines [][]string
	if err := json.Unmarshal(out, &lines); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	a := newApp(&globals{env: Env{}})
	for _, args := range lines {
		// The values are devcluster's to check at run time; here, that
		// every flag exists where it is given.
		if e := checkInvocation(a, args); e != "" {
			t.Errorf("devcluster %s: %s", strings.Join(args, " "), e)
		}
	}
}

// The workflows declare their permissions, pin third-party actions by SHA,
// put no expression inside run:, and use the Action's declared inputs and
// outputs only.
func TestWorkflows(t *testing.T) {
	a, _ := readAction(t)
	files, _ := filepath.Glob(filepath.Join(repoRoot, ".github", "workflows", "*.yml"))
	examples, _ := filepath.Glob(filepath.Join(repoRoot, "examples", "ci", "github-*.yml"))
	if len(files) == 0 || len(examples) == 0 {
		t.Fatalf("workflows %q, examples %q", files, examples)
	}
	for _, f := range append(files, examples...) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var wf struct {
			Permissions any
			Jobs        map[string]struct {
				Permissions any
				Steps       []actionStep
			}
		}
		if err := yaml.Unmarshal(b, &wf); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		name := filepath.Base(f)
		checkPinnedComments(t, name, b)
		for jn, job := range wf.Jobs {
			if wf.Permissions == nil && job.Permissions == nil {
				t.Errorf("%s: job %s declares no permissions", name, jn)
			}
			for _, st := range job.Steps {
				if strings.Contains(st.Run, "${{") {
					t.Errorf("%s: job %s puts an expression inside run: %q", name, jn, st.Run)
				}
				if st.Uses == "./" || strings.HasPrefix(st.Uses, "devcluster/devcluster@") {
					for k := range st.With {
						if _, ok := a.Inputs[k]; !ok {
							t.Errorf("%s passes undeclared input %q", name, k)
						}
					}
				}
			}
		}
		outRef := regexp.MustCompile(`steps\.cluster\.outputs\.([a-z-]+)`)
		for _, m := range outRef.FindAllStringSubmatch(string(b), -1) {
			if _, ok := a.Outputs[m[1]]; !ok {
				t.Errorf("%s reads undeclared output %q", name, m[1])
			}
		}
	}
}

// releaseFixture serves a devcluster release as goreleaser names it, with
// its checksums.txt; sums overrides the archive's line.
func releaseFixture(t *testing.T, tag string, sums func(archive, sum string) string) string {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	body := []byte("#!/bin/sh\necho devcluster " + tag + "\n")
	for _, f := range []struct {
		name string
		data []byte
	}{{"LICENSE", []byte("license\n")}, {"devcluster", body}} {
		if f.name == "devcluster" && strings.HasSuffix(tag, "-empty") {
			// A release whose archive lacks the binary.
			continue
		}
		if err := tw.WriteHeader(&tar.Header{Name: f.name, Mode: 0o755, Size: int64(len(f.data))}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(f.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	archive := fmt.Sprintf("devcluster_%s_%s_%s.tar.gz", strings.TrimPrefix(tag, "v"), runtime.GOOS, runtime.GOARCH)
	sum := fmt.Sprintf("%x", sha256.Sum256(buf.Bytes()))
	checksums := sums(archive, sum)
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/" + tag + "/checksums.txt":
			_, _ = w.Write([]byte(checksums))
		case "/" + tag + "/" + archive:
			_, _ = w.Write(buf.Bytes())
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(s.Close)
	return s.URL
}

// needInstallScriptTools stops a test of install.sh where the tools it
// runs are missing: a failure under CI=true, a skip elsewhere; and on
// Windows, whose branch of the script runs on GitHub's runners.
func needInstallScriptTools(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s is not installed", tool)
			}
			t.Skipf("%s is not installed", tool)
		}
	}
	if runtime.GOOS == "windows" {
		t.Skip("the script's Windows branch runs on GitHub's runners")
	}
}

// The Action's install step: the release of a tag, checked against
// checksums.txt; a mismatch or a missing line is refused with nothing
// installed and no fallback; no release, or a ref that is not a tag,
// builds from source into the private GOBIN.
func TestGitHubActionInstall(t *testing.T) {
	needInstallScriptTools(t, "bash", "curl", "tar", "awk", "od")
	script, err := filepath.Abs(filepath.Join(repoRoot, "action", "install.sh"))
	if err != nil {
		t.Fatal(err)
	}
	good := func(archive, sum string) string { return "0000  other.tar.gz\n" + sum + "  " + archive + "\n" }
	for _, tc := range []struct {
		name, ref string
		sums      func(archive, sum string) string
		code      int
		built     bool
		want      string
	}{
		{name: "release", ref: "v1.2.3", sums: good, want: "installed from its release"},
		{name: "checksum mismatch refused", ref: "v1.2.3", code: 1,
			sums: func(a, _ string) string { return strings.Repeat("ab", 32) + "  " + a + "\n" }, want: "refusing devcluster_1.2.3_"},
		{name: "no checksum line refused", ref: "v1.2.3", code: 1,
			sums: func(string, string) string { return "" }, want: "has no line for devcluster_1.2.3_"},
		{name: "an archive without devcluster refused", ref: "v1.2.3-empty", sums: good, code: 1, want: "could not unpack devcluster_1.2.3-empty_"},
		{name: "no release: built", ref: "v9.9.9", sums: good, built: true, want: "has no release"},
		{name: "a branch: built", ref: "main", sums: good, built: true, want: "built from the action's source"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			release := "v1.2.3"
			if strings.HasSuffix(tc.ref, "-empty") {
				release = tc.ref
			}
			base := releaseFixture(t, release, tc.sums)
			fakeBin := filepath.Join(dir, "fakebin")
			if err := os.MkdirAll(fakeBin, 0o755); err != nil {
				t.Fatal(err)
			}
			// go records how it was asked to install.
			goLog := filepath.Join(dir, "go.log")
			fakeGo := "#!/bin/sh\necho \"$PWD GOBIN=$GOBIN GOTOOLCHAIN=$GOTOOLCHAIN $*\" >> " + goLog + "\nprintf '#!/bin/sh\\n' > \"$GOBIN/devcluster\"; chmod +x \"$GOBIN/devcluster\"\n"
			if err := os.WriteFile(filepath.Join(fakeBin, "go"), []byte(fakeGo), 0o755); err != nil {
				t.Fatal(err)
			}
			state := filepath.Join(dir, "state")
			if err := os.MkdirAll(state, 0o700); err != nil {
				t.Fatal(err)
			}
			output := filepath.Join(dir, "output")
			cmd := exec.Command("bash", script)
			cmd.Dir = dir
			cmd.Env = []string{"PATH=" + fakeBin + ":/usr/bin:/bin", "HOME=" + dir, "STATE_DIR=" + state, "GITHUB_ACTION_PATH=" + dir,
				"GITHUB_OUTPUT=" + output, "ACTION_REF=" + tc.ref, "RELEASE_BASE=" + base}
			out, err := cmd.CombinedOutput()
			code := 0
			if err != nil {
				code = cmd.ProcessState.ExitCode()
			}
			if code != tc.code || !strings.Contains(string(out), tc.want) {
				t.Fatalf("exit %d, want %d and %q:\n%s", code, tc.code, tc.want, out)
			}
			logged, _ := os.ReadFile(goLog)
			if built := len(logged) > 0; built != tc.built {
				t.Errorf("go install ran: %v, want %v (%s)", built, tc.built, logged)
			}
			if tc.built && !strings.Contains(string(logged), "GOBIN="+filepath.Join(state, "bin")+" GOTOOLCHAIN=auto") {
				t.Errorf("go install: %s", logged)
			}
			installed := filepath.Join(state, "bin", "devcluster")
			_, statErr := os.Stat(installed)
			if tc.code != 0 {
				if statErr == nil {
					t.Error("a refused download was installed")
				}
				return
			}
			if statErr != nil {
				t.Fatal(statErr)
			}
			o, _ := os.ReadFile(output)
			if !regexp.MustCompile(`^devcluster<<(ghadelimiter_[0-9a-f]{32})\n` + regexp.QuoteMeta(installed) + `\n(ghadelimiter_[0-9a-f]{32})\n$`).Match(o) {
				t.Errorf("GITHUB_OUTPUT = %q", o)
			}
			entries, _ := os.ReadDir(dir)
			for _, e := range entries {
				if n := e.Name(); n != "fakebin" && n != "state" && n != "output" && n != "go.log" {
					t.Errorf("left in the working directory: %s", n)
				}
			}
		})
	}
}

// The scripts actionlint does not reach pass shellcheck with no finding:
// the Action's own run: steps and scripts, and the Buildkite example's
// commands (actionlint runs shellcheck over the workflows' run: scripts).
func TestScriptsPassShellcheck(t *testing.T) {
	sc, err := exec.LookPath("shellcheck")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("shellcheck is not installed")
		}
		t.Skip("shellcheck is not installed")
	}
	a, _ := readAction(t)
	scripts := map[string]string{}
	for i, st := range a.Runs.Steps {
		if st.Run != "" {
			scripts[fmt.Sprintf("action.yml step %d (%s)", i+1, st.Name)] = st.Run
		}
	}
	b, err := os.ReadFile(filepath.Join(repoRoot, "examples", "ci", "buildkite-pipeline.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	var bk []string
	collectScripts(doc, &bk)
	for i, s := range bk {
		scripts[fmt.Sprintf("buildkite-pipeline.yml script %d", i+1)] = s
	}
	if len(bk) == 0 {
		t.Error("no Buildkite script found")
	}
	dir := t.TempDir()
	files := []string{filepath.Join(repoRoot, "action", "install.sh")}
	names := map[string]string{files[0]: "action/install.sh"}
	i := 0
	for name, s := range scripts {
		i++
		f := filepath.Join(dir, fmt.Sprintf("script%d.sh", i))
		if err := os.WriteFile(f, []byte("#!/usr/bin/env bash\n"+s), 0o600); err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
		names[f] = name
	}
	for _, f := range files {
		if out, err := exec.Command(sc, "--severity=info", f).CombinedOutput(); err != nil {
			t.Errorf("shellcheck %s: %v\n%s", names[f], err, out)
		}
	}
}

// minikube-version: that release from its project, checked against the
// sha256 published beside it, into the tools directory under the name
// devcluster's own installer uses; a mismatch is refused.
func TestGitHubActionInstallsAnotherMinikube(t *testing.T) {
	needInstallScriptTools(t, "bash", "curl", "od")
	script, _ := filepath.Abs(filepath.Join(repoRoot, "action", "install.sh"))
	binary := []byte("#!/bin/sh\necho minikube v1.37.0\n")
	asset := "minikube-" + runtime.GOOS + "-" + runtime.GOARCH
	for _, tc := range []struct {
		name, sum string
		code      int
	}{
		{name: "checked", sum: fmt.Sprintf("%x", sha256.Sum256(binary))},
		{name: "mismatch refused", sum: strings.Repeat("cd", 32), code: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				switch r.URL.Path {
				case "/v1.37.0/" + asset + ".sha256":
					_, _ = w.Write([]byte(tc.sum + "\n"))
				case "/v1.37.0/" + asset:
					_, _ = w.Write(binary)
				default:
					http.NotFound(w, r)
				}
			}))
			defer s.Close()
			dir := t.TempDir()
			state, tools := filepath.Join(dir, "state"), filepath.Join(dir, "cache", "devcluster", "bin")
			if err := os.MkdirAll(filepath.Join(state, "bin"), 0o700); err != nil {
				t.Fatal(err)
			}
			// devcluster is there already (an earlier use of the action).
			if err := os.WriteFile(filepath.Join(state, "bin", "devcluster"), []byte("#!/bin/sh\n"), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(state, "bin", ".ref"), []byte("ref:v1.2.3\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			output := filepath.Join(dir, "output")
			cmd := exec.Command("bash", script)
			cmd.Dir = dir
			cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + dir, "STATE_DIR=" + state, "GITHUB_ACTION_PATH=" + dir, "GITHUB_OUTPUT=" + output,
				"ACTION_REF=v1.2.3", "RELEASE_BASE=http://127.0.0.1:1", "MINIKUBE_BASE=" + s.URL, "MINIKUBE_VERSION=1.37.0", "TOOLS_DIR=" + tools}
			out, err := cmd.CombinedOutput()
			code := 0
			if err != nil {
				code = cmd.ProcessState.ExitCode()
			}
			if code != tc.code {
				t.Fatalf("exit %d, want %d:\n%s", code, tc.code, out)
			}
			installed := filepath.Join(tools, "minikube-v1.37.0")
			_, statErr := os.Stat(installed)
			if tc.code != 0 {
				if statErr == nil || !strings.Contains(string(out), "refusing minikube v1.37.0") {
					t.Errorf("a mismatching minikube was installed, or not refused:\n%s", out)
				}
				return
			}
			o, _ := os.ReadFile(output)
			if statErr != nil || !strings.Contains(string(o), "\n"+installed+"\n") {
				t.Errorf("installed: %v; GITHUB_OUTPUT %q\n%s", statErr, o, out)
			}
		})
	}
}
