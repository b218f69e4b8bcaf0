//go:build contract

package contract

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/devcluster/devcluster/config"
	"github.com/devcluster/devcluster/internal/run"
	"github.com/devcluster/devcluster/provider"
	"github.com/devcluster/devcluster/provider/minikube"
)

// accepted are the known differences between real minikube and the
// stand-in that devcluster does not depend on, each with its reason. Every
// other difference fails the tier.
var accepted = []struct {
	// cases is a substring of the case name ("" for every case); aspect
	// is the start of the aspect.
	cases, aspect, reason string
}{
	{"", "event types", "real minikube also prints info events (the MINIKUBE_* variables it sees, \"Using Docker driver with root privileges\") and, when it gets to provisioning, warnings about images it cannot cache offline; devcluster shows info and warning events as progress only"},
}

func acceptedReason(name string, d difference) string {
	for _, a := range accepted {
		if strings.Contains(name, a.cases) && strings.HasPrefix(d.aspect, a.aspect) {
			return a.reason
		}
	}
	return ""
}

// check runs args against both binaries, each in a fresh home prepared by
// setup (stand-in commands, run as root before the case), and fails on a
// difference that is not accepted.
func check(t *testing.T, w world, setup setupFunc, args ...string) (real, standin outcome) {
	t.Helper()
	rh, sh := newHome(t, w), newHome(t, w)
	if setup != nil {
		setup(t, rh, false)
		setup(t, sh, true)
		rh.chown(t)
		sh.chown(t)
	}
	real = rh.exec(t, false, args...)
	standin = sh.exec(t, true, args...)
	report(t, w, real, standin)
	return real, standin
}

// report fails on the differences between two runs that are not accepted.
func report(t *testing.T, w world, real, standin outcome) {
	t.Helper()
	var unexpected []difference
	for _, d := range compare(real, standin) {
		if reason := acceptedReason(t.Name(), d); reason != "" {
			t.Logf("accepted: %s: real %q, stand-in %q (%s)", d.aspect, d.real, d.standin, reason)
			continue
		}
		unexpected = append(unexpected, d)
	}
	args := strings.Join(real.argv, " ")
	if len(unexpected) > 0 {
		t.Errorf("minikube %s (%s): real minikube and the stand-in differ:\n%s\nreal stdout:\n%s\nreal stderr:\n%s\nstand-in stdout:\n%s\nstand-in stderr:\n%s",
			args, w, table(unexpected), tail(real.stdout), tail(real.stderr), tail(standin.stdout), tail(standin.stderr))
		return
	}
	t.Logf("minikube %s (%s): exit %d, errors [%s], reasons [%s] (real %s, stand-in %s)", args, w,
		real.code, strings.Join(real.named, ", "), strings.Join(real.reasons, ", "), real.ran.Round(1e6), standin.ran.Round(1e6))
}

func tail(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > 15 {
		lines = lines[len(lines)-15:]
	}
	for i, l := range lines {
		if len(l) > 300 {
			lines[i] = l[:300] + "…"
		}
	}
	return "    " + strings.Join(lines, "\n    ")
}

// setupFunc prepares a home before a case; standin says for which binary.
type setupFunc func(t *testing.T, h *home, standin bool)

// standinSetup returns a setup that runs stand-in commands in the home as
// a healthy, unprivileged host would (the profile states cases start
// from).
func standinSetup(cmds ...[]string) setupFunc {
	return func(t *testing.T, h *home, _ bool) {
		t.Helper()
		setupHome := &home{dir: h.dir, w: world{docker: dockerHealthy}}
		for _, args := range cmds {
			env := setupHome.env(true)
			env = slices.DeleteFunc(env, func(s string) bool { return strings.HasPrefix(s, "STANDIN_FAIL_START=") })
			out := runStandin(t, env, h.dir, args...)
			if out != "" {
				t.Fatalf("setup: stand-in %s: %s", strings.Join(args, " "), out)
			}
		}
	}
}

func runStandin(t *testing.T, env []string, dir string, args ...string) string {
	t.Helper()
	res, err := (&run.Local{Env: env}).Run(context.Background(), run.Cmd{Name: standIn, Args: args})
	if err != nil {
		return err.Error() + "\n" + string(res.Stdout) + string(res.Stderr)
	}
	return ""
}

// hostMissing leaves a profile without minikube's record of its machine
// (machines/NAME deleted by hand, or a store on a tmpfs after a reboot).
func hostMissing(name string) setupFunc {
	create := standinSetup([]string{"start", "-p", name})
	return func(t *testing.T, h *home, standin bool) {
		create(t, h, standin)
		if err := os.RemoveAll(filepath.Join(h.dir, ".minikube", "machines", name)); err != nil {
			t.Fatal(err)
		}
	}
}

// machineGone leaves a profile whose machine minikube recorded but which
// does not exist: what a create that failed to provision leaves behind,
// and what `docker rm -f` of a cluster's container does. For real minikube
// that is the home its own failed create left (see failedCreate); for the
// stand-in, its failed create.
func machineGone(t *testing.T, h *home, standin bool) {
	t.Helper()
	src := failedCreate(t)
	from := src.real.home
	if standin {
		from = src.standin.home
	}
	if out, err := exec.Command("cp", "-a", from+"/.", h.dir).CombinedOutput(); err != nil {
		t.Fatalf("copying the failed create's home: %v\n%s", err, out)
	}
}

var (
	failedOnce sync.Once
	failed     struct{ real, standin outcome }
)

// failedCreate runs devcluster's create command line once on the healthy
// docker, which creates nothing: real minikube retries, fails to provision
// and leaves the profile behind.
func failedCreate(t *testing.T) struct{ real, standin outcome } {
	t.Helper()
	failedOnce.Do(func() {
		w := world{docker: dockerHealthy}
		rh, sh := newHome(t, w), newHome(t, w)
		args := minikube.StartArgs(devclusterSpec("dc"))
		failed.real = rh.exec(t, false, args...)
		failed.standin = sh.exec(t, true, args...)
	})
	if failed.real.argv == nil {
		t.Fatal("the failed create did not run")
	}
	return failed
}

// recorder collects the command lines the provider runs.
type recorder struct {
	inner run.Runner
	argv  [][]string
}

func (r *recorder) Run(ctx context.Context, c run.Cmd) (run.Result, error) {
	r.argv = append(r.argv, slices.Clone(c.Args))
	return r.inner.Run(ctx, c)
}

// providerCommands drives devcluster's minikube provider through a whole
// cluster lifecycle against the stand-in and returns every distinct
// command line it ran, with the profile name given.
func providerCommands(t *testing.T, spec provider.Spec) [][]string {
	t.Helper()
	// Under work, open to everyone: the paths it passes (logs --file, cp
	// SRC) must be usable by the unprivileged user the cases run as.
	dir, err := os.MkdirTemp(work, "provider-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	env := []string{"MINIKUBE_HOME=" + dir, "HOME=" + dir, "KUBECONFIG=" + filepath.Join(dir, "kubeconfig"), "STANDIN_EUID=1000"}
	rec := &recorder{inner: &run.Local{Env: append(os.Environ(), env...)}}
	lookup := func(k string) (string, bool) {
		for _, kv := range env {
			if strings.HasPrefix(kv, k+"=") {
				return kv[len(k)+1:], true
			}
		}
		return "", false
	}
	p := minikube.New(rec, minikube.WithBinary(standIn), minikube.WithEnv(lookup))
	ctx := context.Background()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, []byte("x\n"), 0o666); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		what string
		do   func() error
	}{
		{"EnsureInstalled", func() error { _, err := p.EnsureInstalled(ctx); return err }},
		{"Get (absent)", func() error { _, err := p.Get(ctx, spec.Name); return err }},
		{"Create", func() error { return p.Create(ctx, spec, nil) }},
		{"Get", func() error { _, err := p.Get(ctx, spec.Name); return err }},
		{"RepairKubeconfig", func() error { return p.RepairKubeconfig(ctx, spec.Name) }},
		{"IP", func() error { _, err := p.IP(ctx, spec.Name); return err }},
		{"RunOnNode (mkdir)", func() error { _, err := p.RunOnNode(ctx, spec.Name, "", "mkdir", "-p", "/etc/devcluster"); return err }},
		{"CopyToNode", func() error { return p.CopyToNode(ctx, spec.Name, "", file, "/etc/devcluster/contract") }},
		{"RunOnNode (cat)", func() error { _, err := p.RunOnNode(ctx, spec.Name, "", "cat", "/etc/devcluster/contract"); return err }},
		{"RunOnNode (second node)", func() error { _, err := p.RunOnNode(ctx, spec.Name, spec.Name+"-m02", "true"); return err }},
		{"Logs", func() error { return p.Logs(ctx, spec.Name, filepath.Join(dir, "logs.txt")) }},
		{"Unpause", func() error { return p.Unpause(ctx, spec.Name, nil) }},
		{"Start", func() error { return p.Start(ctx, spec.Name, nil) }},
		{"Delete", func() error { return p.Delete(ctx, spec.Name, nil) }},
	}
	for _, s := range steps {
		if err := s.do(); err != nil && !strings.Contains(s.what, "second node") {
			t.Fatalf("provider %s against the stand-in: %v", s.what, err)
		}
	}
	// The cases write the logs afresh.
	_ = os.Remove(filepath.Join(dir, "logs.txt"))
	var out [][]string
	for _, argv := range rec.argv {
		if !slices.ContainsFunc(out, func(a []string) bool { return slices.Equal(a, argv) }) {
			out = append(out, argv)
		}
	}
	return out
}

func devclusterSpec(name string) provider.Spec {
	return provider.Spec{Name: name, CPUs: config.CPUs{Count: 2}, Memory: config.Memory{MB: 4000},
		ContainerRuntime: "containerd", KubernetesVersion: "v1.35.1", InsecureRegistries: []string{"192.168.49.1:5001", "10.0.0.0/24"}}
}

// withDryRun makes a start validate only.
func withDryRun(argv []string) []string {
	if argv[0] != "start" {
		return argv
	}
	return append(slices.Clone(argv), "--dry-run")
}

// Every command line devcluster's provider runs, against a missing profile
// and a profile whose machine is gone, under every docker state.
func TestProviderCommands(t *testing.T) {
	cmds := providerCommands(t, devclusterSpec("dc"))
	t.Logf("the provider ran %d distinct command lines", len(cmds))
	for _, docker := range dockerStates {
		for _, argv := range cmds {
			argv := withDryRun(argv)
			name := docker + "/" + strings.Join(argv, " ")
			t.Run("missing profile/"+name, func(t *testing.T) {
				check(t, world{docker: docker}, nil, argv...)
			})
			if argv[0] == "version" {
				continue
			}
			t.Run("machine gone/"+name, func(t *testing.T) {
				check(t, world{docker: docker}, machineGone, argv...)
			})
			t.Run("no machine record/"+name, func(t *testing.T) {
				check(t, world{docker: docker}, hostMissing("dc"), argv...)
			})
		}
	}
}

// Every create and resume command line devcluster can produce, validated
// with --dry-run, as an unprivileged user and as root.
func TestStartArgs(t *testing.T) {
	specs := map[string]provider.Spec{"default": devclusterSpec("dc")}
	add := func(name string, edit func(*provider.Spec)) {
		s := devclusterSpec("dc")
		edit(&s)
		specs[name] = s
	}
	add("docker driver", func(s *provider.Spec) { s.Driver = "docker" })
	add("docker runtime", func(s *provider.Spec) { s.ContainerRuntime = "docker" })
	add("cri-o runtime", func(s *provider.Spec) { s.ContainerRuntime = "cri-o" })
	add("max resources", func(s *provider.Spec) { s.CPUs = config.CPUs{Special: "max"}; s.Memory = config.Memory{Special: "max"} })
	add("no-limit", func(s *provider.Spec) {
		s.Driver = "docker"
		s.CPUs = config.CPUs{Special: "no-limit"}
		s.Memory = config.Memory{Special: "no-limit"}
	})
	add("no registries", func(s *provider.Spec) { s.InsecureRegistries = nil })
	add("oldest supported Kubernetes", func(s *provider.Spec) { s.KubernetesVersion = "v1.28.0" })
	add("default Kubernetes", func(s *provider.Spec) { s.KubernetesVersion = "" })
	add("extra start args", func(s *provider.Spec) { s.ExtraStartArgs = []string{"--disk-size=30g", "--addons=ingress"} })
	add("forced", func(s *provider.Spec) { s.ExtraStartArgs = []string{"--force"} })
	add("kvm2", func(s *provider.Spec) { s.Driver = "kvm2" })
	add("podman", func(s *provider.Spec) { s.Driver = "podman" })
	add("qemu2", func(s *provider.Spec) { s.Driver = "qemu2" })
	add("virtualbox", func(s *provider.Spec) { s.Driver = "virtualbox" })
	add("none", func(s *provider.Spec) { s.Driver = "none" })
	names := make([]string, 0, len(specs))
	for n := range specs {
		names = append(names, n)
	}
	slices.Sort(names)
	resume := []string{"start", "-p", "dc", "--interactive=false", "--output=json", "--dry-run"}
	for _, root := range []bool{false, true} {
		for _, docker := range dockerStates {
			w := world{docker: docker, root: root}
			for _, n := range names {
				argv := withDryRun(minikube.StartArgs(specs[n]))
				t.Run(w.String()+"/create "+n, func(t *testing.T) { check(t, w, nil, argv...) })
			}
			t.Run(w.String()+"/resume", func(t *testing.T) {
				check(t, w, standinSetup([]string{"start", "-p", "dc"}, []string{"stop", "-p", "dc"}), resume...)
			})
			t.Run(w.String()+"/resume after a failed create", func(t *testing.T) { check(t, w, machineGone, resume...) })
		}
	}
}

// Validation failures minikube reports before it touches a driver.
func TestValidation(t *testing.T) {
	cases := map[string][]string{
		"cpus below the minimum":                {"--cpus=1"},
		"cpus not a number":                     {"--cpus=two"},
		"memory below the minimum":              {"--memory=1000mb"},
		"memory unparseable":                    {"--memory=foo"},
		"memory above the host":                 {"--memory=64g"},
		"insecure registry with a scheme":       {"--insecure-registry=ftp://x"},
		"Kubernetes too old":                    {"--kubernetes-version=v1.20.0"},
		"Kubernetes newer than minikube knows":  {"--kubernetes-version=v1.99.0"},
		"Kubernetes not a version":              {"--kubernetes-version=foo"},
		"unknown driver":                        {"--driver=foo"},
		"unknown runtime":                       {"--container-runtime=rkt"},
		"invalid profile name":                  {"-p", "x_y"},
		"unknown flag":                          {"--foo"},
		"json output of a validation failure":   {"-o", "json", "--cpus=1"},
		"json output of an unknown Kubernetes":  {"-o", "json", "--kubernetes-version=v1.99.0"},
		"json output of a too-old Kubernetes":   {"-o", "json", "--kubernetes-version=v1.20.0"},
		"no-limit memory on a VM driver":        {"--driver=kvm2", "--memory=no-limit"},
		"json output with the driver named too": {"-o", "json", "--driver=docker", "--memory=1000mb"},
	}
	names := make([]string, 0, len(cases))
	for n := range cases {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, docker := range dockerStates {
		for _, n := range names {
			argv := append([]string{"start", "--dry-run"}, cases[n]...)
			t.Run(docker+"/"+n, func(t *testing.T) { check(t, world{docker: docker}, nil, argv...) })
		}
	}
}

// The lifecycle commands on missing profiles (no profile at all, and a
// profile other than the one asked for).
func TestMissingProfiles(t *testing.T) {
	other := standinSetup([]string{"start", "-p", "other"})
	for _, argv := range [][]string{
		{"status", "-p", "nope", "-o", "json"},
		{"status", "-p", "nope"},
		{"ip", "-p", "nope"},
		{"profile", "list", "-o", "json"},
		{"update-context", "-p", "nope"},
		{"ssh", "-p", "nope", "--", "true"},
		{"unpause", "-p", "nope"},
		{"stop", "-p", "nope"},
		{"delete", "-p", "nope"},
		{"logs", "-p", "nope"},
	} {
		for _, docker := range dockerStates {
			t.Run(docker+"/none/"+strings.Join(argv, " "), func(t *testing.T) { check(t, world{docker: docker}, nil, argv...) })
			t.Run(docker+"/another/"+strings.Join(argv, " "), func(t *testing.T) { check(t, world{docker: docker}, other, argv...) })
		}
	}
}

// A start that gets past validation and fails to provision (the healthy
// docker creates nothing): several error events, one named; and the
// profile real minikube saved before it failed, compared field by field
// with the one the stand-in saves.
func TestProvisionFailure(t *testing.T) {
	f := failedCreate(t)
	real, standin := f.real, f.standin
	report(t, world{docker: dockerHealthy}, real, standin)
	if !slices.Contains(real.named, "GUEST_PROVISION exit 80") || real.unnamed < 2 {
		t.Fatalf("real minikube: want GUEST_PROVISION among several error events, got named %v and %d unnamed", real.named, real.unnamed)
	}
	want, got := readConfig(t, real.home, "dc"), readConfig(t, standin.home, "dc")
	for k, v := range want {
		if got[k] != v {
			t.Errorf("saved profile: real minikube wrote %s = %s, the stand-in %s", k, v, or(got[k], "nothing"))
		}
	}
	for k, v := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("saved profile: the stand-in wrote %s = %s, real minikube nothing", k, v)
		}
	}
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// A profile the stand-in writes, read back by real minikube's `profile
// list -o json`: every field devcluster reads must survive the round trip.
func TestProfileRoundTrip(t *testing.T) {
	w := world{docker: dockerHealthy}
	h := newHome(t, w)
	args := slices.DeleteFunc(minikube.StartArgs(devclusterSpec("dc")), func(s string) bool { return s == "--output=json" })
	standinSetup(args)(t, h, true)
	h.chown(t)
	saved := readConfig(t, h.dir, "dc")
	real := h.exec(t, false, "profile", "list", "-o", "json")
	standin := h.exec(t, true, "profile", "list", "-o", "json")
	if d := compare(real, standin); len(d) > 0 {
		t.Errorf("profile list -o json of the stand-in's profile:\n%s", table(d))
	}
	for k, v := range saved {
		if got := real.fields["valid.0.Config."+k]; got != v {
			t.Errorf("real minikube read %s as %s; the stand-in saved %s", k, got, v)
		}
	}
	if len(saved) < 10 {
		t.Fatalf("only %d fields devcluster reads in the saved profile: %v", len(saved), saved)
	}
}

// readConfig flattens the fields devcluster reads from a saved profile.
func readConfig(t *testing.T, dir, name string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, ".minikube", "profiles", name, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	f := map[string]string{}
	flatten("", v, f)
	for k := range f {
		if !readByDevcluster(k) {
			delete(f, k)
		}
	}
	return f
}
