// Package minikube implements provider.Provider with the minikube binary.
//
// devcluster decides on minikube's exit codes and JSON output, never on its
// human text (which changes between releases and loses spinner lines when
// not on a terminal). Facts it relies on:
//   - `profile list -o json` lists profiles with their saved ClusterConfig;
//   - `status -o json` exits with bit flags (1 host, 2 cluster, 4 kubeconfig
//     not OK) and 85 when the profile does not exist;
//   - `start` on an existing profile only warns about changed cpus/memory and
//     silently ignores a changed --insecure-registry, so devcluster compares
//     the saved config itself (Diff) before starting anything.
package minikube

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/devcluster/devcluster/config"
	"github.com/devcluster/devcluster/internal/problem"
	"github.com/devcluster/devcluster/internal/run"
	"github.com/devcluster/devcluster/provider"
)

// Exit codes of minikube that devcluster branches on
// (pkg/minikube/reason/exitcodes.go).
const (
	exitUsage                 = 14  // ExProgramUsage
	exitInsufficientMemory    = 23  // ExInsufficientMemory (RSRC_INSUFFICIENT_REQ_MEMORY)
	exitInsufficientCores     = 29  // ExInsufficientCores (RSRC_INSUFFICIENT_CORES)
	exitDriverNotFound        = 55  // ExDriverNotFound (DRV_NOT_DETECTED, DRV_DOCKER_NOT_RUNNING)
	exitDriverUnsupported     = 56  // ExDriverUnsupported (DRV_UNSUPPORTED_OS, unknown driver)
	exitDriverPermission      = 57  // ExDriverPermission (DRV_AS_ROOT)
	exitProviderNotRunning    = 63  // ExProviderNotRunning (PROVIDER_DOCKER_NOT_RUNNING)
	exitProviderNotFound      = 65  // ExProviderNotFound (PROVIDER_*_NOT_FOUND)
	exitProviderUnavailable   = 69  // ExProviderUnavailable
	exitGuestError            = 80  // ExGuestError (GUEST_STATUS, GUEST_PROVISION, ...)
	exitGuestNotRuning        = 83  // ExGuestNotRunning
	exitGuestNotFound         = 85  // ExGuestNotFound
	exitControlPlaneUnsupport = 106 // ExControlPlaneUnsupported (K8S_DOWNGRADE_UNSUPPORTED, versions)
)

// MinVersion is the oldest minikube devcluster drives: it has the JSON
// shapes and flags used here.
const MinVersion = "v1.30.0"

// InstallHint is shown when the binary is missing.
const InstallHint = "install minikube (https://minikube.sigs.k8s.io/docs/start/) and make sure `minikube` is on your PATH, or set MINIKUBE_BINARY / --minikube to its path"

// Minikube drives the minikube binary.
type Minikube struct {
	runner run.Runner
	binary string
	// env reads the environment minikube runs in (MINIKUBE_HOME, HOME).
	env func(string) (string, bool)
	// versionCache is a file remembering the version of each executable.
	versionCache string
	// version is recorded by EnsureInstalled.
	version string
	// lookPath finds executables on PATH (drivers' tools).
	lookPath func(string) (string, error)
	// kubeconfig is the explicit kubeconfig file minikube writes the
	// context to ("" = minikube's default: the first file of $KUBECONFIG,
	// else ~/.kube/config).
	kubeconfig string
}

// Option configures a Minikube.
type Option func(*Minikube)

// WithBinary sets the minikube executable (default "minikube" on PATH).
func WithBinary(path string) Option {
	return func(m *Minikube) {
		if path != "" {
			m.binary = path
		}
	}
}

// WithEnv sets how the environment minikube runs in is read (default: this
// process'), to find its profiles as minikube does.
func WithEnv(lookup func(string) (string, bool)) Option {
	return func(m *Minikube) {
		if lookup != nil {
			m.env = lookup
		}
	}
}

// WithVersionCache keeps the version of each minikube executable in file,
// keyed by its path, size and modification time, so `minikube version` runs
// once per installed binary rather than on every command.
func WithVersionCache(file string) Option {
	return func(m *Minikube) { m.versionCache = file }
}

// WithLookPath sets how executables are found on PATH (default
// run.Which of the runner).
func WithLookPath(f func(string) (string, error)) Option {
	return func(m *Minikube) {
		if f != nil {
			m.lookPath = f
		}
	}
}

// WithKubeconfig makes minikube write, check and delete the cluster's
// context in file: minikube has no flag for it, so its commands run with
// KUBECONFIG=file.
func WithKubeconfig(file string) Option {
	return func(m *Minikube) { m.kubeconfig = file }
}

// New returns a minikube provider that runs commands through r.
func New(r run.Runner, opts ...Option) *Minikube {
	m := &Minikube{runner: r, binary: "minikube", env: os.LookupEnv}
	for _, o := range opts {
		o(m)
	}
	return m
}

var _ provider.Provider = (*Minikube)(nil)

// Name implements provider.Provider.
func (m *Minikube) Name() string { return "minikube" }

// OwnsClusters implements provider.Provider: devcluster creates and
// deletes minikube clusters.
func (m *Minikube) OwnsClusters() bool { return true }

func (m *Minikube) run(ctx context.Context, p provider.Progress, args ...string) (run.Result, error) {
	c := run.Cmd{Name: m.binary, Args: args}
	if m.kubeconfig != "" {
		c.Env = []string{"KUBECONFIG=" + m.kubeconfig}
	}
	if p != nil {
		c.OnLine = func(_ run.Stream, line string) { relay(p, line) }
	}
	return m.runner.Run(ctx, c)
}

// relay turns minikube's output (CloudEvents with -o json, or text) into
// progress lines.
func relay(p provider.Progress, line string) {
	if ev, ok := parseEvent(line); ok {
		switch ev.Type {
		case eventStep, eventInfo:
			p(strings.TrimSpace(ev.Data["message"]))
		case eventWarning:
			p("warning: " + strings.TrimSpace(ev.Data["message"]))
		}
		return
	}
	if l := strings.TrimSpace(line); l != "" {
		p(l)
	}
}

// EnsureInstalled implements provider.Provider: `minikube version -o json`,
// or the version remembered for this very executable.
func (m *Minikube) EnsureInstalled(ctx context.Context) (string, error) {
	cached, entry := m.cachedVersion()
	if cached != "" && compareVersions(cached, MinVersion) >= 0 {
		m.version = cached
		return cached, nil
	}
	res, err := m.run(ctx, nil, "version", "-o", "json")
	if err != nil {
		if run.IsNotFound(err) {
			return "", problem.New(problem.Missing, "minikube is not installed",
				&provider.ToolMissing{Tool: "minikube", Binary: m.binary}, InstallHint)
		}
		return "", problem.New(problem.Failed, "checking the minikube version", err,
			"run `minikube version` yourself to see what is wrong with the installation")
	}
	var v versionJSON
	if err := json.Unmarshal(res.Stdout, &v); err != nil || v.MinikubeVersion == "" {
		return "", problem.New(problem.Failed, "checking the minikube version",
			fmt.Errorf("unexpected output of `minikube version -o json`: %q", strings.TrimSpace(string(res.Stdout))), "")
	}
	if compareVersions(v.MinikubeVersion, MinVersion) < 0 {
		return "", problem.New(problem.Missing, "minikube is too old",
			fmt.Errorf("found %s, devcluster needs %s or newer", v.MinikubeVersion, MinVersion),
			"upgrade minikube: https://minikube.sigs.k8s.io/docs/start/")
	}
	m.version = v.MinikubeVersion
	entry.Version = v.MinikubeVersion
	m.rememberVersion(entry)
	return v.MinikubeVersion, nil
}

var (
	_ provider.Installable = (*Minikube)(nil)
	_ provider.Stoppable   = (*Minikube)(nil)
)

// Tool implements provider.Installable.
func (m *Minikube) Tool() string { return m.Name() }

// UseBinary implements provider.Installable.
func (m *Minikube) UseBinary(path string) { m.binary, m.version = path, "" }

// DriverHint says how to get a driver for minikube.
const DriverHint = "install Docker (https://docs.docker.com/get-docker/) or another minikube driver (https://minikube.sigs.k8s.io/docs/drivers/)"

// vmDriverTools are executables of minikube's VM drivers: one of them on
// PATH means minikube may find a driver without Docker or Podman.
var vmDriverTools = []string{"qemu-system-x86_64", "qemu-system-aarch64", "virsh", "VBoxManage", "vfkit", "hyperkit", "prlctl", "vmrun"}

// CheckPrerequisites implements provider.Installable: the container engine
// of the docker or podman driver answers; with no driver chosen, Docker or
// Podman answers or a VM driver's executable is on PATH. Other drivers are
// left to minikube's own checks.
func (m *Minikube) CheckPrerequisites(ctx context.Context, want provider.Spec) error {
	switch want.Driver {
	case "docker", "podman":
		return m.checkEngine(ctx, want.Driver)
	case "":
		dockerErr := m.checkEngine(ctx, "docker")
		if dockerErr == nil || m.checkEngine(ctx, "podman") == nil {
			return nil
		}
		lookPath := m.lookPath
		if lookPath == nil {
			lookPath = func(name string) (string, error) { return run.Which(m.runner, name) }
		}
		for _, t := range vmDriverTools {
			if _, err := lookPath(t); err == nil {
				return nil
			}
		}
		var p *problem.Error
		if errors.As(dockerErr, &p) && !strings.Contains(p.What, "not installed") {
			return dockerErr
		}
		return problem.New(problem.Missing, "minikube has no driver to run the cluster with",
			errors.New("neither Docker nor Podman nor a VM driver (qemu, kvm2, VirtualBox, vfkit, ...) was found"), DriverHint)
	}
	return nil
}

// checkEngine runs `<engine> version`, which fails when the engine's
// daemon (or machine) does not answer.
func (m *Minikube) checkEngine(ctx context.Context, engine string) error {
	_, err := m.runner.Run(ctx, run.Cmd{Name: engine, Args: []string{"version"}})
	switch {
	case err == nil:
		return nil
	case run.IsNotFound(err):
		return problem.New(problem.Missing, engine+" is not installed", fmt.Errorf("the %s driver needs %q on PATH", engine, engine), DriverHint)
	}
	return problem.New(problem.Missing, engine+" is installed but not running", err,
		"start it (`sudo systemctl start "+engine+"`, Docker Desktop, or `podman machine start`) and run `devcluster up` again")
}

// Get implements provider.Provider with one minikube process: the saved
// configuration is read from the profile's config.json (what `profile list`
// would print), the state from `status -o json`.
func (m *Minikube) Get(ctx context.Context, name string) (*provider.Cluster, error) {
	c := &provider.Cluster{Name: name, Provider: m.Name(), ProviderVersion: m.version, State: provider.Absent,
		InsecureRegistries: []string{}}
	cfg, err := m.readProfile(name)
	switch {
	case errors.Is(err, errNoProfile):
		return c, nil
	case errors.Is(err, errInvalidProfile):
		c.State = provider.Invalid
		c.Detail = "minikube lists the profile as invalid (" + strings.TrimPrefix(err.Error(), errInvalidProfile.Error()+": ") + ")"
		return c, nil
	case err != nil:
		return nil, problem.New(problem.Failed, "reading the minikube profile", err, "run `minikube profile list` to see the problem")
	}
	fill(c, cfg)

	res, err := m.run(ctx, nil, "status", "-p", name, "-o", "json")
	code := run.ExitCode(err)
	switch {
	case err == nil || (code >= 1 && code <= 7):
		st, perr := parseStatus(res.Stdout)
		if perr != nil {
			return nil, problem.New(problem.Failed, "reading minikube status",
				fmt.Errorf("unexpected output of `minikube status -o json`: %w", perr), "")
		}
		c.State, c.Detail, c.KubeconfigOK = stateOf(st)
	case code == exitGuestNotFound:
		// The profile went away since its file was read.
		c.State = provider.Absent
	case machineGone(err):
		c.State, c.Detail = provider.Invalid, "minikube has the profile but its machine is gone (GUEST_STATUS)"
	case run.IsNotFound(err):
		// The profile says a cluster may exist; only minikube can say
		// more, or delete it.
		mini, _ := m.miniPath()
		return nil, problem.New(problem.Missing, fmt.Sprintf("minikube is not installed, but its profile %q exists (%s)", name, filepath.Join(mini, "profiles", name)),
			&provider.ToolMissing{Tool: "minikube", Binary: m.binary}, InstallHint+"; then run the command again")
	default:
		return nil, problem.New(problem.Failed, "reading minikube status", err, "run `minikube status -p "+name+"` to see the problem")
	}
	return c, nil
}

func fill(c *provider.Cluster, cfg *clusterConfig) {
	c.CPUs = cfg.CPUs
	c.MemoryMB = cfg.Memory
	c.Driver = cfg.Driver
	c.ContainerRuntime = cfg.KubernetesConfig.ContainerRuntime
	c.KubernetesVersion = cfg.KubernetesConfig.KubernetesVersion
	if cfg.InsecureRegistry != nil {
		c.InsecureRegistries = slices.Clone(cfg.InsecureRegistry)
	}
	c.Nodes = len(cfg.Nodes)
	c.NodeNames = nil
	for _, n := range cfg.Nodes {
		if n.Name == "" {
			c.NodeNames = append([]string{c.Name}, c.NodeNames...)
		} else {
			c.NodeNames = append(c.NodeNames, n.Name)
		}
	}
	for _, n := range cfg.Nodes {
		if n.ControlPlane || n.Name == "" {
			c.IP = n.IP
			if c.KubernetesVersion == "" {
				c.KubernetesVersion = n.KubernetesVersion
			}
			break
		}
	}
	c.KubeContext = c.Name
}

// stateOf folds the per-node status into one cluster state.
func stateOf(nodes []status) (provider.State, string, bool) {
	if len(nodes) == 0 {
		return provider.Stopped, "minikube reports no running machine", false
	}
	kubeconfigOK := true
	for _, n := range nodes {
		if !n.Worker && n.Kubeconfig != "Configured" && n.Kubeconfig != "Irrelevant" {
			kubeconfigOK = false
		}
	}
	for _, n := range nodes {
		if n.Host != "Running" {
			return provider.Stopped, fmt.Sprintf("node %s host is %s", n.Name, n.Host), kubeconfigOK
		}
	}
	for _, n := range nodes {
		if n.APIServer == "Paused" {
			return provider.Paused, "", kubeconfigOK
		}
	}
	for _, n := range nodes {
		apiOK := n.APIServer == "Running" || n.APIServer == "Irrelevant"
		if !apiOK || n.Kubelet != "Running" {
			return provider.Degraded, fmt.Sprintf("node %s: apiserver %s, kubelet %s", n.Name, n.APIServer, n.Kubelet), kubeconfigOK
		}
	}
	return provider.Running, "", kubeconfigOK
}

// StartArgs returns the `minikube start` arguments for a new cluster.
func StartArgs(want provider.Spec) []string {
	args := []string{"start", "-p", want.Name,
		"--cpus=" + want.CPUs.String(),
		"--memory=" + memoryFlag(want.Memory),
		"--container-runtime=" + want.ContainerRuntime,
	}
	if want.Driver != "" {
		args = append(args, "--driver="+want.Driver)
	}
	if want.KubernetesVersion != "" {
		args = append(args, "--kubernetes-version="+want.KubernetesVersion)
	}
	for _, r := range want.InsecureRegistries {
		args = append(args, "--insecure-registry="+r)
	}
	// --interactive=false: never prompt (CI has no one to answer).
	args = append(args, "--interactive=false", "--output=json")
	return append(args, want.ExtraStartArgs...)
}

func memoryFlag(m config.Memory) string {
	if m.Special != "" {
		return m.Special
	}
	return strconv.Itoa(m.MB) + "mb"
}

// Create implements provider.Provider.
func (m *Minikube) Create(ctx context.Context, want provider.Spec, p provider.Progress) error {
	res, err := m.run(ctx, p, StartArgs(want)...)
	if err != nil {
		return startError(fmt.Sprintf("creating minikube cluster %q", want.Name), want.Name, res, err)
	}
	return nil
}

// Start implements provider.Provider: a plain `start -p NAME` resumes a
// stopped profile with its saved settings.
func (m *Minikube) Start(ctx context.Context, name string, p provider.Progress) error {
	res, err := m.run(ctx, p, "start", "-p", name, "--interactive=false", "--output=json")
	if err != nil {
		return startError(fmt.Sprintf("starting minikube cluster %q", name), name, res, err)
	}
	return nil
}

// Stop implements provider.Stoppable: `minikube stop -p NAME` keeps the
// profile and its disk; `minikube start` (Start) resumes it.
func (m *Minikube) Stop(ctx context.Context, name string, p provider.Progress) error {
	if _, err := m.run(ctx, p, "stop", "-p", name); err != nil {
		return problem.New(problem.Failed, fmt.Sprintf("stopping minikube cluster %q", name), err,
			orGone(err, "run `minikube stop -p "+name+"` to see the problem"))
	}
	return nil
}

// Unpause implements provider.Provider.
func (m *Minikube) Unpause(ctx context.Context, name string, p provider.Progress) error {
	if _, err := m.run(ctx, p, "unpause", "-p", name); err != nil {
		return problem.New(problem.Failed, fmt.Sprintf("unpausing minikube cluster %q", name), err,
			orGone(err, "run `minikube unpause -p "+name+"` to see the problem"))
	}
	return nil
}

// RepairKubeconfig implements provider.Provider.
func (m *Minikube) RepairKubeconfig(ctx context.Context, name string) error {
	if _, err := m.run(ctx, nil, "update-context", "-p", name); err != nil {
		return problem.New(problem.Failed, fmt.Sprintf("updating the kubeconfig context %q", name), err, orGone(err, ""))
	}
	return nil
}

// RunOnNode implements provider.Provider with `minikube ssh`, which runs
// one command line through the node's shell as the docker user: every word
// is quoted with run.ShellQuote and the line is prefixed with sudo. Output
// lines of minikube's native ssh client end in CRLF; they are returned with
// LF.
func (m *Minikube) RunOnNode(ctx context.Context, name, node string, argv ...string) ([]byte, error) {
	args := []string{"ssh", "-p", name}
	if node != "" && node != name {
		args = append(args, "-n", node)
	}
	args = append(args, "--", "sudo "+run.ShellJoin(argv))
	res, err := m.run(ctx, nil, args...)
	if err != nil {
		return nil, problem.New(problem.Failed, fmt.Sprintf("running %s on node %s of cluster %q", argv[0], orNone(node), name), err,
			orGone(err, "check that `minikube ssh -p "+name+"` works"))
	}
	return bytes.ReplaceAll(res.Stdout, []byte("\r\n"), []byte("\n")), nil
}

// CopyToNode implements provider.Provider with `minikube cp SRC
// [NODE:]DST` (scp as root for VM drivers, `docker cp` for the docker and
// podman drivers, which needs DST's directory to exist).
func (m *Minikube) CopyToNode(ctx context.Context, name, node, src, dst string) error {
	target := dst
	if node != "" && node != name {
		target = node + ":" + dst
	}
	if _, err := m.run(ctx, nil, "cp", "-p", name, src, target); err != nil {
		return problem.New(problem.Failed, fmt.Sprintf("copying %s to node %s of cluster %q", dst, orNone(node), name), err,
			"check that `minikube cp -p "+name+"` works")
	}
	return nil
}

// Logs implements provider.Provider with `minikube logs --file`.
func (m *Minikube) Logs(ctx context.Context, name, file string) error {
	if _, err := m.run(ctx, nil, "logs", "-p", name, "--file", file); err != nil {
		return fmt.Errorf("minikube logs: %w", err)
	}
	return nil
}

// Delete implements provider.Provider.
func (m *Minikube) Delete(ctx context.Context, name string, p provider.Progress) error {
	if _, err := m.run(ctx, p, "delete", "-p", name); err != nil {
		return problem.New(problem.Failed, fmt.Sprintf("deleting minikube cluster %q", name), err,
			"run `minikube delete -p "+name+"` yourself to see the problem")
	}
	return nil
}

// IP returns `minikube ip -p NAME`.
func (m *Minikube) IP(ctx context.Context, name string) (string, error) {
	res, err := m.run(ctx, nil, "ip", "-p", name)
	switch {
	case err == nil:
	case run.ExitCode(err) == exitGuestNotFound || run.ExitCode(err) == exitGuestNotRuning:
		return "", problem.New(problem.NotRunning, fmt.Sprintf("reading the IP of cluster %q", name), err,
			"start it with `devcluster up`")
	default:
		return "", problem.New(problem.Failed, fmt.Sprintf("reading the IP of cluster %q", name), err, orGone(err, ""))
	}
	return strings.TrimSpace(string(res.Stdout)), nil
}

// startError turns a failed `minikube start -o json` into a problem that
// carries minikube's own reason, message and advice.
func startError(what, name string, res run.Result, err error) error {
	if run.IsNotFound(err) {
		return problem.New(problem.Missing, what, err, InstallHint)
	}
	// A failed start emits several error events: unnamed ones for retries
	// ("StartHost failed, but will try again"), the named one that is the
	// reason, and an unnamed issue link. The named one counts.
	var reason, msg, advice string
	for _, line := range run.Lines(res.Stdout) {
		if ev, ok := parseEvent(line); ok && ev.Type == eventError && ev.Data["name"] != "" {
			reason, msg, advice = ev.Data["name"], ev.Data["message"], ev.Data["advice"]
		}
	}
	if reason == "" {
		for _, line := range run.Lines(res.Stderr) {
			if i := strings.Index(line, "Exiting due to "); i >= 0 {
				reason, msg, _ = strings.Cut(line[i+len("Exiting due to "):], ": ")
			}
		}
	}
	kind := problem.Failed
	switch run.ExitCode(err) {
	case exitUsage, exitInsufficientMemory, exitInsufficientCores, exitDriverUnsupported, exitControlPlaneUnsupport:
		kind = problem.Config
	case exitDriverNotFound, exitProviderNotRunning, exitProviderNotFound, exitProviderUnavailable, exitDriverPermission:
		kind = problem.Missing
	}
	// Causes with a fix of devcluster's own.
	switch reason {
	case "DRV_AS_ROOT":
		return problem.New(problem.Missing, fmt.Sprintf("minikube refuses to run the %s driver as root", driverIn(msg)), fmt.Errorf("DRV_AS_ROOT: %s (%w)", strings.TrimSpace(msg), err),
			"run devcluster as a non-root user in the docker group, or — knowing that minikube then runs as root — pass --start-arg=--force")
	case "PROVIDER_DOCKER_NOT_RUNNING", "DRV_DOCKER_NOT_RUNNING":
		return problem.New(problem.Missing, "Docker is installed but not running", fmt.Errorf("%s: %s (%w)", reason, strings.TrimSpace(msg), err),
			"start Docker (`sudo systemctl start docker`, or open Docker Desktop) and run `devcluster up` again")
	case "K8S_FAIL_CONNECT", "INET_LOOKUP_HOST":
		// Both name any failed lookup; only the version check's is
		// devcluster's configuration to mend.
		if !strings.Contains(msg, "Kubernetes version") {
			break
		}
		return problem.New(problem.Config, what, fmt.Errorf("minikube does not know this Kubernetes version and could not look it up online (%s): %s (%w)", reason, strings.TrimSpace(msg), err),
			"use a Kubernetes version this minikube knows (`minikube config defaults kubernetes-version`), or connect to the internet (check HTTP_PROXY and HTTPS_PROXY)")
	}
	// Show minikube's CloudEvents as the lines it would have printed.
	var re *run.Error
	if errors.As(err, &re) {
		human := *re
		human.Stdout = []byte(humanize(res.Stdout))
		err = &human
	}
	if reason != "" {
		cause := fmt.Errorf("minikube failed with %s: %s (%w)", reason, strings.TrimSpace(msg), err)
		if advice == "" {
			advice = "see the minikube output above; `minikube logs -p " + name + "` has more"
		}
		return problem.New(kind, what, cause, strings.TrimSpace(advice))
	}
	return problem.New(kind, what, err, "see the minikube output above; `minikube logs -p "+name+"` has more")
}

// machineGone recognises GUEST_STATUS: minikube has the profile but its
// machine (container or VM) no longer exists.
func machineGone(err error) bool {
	var re *run.Error
	return errors.As(err, &re) && re.ExitCode == exitGuestError && strings.Contains(re.Output(), "GUEST_STATUS")
}

// orGone is fix, or the advice for a machine that is gone.
func orGone(err error, fix string) string {
	if machineGone(err) {
		return goneFix
	}
	return fix
}

// goneFix is the advice for a cluster whose machine is gone.
const goneFix = "the cluster's machine is gone (deleted outside minikube): run `devcluster up --recreate`"

// driverIn picks the driver's name out of minikube's DRV_AS_ROOT message.
func driverIn(msg string) string {
	if _, rest, ok := strings.Cut(msg, `"`); ok {
		if d, _, ok := strings.Cut(rest, `"`); ok {
			return d
		}
	}
	return "container"
}

// humanize renders `-o json` CloudEvent lines as minikube's own text
// prefixes ("* ", "! ", "X "); other lines are kept.
func humanize(out []byte) string {
	var b strings.Builder
	for _, line := range run.Lines(out) {
		ev, ok := parseEvent(line)
		switch {
		case !ok:
			b.WriteString(line)
		case ev.Type == eventError && ev.Data["name"] == "":
			b.WriteString("X " + ev.Data["message"])
		case ev.Type == eventError:
			b.WriteString("X Exiting due to " + ev.Data["name"] + ": " + ev.Data["message"])
			if a := ev.Data["advice"]; a != "" {
				b.WriteString("\n* Suggestion: " + a)
			}
		case ev.Type == eventWarning:
			b.WriteString("! " + ev.Data["message"])
		default:
			b.WriteString("* " + ev.Data["message"])
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// driverAliases maps minikube's driver aliases to the names it saves.
var driverAliases = map[string]string{"kvm": "kvm2", "qemu": "qemu2", "generic": "ssh", "native": "none"}

func canonicalDriver(d string) string {
	if a, ok := driverAliases[d]; ok {
		return a
	}
	return d
}

// Diff implements provider.Provider. It reports the settings that minikube
// would not apply when starting the existing profile again.
func (m *Minikube) Diff(want provider.Spec, have *provider.Cluster) []provider.Difference {
	var out []provider.Difference
	recreate := "minikube keeps the saved value for an existing cluster"
	switch {
	case want.CPUs.Special == "no-limit" && have.CPUs != 0:
		out = append(out, provider.Difference{Field: "cpus", Existing: strconv.Itoa(have.CPUs), Desired: "no-limit", Note: recreate})
	case want.CPUs.Special == "" && want.CPUs.Count != have.CPUs:
		out = append(out, provider.Difference{Field: "cpus", Existing: strconv.Itoa(have.CPUs), Desired: strconv.Itoa(want.CPUs.Count), Note: recreate})
	}
	switch {
	case want.Memory.Special == "no-limit" && have.MemoryMB != 0:
		out = append(out, provider.Difference{Field: "memory", Existing: fmt.Sprintf("%d MB", have.MemoryMB), Desired: "no-limit", Note: recreate})
	case want.Memory.Special == "" && want.Memory.MB != have.MemoryMB:
		out = append(out, provider.Difference{Field: "memory", Existing: fmt.Sprintf("%d MB", have.MemoryMB), Desired: fmt.Sprintf("%d MB", want.Memory.MB), Note: recreate})
	}
	if want.Driver != "" && canonicalDriver(want.Driver) != canonicalDriver(have.Driver) {
		out = append(out, provider.Difference{Field: "driver", Existing: have.Driver, Desired: want.Driver,
			Note: "minikube refuses another driver for an existing cluster"})
	}
	if want.ContainerRuntime != "" && config.NormalizeRuntime(want.ContainerRuntime) != config.NormalizeRuntime(have.ContainerRuntime) {
		out = append(out, provider.Difference{Field: "containerRuntime", Existing: orNone(have.ContainerRuntime), Desired: want.ContainerRuntime,
			Note: "switching the runtime of an existing node loses its images and the registry wiring"})
	}
	if d, ok := versionDiff(want.KubernetesVersion, have.KubernetesVersion); ok {
		out = append(out, d)
	}
	var missing []string
	for _, r := range want.InsecureRegistries {
		if !containsRegistry(have.InsecureRegistries, r) {
			missing = append(missing, r)
		}
	}
	if len(missing) > 0 {
		out = append(out, provider.Difference{Field: "insecureRegistries",
			Existing: "[" + strings.Join(have.InsecureRegistries, ", ") + "]",
			Desired:  "[" + strings.Join(want.InsecureRegistries, ", ") + "]",
			Note:     "missing " + strings.Join(missing, ", ") + "; minikube applies --insecure-registry only when a cluster is created"})
	}
	return out
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func containsRegistry(list []string, r string) bool {
	strip := func(s string) string { return strings.TrimPrefix(strings.TrimPrefix(s, "http://"), "https://") }
	for _, l := range list {
		if strip(l) == strip(r) {
			return true
		}
	}
	return false
}

var minor = regexp.MustCompile(`^v\d+\.\d+$`)

// versionDiff compares a requested Kubernetes version with the running one.
// "stable"/"latest" and an empty request never differ; "v1.35" matches any
// v1.35.x.
func versionDiff(want, have string) (provider.Difference, bool) {
	switch want {
	case "", "stable", "latest", "newest":
		return provider.Difference{}, false
	}
	if minor.MatchString(want) {
		if strings.HasPrefix(have, want+".") || have == want {
			return provider.Difference{}, false
		}
	} else if want == have {
		return provider.Difference{}, false
	}
	d := provider.Difference{Field: "kubernetesVersion", Existing: orNone(have), Desired: want}
	if compareVersions(want, have) > 0 {
		d.Note = "minikube can upgrade in place: minikube start -p <name> --kubernetes-version=" + want
	} else {
		d.Note = "minikube cannot downgrade an existing cluster"
	}
	return d, true
}

// compareVersions compares dotted versions with an optional "v" prefix,
// numerically component by component; pre-release suffixes are ignored.
func compareVersions(a, b string) int {
	pa, pb := versionParts(a), versionParts(b)
	for i := 0; i < max(len(pa), len(pb)); i++ {
		var x, y int
		if i < len(pa) {
			x = pa[i]
		}
		if i < len(pb) {
			y = pb[i]
		}
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return 0
}

func versionParts(v string) []int {
	v = strings.TrimPrefix(v, "v")
	if i := strings.IndexAny(v, "-+"); i >= 0 {
		v = v[:i]
	}
	var out []int
	for _, p := range strings.Split(v, ".") {
		n, err := strconv.Atoi(p)
		if err != nil {
			break
		}
		out = append(out, n)
	}
	return out
}
