package app

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// asCLI makes this test binary devcluster itself, for the shells the
// completion tests run.
const asCLI = "DEVCLUSTER_TEST_AS_CLI"

func TestMain(m *testing.M) {
	if os.Getenv(asCLI) == "1" {
		os.Exit(ExitCode(Run(context.Background(), System(), os.Args)))
	}
	os.Exit(m.Run())
}

// shellEnv is a directory with `devcluster` (this test binary) and the
// completion script of shell, and the environment to run a shell in: PATH
// has that directory first, HOME and XDG_* are the test's.
func shellEnv(t *testing.T, shell string) (dir string, env []string) {
	t.Helper()
	if _, err := exec.LookPath(shell); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not installed (.ci/run installs it)", shell)
		}
		t.Skipf("%s is not installed", shell)
	}
	dir = t.TempDir()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(self, filepath.Join(dir, "devcluster")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "completion."+shell), []byte(completionScript(shell)), 0o600); err != nil {
		t.Fatal(err)
	}
	home := filepath.Join(dir, "home")
	if err := os.Mkdir(home, 0o700); err != nil {
		t.Fatal(err)
	}
	env = []string{"PATH=" + dir + ":/usr/local/bin:/usr/bin:/bin", "HOME=" + home, "XDG_CONFIG_HOME=" + home, "XDG_DATA_HOME=" + home,
		"XDG_STATE_HOME=" + home, "XDG_CACHE_HOME=" + home, "TERM=dumb", asCLI + "=1"}
	return dir, env
}

func runShell(t *testing.T, dir string, env []string, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir, cmd.Env = dir, env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %q: %v\n%s", name, args, err, out)
	}
	return string(out)
}

// completionCases are lines typed so far, and candidates that must be
// offered (all of them) and must not.
var completionCases = []struct {
	line      string
	want, not []string
}{
	{"devcluster ", []string{"up", "down", "stop", "status", "list", "config", "registry", "completion", "version"}, []string{"agent", "__complete", "help"}},
	{"devcluster st", []string{"status", "stop"}, []string{"up"}},
	{"devcluster up --pro", []string{"--provider"}, []string{"--name"}},
	{"devcluster up --", []string{"--name", "--cpus", "--output", "--config", "--kubeconfig", "--help"}, []string{"--purge"}},
	{"devcluster up --provider ", []string{"minikube", "kind", "existing"}, nil},
	{"devcluster -q up --provider k", []string{"kind"}, []string{"minikube"}},
	{"devcluster status -o ", []string{"text", "json", "yaml"}, nil},
	{"devcluster registry ", []string{"ls", "push", "gc", "serve"}, nil},
	{"devcluster registry pu", []string{"push"}, []string{"ls"}},
	{"devcluster registry push --", []string{"--output", "--name"}, nil},
	{"devcluster completion ", []string{"bash", "zsh", "fish", "powershell"}, nil},
	{"devcluster --ci ", []string{"auto", "github", "buildkite"}, nil},
	{"devcluster config ", []string{"view", "init", "schema"}, nil},
}

func TestCompleteAnswersFromTheCommandTree(t *testing.T) {
	a := newApp(&globals{})
	for _, tc := range completionCases {
		words := strings.Fields(tc.line)[1:]
		cur := ""
		if !strings.HasSuffix(tc.line, " ") {
			cur, words = words[len(words)-1], words[:len(words)-1]
		}
		cands, _ := complete(a, words, cur, nil)
		var got []string
		for _, c := range cands {
			got = append(got, c.value)
		}
		checkCandidates(t, tc.line, got, tc.want, tc.not)
	}
	// A value after "=" comes with its flag, what zsh, fish and
	// PowerShell replace the word with.
	if cands, _ := complete(a, []string{"status"}, "--output=y", nil); len(cands) != 1 || cands[0].value != "--output=yaml" {
		t.Errorf("--output=y: %v", cands)
	}
	for _, tc := range []struct {
		words     []string
		cur, want string
	}{
		{[]string{"registry", "push"}, "", completeFiles},
		{[]string{"registry", "push", "a.tar"}, "", completeNone},
		{nil, "", completeNone},
		{[]string{"-f"}, "", completeFiles},
		{[]string{"up", "--manifest"}, "", completeFiles},
		{[]string{"deploy"}, "", completeNone},
		{[]string{"up", "--name"}, "", completeNone},
	} {
		if _, d := complete(a, tc.words, tc.cur, nil); d != tc.want {
			t.Errorf("%q %q: directive %s, want %s", tc.words, tc.cur, d, tc.want)
		}
	}
}

func checkCandidates(t *testing.T, line string, got, want, not []string) {
	t.Helper()
	for _, w := range want {
		if !slices.Contains(got, w) {
			t.Errorf("%q: %q not offered (got %q)", line, w, got)
		}
	}
	for _, n := range not {
		if slices.Contains(got, n) {
			t.Errorf("%q: %q offered (got %q)", line, n, got)
		}
	}
}

// bash runs the script and calls its function as readline would, with
// the line up to the cursor.
func TestBashCompletion(t *testing.T) {
	dir, env := shellEnv(t, "bash")
	for _, tc := range append(completionCases, struct {
		line      string
		want, not []string
	}{"devcluster status --output=y", []string{"yaml"}, []string{"--output=yaml"}}) {
		script := `source ./completion.bash
complete -p devcluster >/dev/null || exit 9
COMP_LINE="$1"; COMP_POINT=${#COMP_LINE}
_devcluster
printf '%s\n' "${COMPREPLY[@]}"`
		out := runShell(t, dir, env, "bash", "--norc", "--noprofile", "-c", script, "bash", tc.line)
		checkCandidates(t, "bash: "+tc.line, lines(out), tc.want, tc.not)
	}
}

// zsh runs the script with its completion system's functions standing in
// (compdef, _describe, _files print what they are given), so the words,
// candidates and escapes are the real shell's.
func TestZshCompletion(t *testing.T) {
	dir, env := shellEnv(t, "zsh")
	for _, tc := range completionCases {
		script := `compdef() { }
_describe() { local -a c; c=("${(@P)4}"); print -rl -- "${c[@]%%:*}" }
_files() { print -r -- "FILES $*" }
source ./completion.zsh
words=(${(z)1})
[[ "$1" == *' ' ]] && words+=('')
CURRENT=${#words}
_devcluster || true`
		out := runShell(t, dir, env, "zsh", "-f", "-c", script, "zsh", tc.line)
		checkCandidates(t, "zsh: "+tc.line, lines(out), tc.want, tc.not)
	}
	out := runShell(t, dir, env, "zsh", "-f", "-c", `_files() { print -r -- "FILES $*" }; compdef() { }; source ./completion.zsh; words=(devcluster registry push ''); CURRENT=4; _devcluster`)
	if strings.TrimSpace(out) != "FILES" {
		t.Errorf("zsh: registry push: %q, want file completion", out)
	}
	out = runShell(t, dir, env, "zsh", "-f", "-c", `compdef() { print -r -- "compdef $*" }; source ./completion.zsh`)
	if strings.TrimSpace(out) != "compdef _devcluster devcluster" {
		t.Errorf("zsh: sourcing the script: %q", out)
	}
}

// fish completes the line itself (complete -C), with the script loaded.
func TestFishCompletion(t *testing.T) {
	dir, env := shellEnv(t, "fish")
	for _, tc := range append(completionCases, struct {
		line      string
		want, not []string
	}{"devcluster status --output=y", []string{"--output=yaml"}, nil}) {
		out := runShell(t, dir, env, "fish", "--no-config", "-c", "source ./completion.fish; complete -C$argv[1]", tc.line)
		var got []string
		for _, l := range lines(out) {
			v, _, _ := strings.Cut(l, "\t")
			got = append(got, v)
		}
		checkCandidates(t, "fish: "+tc.line, got, tc.want, tc.not)
	}
	if err := os.WriteFile(filepath.Join(dir, "image.tar"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	out := runShell(t, dir, env, "fish", "--no-config", "-c", "source ./completion.fish; complete -C'devcluster registry push im'")
	if !strings.Contains(out, "image.tar") {
		t.Errorf("fish: registry push im: %q, want the file", out)
	}
}

// PowerShell is not on the test machines (no Debian package): its script
// is checked for the parts that make it work, and shares the protocol the
// other shells' scripts are run against.
func TestPowerShellCompletionScript(t *testing.T) {
	s := completionScript("powershell")
	for _, want := range []string{"Register-ArgumentCompleter -Native -CommandName 'devcluster', 'devcluster.exe'", "__complete --", "CompletionResult]::new(",
		"-split \"`t\", 2", "':files'"} {
		if !strings.Contains(s, want) {
			t.Errorf("the PowerShell script lacks %q:\n%s", want, s)
		}
	}
}

func TestCompletionCommand(t *testing.T) {
	h := newHarness(t)
	for _, sh := range shells {
		if code := h.run("completion", sh); code != 0 || h.stdout.String() != completionScript(sh) || completionScript(sh) == "" {
			t.Errorf("completion %s: exit %d", sh, code)
		}
	}
	for _, args := range [][]string{{"completion"}, {"completion", "tcsh"}, {"completion", "bash", "zsh"}} {
		if code := h.run(args...); code != ExitUsage || !strings.Contains(h.stderr.String(), "bash, zsh, fish, powershell") {
			t.Errorf("%q: exit %d\n%s", args, code, h.stderr.String())
		}
	}
}

func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// --name completes to the clusters devcluster knows (those list shows).
func TestCompleteClusterNames(t *testing.T) {
	h := newHarness(t)
	if code := h.run("up", "--name", "dev"); code != 0 {
		t.Fatalf("up: exit %d\n%s", code, h.stderr.String())
	}
	for _, tc := range []struct{ args, want []string }{
		{[]string{"__complete", "--", "status", "--name", ""}, []string{"dev\tcluster", ":none"}},
		{[]string{"__complete", "--", "down", "-p", "d"}, []string{"dev\tcluster", ":none"}},
		{[]string{"__complete", "--", "stop", "--name=d"}, []string{"--name=dev\tcluster", ":none"}},
		{[]string{"__complete", "--", "stop", "--name", "x"}, []string{":none"}},
	} {
		if code := h.run(tc.args...); code != 0 {
			t.Fatalf("%q: exit %d\n%s", tc.args, code, h.stderr.String())
		}
		if got := strings.Split(strings.TrimSuffix(h.stdout.String(), "\n"), "\n"); !slices.Equal(got, tc.want) {
			t.Errorf("%q = %q, want %q", tc.args, got, tc.want)
		}
	}
}
