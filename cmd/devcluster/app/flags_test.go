package app

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/devcluster/devcluster/internal/testutil"
	"io"
	"maps"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Global flags work after the command, after a subcommand and after
// positional arguments, as kubectl's and kind's do; so do a command's own
// flags after its arguments.
func TestGlobalFlagsAfterTheCommand(t *testing.T) {
	h := newHarness(t)
	h.writeConfig("  clusterAddress: 127.0.0.1\n")

	if code := h.run("status", "-v"); code != ExitNotRunning {
		t.Errorf("status -v: exit %d, want %d\n%s", code, ExitNotRunning, h.stderr.String())
	}
	if code := h.run("up", "-q"); code != 0 || h.stderr.Len() != 0 {
		t.Errorf("up -q: exit %d, stderr:\n%s", code, h.stderr.String())
	}
	if code := h.run("up", "--ci", "github"); code != 0 || !strings.Contains(h.stderr.String(), "::group::Checking minikube\n") {
		t.Errorf("up --ci github: exit %d, stderr:\n%s", code, h.stderr.String())
	}
	if code := h.run("up", "--ci=github", "-qo", "json"); code != 0 || h.stderr.Len() != 0 || !json.Valid(h.stdout.Bytes()) {
		t.Errorf("up --ci=github -qo json: exit %d\nstdout: %s\nstderr: %s", code, h.stdout.String(), h.stderr.String())
	}

	kubeconfig := filepath.Join(h.dir, "deploy-kubeconfig")
	// There is no deployment/web: the deploy fails, after reading the flags.
	if h.run("deploy", "deployment/web", "--kubeconfig", kubeconfig, "--dry-run"); !strings.Contains(h.stderr.String(), "deployment/web not found") {
		t.Errorf("deploy deployment/web --kubeconfig F:\n%s", h.stderr.String())
	}
	if len(h.kubeconfigs) == 0 || h.kubeconfigs[len(h.kubeconfigs)-1] != kubeconfig {
		t.Errorf("deploy used the kubeconfigs %q, want %s", h.kubeconfigs, kubeconfig)
	}

	tarPath, _ := writeImage(t, h.dir)
	if code := h.run("registry", "push", tarPath, "team/app:dev", "-o", "json", "-q"); code != 0 {
		t.Fatalf("registry push SRC NAME -o json -q: exit %d\n%s", code, h.stderr.String())
	}
	var pushed struct{ Reference, Digest string }
	if err := json.Unmarshal(h.stdout.Bytes(), &pushed); err != nil || pushed.Digest == "" || h.stderr.Len() != 0 {
		t.Errorf("registry push -o json -q: %v\nstdout: %s\nstderr: %s", err, h.stdout.String(), h.stderr.String())
	}
	if code := h.run("registry", "-q", "ls", "--output=json"); code != 0 || !strings.Contains(h.stdout.String(), `"team/app"`) {
		t.Errorf("registry -q ls --output=json: exit %d\n%s%s", code, h.stdout.String(), h.stderr.String())
	}
}

// -n is the namespace, as in kubectl; the cluster's name is --name or -p.
func TestShortNameFlag(t *testing.T) {
	h := newHarness(t)
	for _, cmd := range []string{"up", "down", "status"} {
		code := h.run(cmd, "-n", "dev")
		out := h.stderr.String()
		if code != ExitUsage || !strings.Contains(out, "-n is --namespace") || !strings.Contains(out, "--name NAME or -p NAME") {
			t.Errorf("%s -n dev: exit %d, want %d with advice:\n%s", cmd, code, ExitUsage, out)
		}
	}
	if code := h.run("diagnose", "-d", filepath.Join(h.dir, "bundle")); code != ExitUsage || !strings.Contains(h.stderr.String(), "-d is --driver") {
		t.Errorf("diagnose -d: exit %d, want %d\n%s", code, ExitUsage, h.stderr.String())
	}
	if code := h.run("up", "-p", "dev"); code != 0 || !strings.Contains(h.stdout.String(), `Cluster "dev" is ready`) {
		t.Errorf("up -p dev: exit %d\n%s%s", code, h.stdout.String(), h.stderr.String())
	}
	if code := h.run("status", "-pdev", "-o", "json"); code != 0 || !strings.Contains(h.stdout.String(), `"name": "dev"`) {
		t.Errorf("status -pdev: exit %d\n%s%s", code, h.stdout.String(), h.stderr.String())
	}
}

// lb takes --provider and --context like up, down and status: on a cluster
// devcluster did not create the IP is loadBalancer.ip, and without it lb
// says so instead of writing an empty IP.
func TestLBOnAnExistingCluster(t *testing.T) {
	h := newHarness(t)
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "web"},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, Ports: []corev1.ServicePort{{Port: 80}}}}
	if _, err := h.clientset.CoreV1().Services("apps").Create(t.Context(), svc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	h.env["KUBECONFIG"] = testutil.Kubeconfig(t, "staging")
	if code := h.run("lb", "--provider", "existing", "--context", "nope"); code != ExitNotRunning || !strings.Contains(h.stderr.String(), "kubectl config get-contexts") {
		t.Errorf("lb --provider existing --context nope: exit %d, want %d with the advice for a context\n%s", code, ExitNotRunning, h.stderr.String())
	}
	h.stderr.Reset()
	if code := h.run("lb", "--provider", "existing", "--context", "staging"); code != ExitUsage || !strings.Contains(h.stderr.String(), "loadBalancer.ip") {
		t.Errorf("lb --provider existing without loadBalancer.ip: exit %d, want %d\n%s", code, ExitUsage, h.stderr.String())
	}
	h.writeConfig("loadBalancer:\n  ip: 10.1.2.3\n")
	if code := h.run("lb", "--provider", "existing", "--context", "staging", "-o", "json"); code != 0 {
		t.Fatalf("lb --provider existing --context staging: exit %d\n%s", code, h.stderr.String())
	}
	var res []struct{ Namespace, Name, Action, IP string }
	if err := json.Unmarshal(h.stdout.Bytes(), &res); err != nil || len(res) != 1 || res[0].IP != "10.1.2.3" || res[0].Action != "assign" {
		t.Errorf("lb -o json = %s (%v)", h.stdout.String(), err)
	}
	if h.contexts[len(h.contexts)-1] != "staging" {
		t.Errorf("lb connected to contexts %q, want staging", h.contexts)
	}
	got, err := h.clientset.CoreV1().Services("apps").Get(t.Context(), "web", metav1.GetOptions{})
	if err != nil || len(got.Status.LoadBalancer.Ingress) != 1 || got.Status.LoadBalancer.Ingress[0].IP != "10.1.2.3" {
		t.Errorf("Service status after lb: %+v (%v)", got.Status.LoadBalancer, err)
	}
	if code := h.run("lb", "--help"); code != 0 {
		t.Fatal(code)
	}
	for _, want := range []string{"--provider", "--context", "minikube ip", "kind", "loadBalancer.ip"} {
		if !strings.Contains(h.stdout.String(), want) {
			t.Errorf("lb --help lacks %q:\n%s", want, h.stdout.String())
		}
	}
}

// commandPaths lists every command and subcommand as the words that name
// it ("registry push"), hidden ones included.
func commandPaths(cmds []*cli.Command, prefix []string) [][]string {
	var out [][]string
	for _, c := range cmds {
		p := append(append([]string(nil), prefix...), c.Name)
		out = append(out, p)
		out = append(out, commandPaths(c.Subcommands, p)...)
	}
	return out
}

// commandAt finds the command a path names.
func commandAt(a *cli.App, path []string) *cli.Command {
	c := a.Command(path[0])
	for _, n := range path[1:] {
		c = c.Command(n)
	}
	return c
}

// A short letter means one flag in every command, and the global flags'
// letters and names mean nothing else anywhere: -n is --namespace, as in
// kubectl. The table of short flags in docs/flags.md is this one.
func TestShortFlagsHaveOneMeaning(t *testing.T) {
	a := newApp(&globals{env: Env{}})
	meaning := map[string]string{} // letter → long name
	where := map[string][]string{} // letter → commands
	global := map[string]bool{}
	add := func(cmd string, f cli.Flag) {
		names := f.Names()
		for _, n := range names[1:] {
			if len(n) != 1 {
				continue
			}
			if m, ok := meaning[n]; ok && m != names[0] {
				t.Errorf("-%s is --%s in %s but --%s in %s", n, m, strings.Join(where[n], ", "), names[0], cmd)
			}
			meaning[n] = names[0]
			where[n] = append(where[n], cmd)
		}
	}
	for _, f := range append(slices.Clone(a.Flags), cli.HelpFlag) {
		add("the global flags", f)
		for _, n := range f.Names() {
			global[n] = true
		}
	}
	for _, p := range commandPaths(a.Commands, nil) {
		c := commandAt(a, p)
		for _, f := range c.Flags {
			add(strings.Join(p, " "), f)
			for _, n := range f.Names() {
				if global[n] && !c.Hidden {
					t.Errorf("%s defines -%s, a global flag's name: global flags are accepted after every command", strings.Join(p, " "), n)
				}
			}
		}
	}
	for _, want := range [][2]string{{"n", "namespace"}, {"p", "name"}, {"d", "driver"}, {"o", "output"}, {"f", "config"}} {
		if meaning[want[0]] != want[1] {
			t.Errorf("-%s is --%s, want --%s", want[0], meaning[want[0]], want[1])
		}
	}
	pages, err := testutil.DocPages(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("(?m)^\\| `-([a-z])` \\| `--([a-z-]+)` \\|")
	documented := map[string]string{}
	for _, p := range pages {
		for _, m := range row.FindAllStringSubmatch(p.Text, -1) {
			documented[m[1]] = m[2]
		}
	}
	if !maps.Equal(documented, meaning) {
		t.Errorf("the table of short flags in docs/flags.md is %v, the commands have %v", documented, meaning)
	}
}

// Every help line shows a flag's default once, in urfave/cli's form
// "(default: …)", never a zero value that is not the real default, and a
// flag whose default comes from devcluster.yaml says so. Every command's
// help lists the global flags too.
func TestHelpShowsEachDefaultOnce(t *testing.T) {
	a := newApp(&globals{env: Env{}})
	fromFile := map[string]bool{"name": true, "provider": true, "cpus": true, "memory": true, "driver": true, "container-runtime": true,
		"kubernetes-version": true, "wait": true, "registry-port": true}
	h := newHarness(t)
	paths := append([][]string{nil}, commandPaths(a.Commands, nil)...)
	for _, p := range paths {
		if len(p) > 0 && commandAt(a, p).Hidden {
			continue
		}
		if code := h.run(append(append([]string(nil), p...), "--help")...); code != 0 {
			t.Fatalf("%q --help: exit %d\n%s", p, code, h.stderr.String())
		}
		out := h.stdout.String()
		if len(p) > 0 && (!strings.Contains(out, "GLOBAL OPTIONS") || !strings.Contains(out, "--kubeconfig FILE")) {
			t.Errorf("%s --help does not list the global flags:\n%s", strings.Join(p, " "), out)
		}
		for _, line := range strings.Split(out, "\n") {
			l := strings.TrimSpace(line)
			if !strings.HasPrefix(l, "-") {
				continue
			}
			switch {
			case strings.Count(l, "(default") > 1:
				t.Errorf("%s: two defaults: %s", strings.Join(p, " "), l)
			case strings.Contains(l, "(default") && !strings.Contains(l, "(default: "):
				t.Errorf("%s: a default in the usage text instead of urfave/cli's \"(default: …)\": %s", strings.Join(p, " "), l)
			}
			// A zero value shown as the default is urfave/cli's, not the
			// real one (that comes from devcluster.yaml or the code), or a
			// switch's "off", which says nothing.
			for _, zero := range []string{"(default: 0)", `(default: "")`, "(default: false)", "(default: 0s)", "(default: [])"} {
				if strings.Contains(l, zero) {
					t.Errorf("%s: a zero value as the default: %s", strings.Join(p, " "), l)
				}
			}
			name, _, _ := strings.Cut(strings.TrimPrefix(l, "--"), " ")
			name = strings.TrimSuffix(name, ",")
			if fromFile[name] && len(p) == 1 && p[0] == "up" && !strings.Contains(l, "devcluster.yaml") {
				t.Errorf("up --%s takes its default from devcluster.yaml, the help does not say so: %s", name, l)
			}
		}
	}
}

// The command line in urfave/cli's order: global flags first, each
// command with its own flags, then "--" and the arguments.
func TestOrderArgs(t *testing.T) {
	a := newApp(&globals{env: Env{}})
	for _, tc := range []struct{ in, want string }{
		{"up -q", "--quiet=true up"},
		{"-q up", "--quiet=true up"},
		{"status -v -o json", "--verbose=true status -o json"},
		{"up --ci github --cpus=4", "--ci=github up --cpus=4"},
		{"-q --kubeconfig k deploy deployment/web -n apps --image nginx=x:1 sts/db --dry-run --timeout=2m -- -weird",
			"--quiet=true --kubeconfig=k deploy -n apps --image nginx=x:1 --dry-run --timeout=2m -- deployment/web sts/db -weird"},
		{"deploy deployment/web --kubeconfig F", "--kubeconfig=F deploy -- deployment/web"},
		{"registry push a.tar x:1 -o json -q", "--quiet=true registry push -o json -- a.tar x:1"},
		{"registry -q ls --output=json", "--quiet=true registry ls --output=json"},
		{"-qv up -qojson", "--quiet=true --verbose=true up -o json"},
		{"up -qo json -pdev -m 8g", "--quiet=true up -o json -p dev -m 8g"},
		{"deploy -napps deployment/web", "deploy -n apps -- deployment/web"},
		{"up -f - --memory -", "--config=- up --memory -"},
		{"-f a.yaml status -f a.yaml --config=a.yaml", "--config=a.yaml status"},
		{"lb -wo json --provider kind", "lb -w -o json --provider kind"},
		{"agent --name x --kubeconfig own --listen l -v", "--verbose=true agent --name x --kubeconfig own --listen l"},
		{"up --quiet=false", "--quiet=false up"},
		{"-kubeconfig k status", "--kubeconfig=k status"},
		{"bogus -q", "bogus -q"},
		{"help up -q", "help up -q"},
		{"registry help push", "registry help push"},
		{"up --help", "up --help"},
		{"deploy deployment/web -h", "deploy -h -- deployment/web"},
		{"", ""},
	} {
		in := append([]string{"devcluster"}, strings.Fields(tc.in)...)
		got, err := orderArgs(a, in)
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		if g := strings.Join(got[1:], " "); g != tc.want {
			t.Errorf("%q:\n got %s\nwant %s", tc.in, g, tc.want)
		}
	}
}

// What a command sees when it runs: the global flags, its own flags and
// its arguments, through the same path as Run.
type parsed struct {
	command                                  string
	quiet, verbose                           bool
	config, kubeconfig, ci, minikube, output string
	flags                                    map[string]string
	args                                     []string
}

// parse runs argv with every command's action replaced by a recorder.
func parse(t *testing.T, argv ...string) (*parsed, *harness, error) {
	t.Helper()
	h := newHarness(t)
	g := &globals{env: Env{Stdin: strings.NewReader(""), Stdout: &h.stdout, Stderr: &h.stderr,
		LookupEnv: func(string) (string, bool) { return "", false }, IsTerminal: func(io.Writer) bool { return false }}}
	a := newApp(g)
	var got *parsed
	walkCommands(a.Commands, nil, func(path []string, c *cli.Command) {
		if c.Action == nil {
			return
		}
		c.Action = func(c *cli.Context) error {
			got = &parsed{command: strings.Join(path, " "), quiet: g.quiet, verbose: g.verbose, config: g.cfgPath, kubeconfig: g.kubecfg,
				ci: g.ci, minikube: g.minikube, flags: map[string]string{}, args: c.Args().Slice()}
			for _, f := range c.Command.Flags {
				n := f.Names()[0]
				switch _, slice := f.(*cli.StringSliceFlag); {
				case !c.IsSet(n):
				case slice:
					got.flags[n] = strings.Join(c.StringSlice(n), ",")
				default:
					got.flags[n] = fmt.Sprint(c.Value(n))
				}
			}
			return nil
		}
	})
	err := g.run(context.Background(), a, append([]string{"devcluster"}, argv...))
	return got, h, err
}

func TestFlagsInEveryPosition(t *testing.T) {
	for _, tc := range []struct {
		argv string
		want parsed
	}{
		{"up -q", parsed{command: "up", quiet: true}},
		{"status -v", parsed{command: "status", verbose: true}},
		{"up --ci github", parsed{command: "up", ci: "github"}},
		{"up --ci=gitlab --minikube=/opt/mk", parsed{command: "up", ci: "gitlab", minikube: "/opt/mk"}},
		{"deploy deployment/web --kubeconfig F", parsed{command: "deploy", kubeconfig: "F", args: []string{"deployment/web"}}},
		{"deploy deployment/web -n apps sts/db --image=nginx=x:1 --dry-run -- -weird",
			parsed{command: "deploy", flags: map[string]string{"namespace": "apps", "image": "nginx=x:1", "dry-run": "true"}, args: []string{"deployment/web", "sts/db", "-weird"}}},
		{"registry push a.tar app:dev -o json -q", parsed{command: "registry push", quiet: true, output: "json", args: []string{"a.tar", "app:dev"}}},
		{"registry push -- -odd.tar app:dev", parsed{command: "registry push", args: []string{"-odd.tar", "app:dev"}}},
		{"registry -v ls --output=json -p dev", parsed{command: "registry ls", verbose: true, output: "json", flags: map[string]string{"name": "dev"}}},
		{"-qv status -ojson", parsed{command: "status", quiet: true, verbose: true, output: "json"}},
		{"status -qvo json", parsed{command: "status", quiet: true, verbose: true, output: "json"}},
		{"up -f - -d docker", parsed{command: "up", config: "-", flags: map[string]string{"driver": "docker"}}},
		{"-f a.yaml down -f a.yaml --purge", parsed{command: "down", config: "a.yaml", flags: map[string]string{"purge": "true"}}},
		{"lb --provider existing --context staging -w", parsed{command: "lb", flags: map[string]string{"provider": "existing", "context": "staging", "watch": "true"}}},
		{"agent --name x --state-dir s --listen l --kubeconfig own -v",
			parsed{command: "agent", verbose: true, flags: map[string]string{"name": "x", "state-dir": "s", "kubeconfig": "own"}}},
	} {
		t.Run(tc.argv, func(t *testing.T) {
			got, h, err := parse(t, strings.Fields(tc.argv)...)
			if err != nil || got == nil {
				t.Fatalf("%v\n%s", err, h.stderr.String())
			}
			want := tc.want
			if want.ci == "" {
				want.ci = "auto"
			}
			got.output = got.flags["output"]
			delete(got.flags, "output")
			delete(got.flags, "listen")
			if want.flags == nil {
				want.flags = map[string]string{}
			}
			if got.command != want.command || got.quiet != want.quiet || got.verbose != want.verbose || got.config != want.config ||
				got.kubeconfig != want.kubeconfig || got.ci != want.ci || got.minikube != want.minikube || got.output != want.output ||
				!maps.Equal(got.flags, want.flags) || !slices.Equal(got.args, want.args) {
				t.Errorf("got  %+v\nwant %+v", *got, want)
			}
		})
	}
}

func TestFlagMistakes(t *testing.T) {
	for _, tc := range []struct{ argv, want string }{
		{"-f a.yaml up -f b.yaml", `--config is given twice, as "a.yaml" and "b.yaml"`},
		{"--kubeconfig a deploy deployment/web --kubeconfig=b", `--kubeconfig is given twice, as "a" and "b"`},
		{"up -q --quiet=false", `--quiet is given twice, as "true" and "false"`},
		{"up --quiet=maybe", `invalid value "maybe" for flag --quiet`},
		{"up -n dev", "up has no -n: -n is --namespace (deploy, service)"},
		{"status -qn dev", "status has no -n: -n is --namespace (deploy, service)"},
		{"registry push -n dev a b", "registry push has no -n"},
		{"diagnose -d out", "diagnose has no -d: -d is --driver (up)"},
		{"-n dev up", "there is no global -n: -n is --namespace (deploy, service)"},
		{"deploy deployment/web -p dev", "deploy has no -p: -p is --name (up, down, stop, …)"},
		{"up -f", "flag needs an argument: -f"},
		{"up --kubeconfig", "flag needs an argument: --kubeconfig"},
		{"up -qo", "flag needs an argument: -o"},
		{"up -o", "flag needs an argument: -o"},
		{"up --bogus", "unknown flag: --bogus"},
		{"up -x", "unknown flag: -x"},
		{"-qx up", "unknown flag: -qx"},
		{"registry push a b --tokn=s3cr3t", "unknown flag: --tokn\n"},
	} {
		t.Run(tc.argv, func(t *testing.T) {
			got, h, err := parse(t, strings.Fields(tc.argv)...)
			if ExitCode(err) != ExitUsage || got != nil {
				t.Fatalf("exit %d (%v), the command ran: %v", ExitCode(err), err, got != nil)
			}
			if !strings.Contains(h.stderr.String(), tc.want) || strings.Contains(h.stderr.String(), "s3cr3t") {
				t.Errorf("stderr lacks %q or shows a mistyped flag's value:\n%s", tc.want, h.stderr.String())
			}
		})
	}
}

// Every command that addresses a cluster by --name can be told its
// provider and context, as up, down and status can (lb and the registry's
// subcommands read them, and ignored them while they had no such flags).
func TestClusterCommandsTakeProviderAndContext(t *testing.T) {
	a := newApp(&globals{env: Env{}})
	walkCommands(a.Commands, nil, func(path []string, c *cli.Command) {
		if c.Hidden || flagNamed(c.Flags, "name") == nil {
			return
		}
		for _, want := range []string{"provider", "context"} {
			if flagNamed(c.Flags, want) == nil {
				t.Errorf("%s takes --name but not --%s", strings.Join(path, " "), want)
			}
		}
	})
}
