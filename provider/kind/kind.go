// Package kind drives the kind CLI (Kubernetes in Docker) through the
// run.Runner seam, and docker only where kind has no command for the job:
// the nodes' state and IPs (`docker inspect`), the kind network's gateway
// (`docker network inspect`), files on the nodes (`docker exec`, and
// `docker cp` to read one from a stopped node), start/unpause (kind cannot
// start a stopped cluster), and whether a cluster has nodes when kind is
// not installed (`docker ps` by kind's label).
//
// kind cannot change a cluster after it is created, so the cluster
// configuration devcluster generated is recorded on the control-plane node
// (/kind/devcluster-cluster.yaml, beside kind's own /kind/version) and every
// `up` compares it with the configuration asked for, whether the cluster
// runs or not: a difference is drift (exit 4), which `up --recreate`
// resolves by deleting and recreating. A kind cluster without the record
// was not created by devcluster: it is Foreign, and devcluster neither
// recreates nor deletes it.
package kind

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/devcluster/devcluster/config"
	"github.com/devcluster/devcluster/internal/problem"
	"github.com/devcluster/devcluster/internal/run"
	"github.com/devcluster/devcluster/provider"
)

// Name is the provider's name in devcluster.yaml.
const Name = "kind"

// InstallHint says how to get kind.
const InstallHint = "install kind: https://kind.sigs.k8s.io/docs/user/quick-start/#installation"

// DockerHint says how to get Docker.
const DockerHint = "install Docker and start it: https://docs.docker.com/get-docker/"

// recordPath is where the generated cluster configuration is kept on the
// control-plane node.
const recordPath = "/kind/devcluster-cluster.yaml"

// DefaultNodeImage is kind v0.33.0's own node image, pinned by digest; other
// Kubernetes versions use kindest/node:<version>.
const DefaultNodeImage = "kindest/node:v1.37.0@sha256:a1ed56cfb0e7b93589bdf97c8cd566405a265939e3620fc4f5de89adff580ae5"

// Kind is the kind provider.
type Kind struct {
	runner run.Runner
	binary string
	docker string
	env    func(string) (string, bool)
	// kubeconfig is the explicit kubeconfig file ("" = kind's default,
	// the files of $KUBECONFIG or ~/.kube/config).
	kubeconfig string
}

// Option configures a Kind.
type Option func(*Kind)

// WithBinary sets the kind executable (default "kind" on PATH).
func WithBinary(path string) Option {
	return func(k *Kind) {
		if path != "" {
			k.binary = path
		}
	}
}

// WithDocker sets the docker executable (default "docker" on PATH).
func WithDocker(path string) Option {
	return func(k *Kind) {
		if path != "" {
			k.docker = path
		}
	}
}

// WithEnv sets how the environment is read (KUBECONFIG, HOME).
func WithEnv(lookup func(string) (string, bool)) Option {
	return func(k *Kind) {
		if lookup != nil {
			k.env = lookup
		}
	}
}

// WithKubeconfig makes kind write and delete the cluster's context in
// file (kind's --kubeconfig) instead of $KUBECONFIG or ~/.kube/config, and
// the context is looked up there.
func WithKubeconfig(file string) Option {
	return func(k *Kind) { k.kubeconfig = file }
}

// New returns a kind provider that runs commands through r.
func New(r run.Runner, opts ...Option) *Kind {
	k := &Kind{runner: r, binary: "kind", docker: "docker", env: os.LookupEnv}
	for _, o := range opts {
		o(k)
	}
	return k
}

var _ provider.Provider = (*Kind)(nil)

// Name implements provider.Provider.
func (k *Kind) Name() string { return Name }

// OwnsClusters implements provider.Provider: devcluster creates and
// deletes kind clusters.
func (k *Kind) OwnsClusters() bool { return true }

func (k *Kind) kind(ctx context.Context, p provider.Progress, args ...string) (run.Result, error) {
	c := run.Cmd{Name: k.binary, Args: args}
	if p != nil {
		c.OnLine = func(_ run.Stream, line string) {
			if l := strings.TrimSpace(line); l != "" {
				p(l)
			}
		}
	}
	return k.runner.Run(ctx, c)
}

func (k *Kind) dockerRun(ctx context.Context, args ...string) (run.Result, error) {
	return k.runner.Run(ctx, run.Cmd{Name: k.docker, Args: args})
}

// EnsureInstalled implements provider.Provider: `kind version`, then
// whether Docker answers (kind needs it, and it is the user's to install).
func (k *Kind) EnsureInstalled(ctx context.Context) (string, error) {
	res, err := k.kind(ctx, nil, "version")
	if err != nil {
		if run.IsNotFound(err) {
			return "", problem.New(problem.Missing, "kind is not installed", &provider.ToolMissing{Tool: "kind", Binary: k.binary}, InstallHint)
		}
		return "", problem.New(problem.Failed, "checking the kind version", err, "run `kind version` yourself to see what is wrong")
	}
	version := ParseVersion(string(res.Stdout))
	if version == "" {
		return "", problem.New(problem.Failed, "checking the kind version",
			fmt.Errorf("unexpected output of `kind version`: %q", strings.TrimSpace(string(res.Stdout))), "")
	}
	if err := k.checkDocker(ctx); err != nil {
		return "", err
	}
	return version, nil
}

var (
	_ provider.Installable = (*Kind)(nil)
	_ provider.Stoppable   = (*Kind)(nil)
)

// Tool implements provider.Installable.
func (k *Kind) Tool() string { return Name }

// UseBinary implements provider.Installable.
func (k *Kind) UseBinary(path string) { k.binary = path }

// CheckPrerequisites implements provider.Installable: Docker answers.
func (k *Kind) CheckPrerequisites(ctx context.Context, _ provider.Spec) error {
	return k.checkDocker(ctx)
}

// checkDocker says whether Docker answers (kind needs it, and it is the
// user's to install).
func (k *Kind) checkDocker(ctx context.Context) error {
	if _, err := k.dockerRun(ctx, "version", "--format", "{{.Server.Version}}"); err != nil {
		switch {
		case run.IsNotFound(err):
			return problem.New(problem.Missing, "Docker is not installed",
				fmt.Errorf("kind runs its nodes as Docker containers: %w", &provider.ToolMissing{Tool: "docker", Binary: k.docker}), DockerHint)
		default:
			return problem.New(problem.Missing, "Docker is installed but not running", err,
				"start Docker (`sudo systemctl start docker`, or open Docker Desktop) and run `devcluster up` again")
		}
	}
	return nil
}

// ParseVersion reads "kind v0.33.0 go1.26.8 linux/amd64" (or the -q form
// "0.33.0") and returns "v0.33.0", or "".
func ParseVersion(out string) string {
	f := strings.Fields(out)
	switch {
	case len(f) >= 2 && f[0] == "kind" && strings.HasPrefix(f[1], "v"):
		return f[1]
	case len(f) == 1 && len(f[0]) > 0 && f[0][0] >= '0' && f[0][0] <= '9':
		return "v" + f[0]
	}
	return ""
}

// Context is the kubeconfig context kind writes for a cluster.
func Context(name string) string { return "kind-" + name }

// Get implements provider.Provider: `kind get clusters`, `kind get nodes`,
// one `docker inspect` of the nodes, and the recorded configuration, read
// with `docker cp` whether the nodes run or not.
func (k *Kind) Get(ctx context.Context, name string) (*provider.Cluster, error) {
	c := &provider.Cluster{Name: name, Provider: Name, State: provider.Absent, InsecureRegistries: []string{}, KubeContext: Context(name)}
	res, err := k.kind(ctx, nil, "get", "clusters")
	switch {
	case run.IsNotFound(err):
		return k.getWithoutKind(ctx, c)
	case err != nil:
		if derr := k.checkDocker(ctx); errors.As(derr, new(*provider.ToolMissing)) {
			// Without Docker no kind cluster can exist.
			return c, nil
		}
		return nil, problem.New(problem.Failed, "listing kind clusters", err, "run `kind get clusters` to see the problem")
	}
	if !slices.Contains(run.Lines(res.Stdout), name) {
		return c, nil
	}
	res, err = k.kind(ctx, nil, "get", "nodes", "--name", name)
	if err != nil {
		return nil, problem.New(problem.Failed, "listing the nodes of kind cluster "+name, err, "")
	}
	nodes := run.Lines(res.Stdout)
	slices.Sort(nodes)
	c.NodeNames, c.Nodes = nodes, len(nodes)
	if len(nodes) == 0 {
		c.State, c.Detail = provider.Invalid, "kind lists the cluster but it has no nodes"
		return c, nil
	}
	nodeStates, ip, err := k.inspectNodes(ctx, nodes...)
	if err != nil {
		return nil, problem.New(problem.Failed, "inspecting the nodes of kind cluster "+name, err, "")
	}
	c.IP = ip
	states := map[string]int{}
	for _, st := range nodeStates {
		states[st]++
	}
	switch {
	case states["running"] == len(nodes):
		c.State = provider.Running
	case states["paused"] > 0:
		c.State = provider.Paused
	default:
		c.State, c.Detail = provider.Stopped, fmt.Sprintf("%d of %d node containers running", states["running"], len(nodes))
	}
	c.ContainerRuntime = "containerd"
	c.KubeconfigOK = k.hasContext(Context(name))
	if _, ok := nodeStates[controlPlane(name)]; !ok {
		c.State, c.Detail = provider.Invalid, "kind lists the cluster but not its control-plane node "+controlPlane(name)
		c.Foreign = "devcluster's record cannot be read: the control-plane node " + controlPlane(name) + " is missing"
		return c, nil
	}
	rec, err := k.record(ctx, name)
	switch {
	case errors.Is(err, errNoRecord):
		c.Foreign = fmt.Sprintf("%s has no %s: the cluster was created by plain kind or another tool", controlPlane(name), recordPath)
	case errors.Is(err, errBadRecord):
		c.Recorded = true
		c.State, c.Detail = provider.Invalid, err.Error()
	case err != nil:
		return nil, problem.New(problem.Failed, fmt.Sprintf("reading devcluster's record on node %s", controlPlane(name)), err,
			"check that `docker cp "+controlPlane(name)+":"+recordPath+" -` works")
	default:
		c.NodeImage = rec.version()
		c.KubernetesVersion = versionOf(c.NodeImage)
		c.Workers = rec.workers()
		c.PortMappings = rec.portMappings()
		c.Recorded = true
	}
	if c.State == provider.Running {
		if gw, err := k.HostAddress(ctx, name); err == nil {
			c.HostAddress = gw
		}
	}
	return c, nil
}

// kindLabel is the label kind puts on every node container: the name of
// its cluster.
const kindLabel = "io.x-k8s.kind.cluster"

// getWithoutKind is Get when kind is not installed: kind's clusters are
// the node containers it labelled, so Docker tells whether one exists.
// None (or no Docker) is Absent; nodes that kind would have to delete are
// named.
func (k *Kind) getWithoutKind(ctx context.Context, c *provider.Cluster) (*provider.Cluster, error) {
	missing := &provider.ToolMissing{Tool: Name, Binary: k.binary}
	res, err := k.dockerRun(ctx, "ps", "-a", "--filter", "label="+kindLabel+"="+c.Name, "--format", "{{.Names}}")
	switch {
	case run.IsNotFound(err):
		return c, nil
	case err != nil:
		return nil, problem.New(problem.Missing, fmt.Sprintf("kind is not installed, and Docker cannot tell whether kind cluster %q has nodes", c.Name),
			fmt.Errorf("%w; %w", missing, err), "start Docker, or "+InstallHint+", and run the command again")
	}
	if nodes := run.Lines(res.Stdout); len(nodes) > 0 {
		return nil, problem.New(problem.Missing, fmt.Sprintf("kind is not installed, but kind cluster %q has node containers (%s)", c.Name, strings.Join(nodes, ", ")),
			missing, InstallHint+", and run the command again")
	}
	return c, nil
}

// inspectNodes is one `docker inspect` of node containers: each one's
// state (running, exited, paused, …) by name, and the IP of the first
// control-plane node on its network.
func (k *Kind) inspectNodes(ctx context.Context, nodes ...string) (map[string]string, string, error) {
	res, err := k.dockerRun(ctx, append([]string{"inspect", "-f",
		`{{.Name}} {{.State.Status}} {{index .Config.Labels "io.x-k8s.kind.role"}} {{range .NetworkSettings.Networks}}{{.IPAddress}},{{end}}`}, nodes...)...)
	if err != nil {
		return nil, "", err
	}
	states, ip := map[string]string{}, ""
	for _, line := range run.Lines(res.Stdout) {
		f := strings.Fields(line)
		if len(f) < 3 {
			continue
		}
		states[strings.TrimPrefix(f[0], "/")] = f[1]
		if f[2] == "control-plane" && ip == "" && len(f) > 3 {
			ip = strings.Split(f[3], ",")[0]
		}
	}
	return states, ip, nil
}

// controlPlane is the name of a cluster's (first) control-plane node.
func controlPlane(name string) string { return name + "-control-plane" }

// errNoRecord means the control-plane node has no record: devcluster did
// not create the cluster.
var errNoRecord = errors.New("no record on the node")

// errBadRecord means the record is there but cannot be read.
var errBadRecord = errors.New("devcluster's record on the node is unreadable")

// record reads the configuration devcluster recorded on the control-plane
// node with `docker cp NODE:FILE -`, which reads a stopped or paused
// container too (`docker exec` needs a running one) and writes the file as
// a tar archive. docker says "No such container:path" (older daemons:
// "Could not find the file") when the node has no such file.
func (k *Kind) record(ctx context.Context, name string) (*Config, error) {
	res, err := k.dockerRun(ctx, "cp", controlPlane(name)+":"+recordPath, "-")
	if err != nil {
		if out := errorOutput(err); strings.Contains(out, "No such container:path") || strings.Contains(out, "Could not find the file") {
			return nil, errNoRecord
		}
		return nil, err
	}
	b, err := firstFile(res.Stdout)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errBadRecord, err)
	}
	var cfg Config
	if err := yaml.Unmarshal(b, &cfg); err != nil {
		return nil, fmt.Errorf("%w (%s): %v", errBadRecord, recordPath, err)
	}
	return &cfg, nil
}

// firstFile is the content of the first regular file of a tar archive.
func firstFile(archive []byte) ([]byte, error) {
	tr := tar.NewReader(bytes.NewReader(archive))
	for {
		h, err := tr.Next()
		if err != nil {
			return nil, fmt.Errorf("reading the archive docker cp wrote: %w", err)
		}
		if h.Typeflag == tar.TypeReg {
			const limit = 1 << 20
			b, err := io.ReadAll(io.LimitReader(tr, limit+1))
			if err == nil && len(b) > limit {
				err = errors.New("larger than 1 MiB")
			}
			return b, err
		}
	}
}

// Diff implements provider.Provider: the recorded configuration against
// the one asked for, whether the cluster runs or not. A cluster without a
// record was not created by devcluster, and its settings cannot be known.
func (k *Kind) Diff(want provider.Spec, have *provider.Cluster) []provider.Difference {
	if !have.Recorded {
		if have.State == provider.Absent {
			return nil
		}
		return []provider.Difference{{Field: "origin", Existing: "a kind cluster devcluster did not create", Desired: "one created by devcluster",
			Note: "use provider existing with context " + Context(want.Name) + " to work with it as it is"}}
	}
	var d []provider.Difference
	if w := NodeImage(want.KubernetesVersion); have.NodeImage != w {
		d = append(d, provider.Difference{Field: "kubernetesVersion (node image)", Existing: orDefault(have.NodeImage), Desired: orDefault(w)})
	}
	if have.Workers != want.Workers {
		d = append(d, provider.Difference{Field: "workers", Existing: fmt.Sprint(have.Workers), Desired: fmt.Sprint(want.Workers)})
	}
	if h, w := mappings(have.PortMappings), mappings(want.PortMappings); h != w {
		d = append(d, provider.Difference{Field: "portMappings", Existing: h, Desired: w})
	}
	return d
}

// mappings lists port mappings in a fixed order, "none" for none.
func mappings(ms []config.PortMapping) string {
	if len(ms) == 0 {
		return "none"
	}
	sorted := slices.Clone(ms)
	slices.SortFunc(sorted, func(a, b config.PortMapping) int { return strings.Compare(a.String(), b.String()) })
	return config.JoinPortMappings(sorted)
}

func orDefault(image string) string {
	if image == "" {
		return "kind's default (" + DefaultNodeImage + ")"
	}
	return image
}

// versionOf is the Kubernetes version of a node image (kind's default's
// for "").
func versionOf(image string) string {
	if image == "" {
		image = DefaultNodeImage
	}
	_, tag, _ := strings.Cut(strings.SplitN(image, "@", 2)[0], ":")
	return tag
}

// NodeImage is the node image of a Kubernetes version: "" (kind's default)
// for none, the pinned default image for its own version,
// kindest/node:<version> otherwise.
func NodeImage(version string) string {
	switch {
	case version == "":
		return ""
	case strings.HasPrefix(DefaultNodeImage, "kindest/node:"+version+"@"):
		return DefaultNodeImage
	}
	return "kindest/node:" + version
}

// Config is the kind cluster configuration devcluster generates
// (kind.x-k8s.io/v1alpha4), and records on the node.
type Config struct {
	Kind       string `yaml:"kind"`
	APIVersion string `yaml:"apiVersion"`
	Name       string `yaml:"name"`
	Nodes      []Node `yaml:"nodes"`
}

// Node is one node of a Config.
type Node struct {
	Role              string        `yaml:"role"`
	Image             string        `yaml:"image,omitempty"`
	ExtraPortMappings []PortMapping `yaml:"extraPortMappings,omitempty"`
}

// PortMapping is one of a node's extraPortMappings.
type PortMapping struct {
	ContainerPort int    `yaml:"containerPort"`
	HostPort      int    `yaml:"hostPort"`
	ListenAddress string `yaml:"listenAddress"`
	Protocol      string `yaml:"protocol"`
}

// portMappings are the control plane's extraPortMappings.
func (c *Config) portMappings() []config.PortMapping {
	var out []config.PortMapping
	for _, n := range c.Nodes {
		if n.Role != "control-plane" {
			continue
		}
		for _, m := range n.ExtraPortMappings {
			out = append(out, config.PortMapping(m))
		}
	}
	return out
}

func (c *Config) version() string {
	for _, n := range c.Nodes {
		if n.Role == "control-plane" {
			return n.Image
		}
	}
	return ""
}

func (c *Config) workers() int {
	n := 0
	for _, node := range c.Nodes {
		if node.Role == "worker" {
			n++
		}
	}
	return n
}

// GenerateConfig is the kind configuration of a spec: one control-plane
// node and Workers workers, all on the node image of the Kubernetes
// version.
func GenerateConfig(want provider.Spec) []byte {
	cfg := Config{Kind: "Cluster", APIVersion: "kind.x-k8s.io/v1alpha4", Name: want.Name}
	image := NodeImage(want.KubernetesVersion)
	cp := Node{Role: "control-plane", Image: image}
	for _, m := range want.PortMappings {
		cp.ExtraPortMappings = append(cp.ExtraPortMappings, PortMapping(m))
	}
	cfg.Nodes = append(cfg.Nodes, cp)
	for i := 0; i < want.Workers; i++ {
		cfg.Nodes = append(cfg.Nodes, Node{Role: "worker", Image: image})
	}
	var b bytes.Buffer
	b.WriteString("# Generated by devcluster; kind cannot change a cluster, so devcluster compares this with its configuration.\n")
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	_ = enc.Encode(cfg)
	return b.Bytes()
}

// Create implements provider.Provider: `kind create cluster` with the
// generated configuration, waiting for the control plane, then the
// configuration is recorded on the control-plane node.
func (k *Kind) Create(ctx context.Context, want provider.Spec, p provider.Progress) error {
	dir, err := os.MkdirTemp("", "devcluster-kind-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	file := filepath.Join(dir, "kind.yaml")
	cfg := GenerateConfig(want)
	if err := os.WriteFile(file, cfg, 0o600); err != nil {
		return err
	}
	wait := "5m"
	if want.Wait > 0 {
		wait = want.Wait.String()
	}
	if _, err := k.kind(ctx, p, append([]string{"create", "cluster", "--name", want.Name, "--config", file, "--wait", wait}, k.kubeconfigArgs()...)...); err != nil {
		fix := "see kind's output above; `kind export logs --name " + want.Name + "` collects the nodes' logs"
		if strings.Contains(errorOutput(err), "already exist") {
			fix = "a kind cluster of that name was created meanwhile: run `devcluster up` again to see whose it is"
		}
		return problem.New(problem.Failed, fmt.Sprintf("creating kind cluster %q", want.Name), err, fix)
	}
	if err := k.CopyToNode(ctx, want.Name, controlPlane(want.Name), file, recordPath); err != nil {
		// Without its record the cluster would pass for someone else's,
		// which devcluster never deletes: it goes now, even when up was
		// interrupted (bounded).
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
		defer cancel()
		fix := "the cluster was deleted again; run `devcluster up` to retry"
		if derr := k.Delete(dctx, want.Name, p); derr != nil {
			err = errors.Join(err, derr)
			fix = "delete it with `kind delete cluster --name " + want.Name + "` and run `devcluster up` again"
		}
		return problem.New(problem.Failed, "recording the cluster's configuration on its node", err, fix)
	}
	return nil
}

// kubeconfigArgs are kind's --kubeconfig for the commands that write or
// delete the context (create, delete, export kubeconfig).
func (k *Kind) kubeconfigArgs() []string {
	if k.kubeconfig == "" {
		return nil
	}
	return []string{"--kubeconfig", k.kubeconfig}
}

func errorOutput(err error) string {
	var re *run.Error
	if errors.As(err, &re) {
		return re.Output()
	}
	return err.Error()
}

// Start implements provider.Provider: kind has no command for it, so the
// node containers are started with docker.
func (k *Kind) Start(ctx context.Context, name string, p provider.Progress) error {
	return k.nodesDo(ctx, name, p, "start")
}

// Stop implements provider.Stoppable: kind has no command for it, so the
// node containers are stopped with docker (as kind's docs advise); Start
// starts them again.
func (k *Kind) Stop(ctx context.Context, name string, p provider.Progress) error {
	return k.nodesDo(ctx, name, p, "stop")
}

// Unpause implements provider.Provider with `docker unpause`.
func (k *Kind) Unpause(ctx context.Context, name string, p provider.Progress) error {
	return k.nodesDo(ctx, name, p, "unpause")
}

func (k *Kind) nodesDo(ctx context.Context, name string, p provider.Progress, verb string) error {
	res, err := k.kind(ctx, nil, "get", "nodes", "--name", name)
	if err != nil {
		return problem.New(problem.Failed, "listing the nodes of kind cluster "+name, err, "")
	}
	nodes := run.Lines(res.Stdout)
	if p != nil {
		p(fmt.Sprintf("docker %s %s", verb, strings.Join(nodes, " ")))
	}
	if _, err := k.dockerRun(ctx, append([]string{verb}, nodes...)...); err != nil {
		fix := "run `devcluster up --recreate` if the node containers cannot be started"
		if verb == "stop" {
			fix = "run `docker stop` on the nodes `kind get nodes --name " + name + "` lists to see the problem"
		}
		return problem.New(problem.Failed, fmt.Sprintf("docker %s of the nodes of kind cluster %q", verb, name), err, fix)
	}
	return nil
}

// RepairKubeconfig implements provider.Provider: `kind export kubeconfig`.
func (k *Kind) RepairKubeconfig(ctx context.Context, name string) error {
	if _, err := k.kind(ctx, nil, append([]string{"export", "kubeconfig", "--name", name}, k.kubeconfigArgs()...)...); err != nil {
		return problem.New(problem.Failed, fmt.Sprintf("writing the kubeconfig context %q", Context(name)), err, "")
	}
	return nil
}

// IP implements provider.Provider: the control-plane node's IP on the kind
// network, from one `docker inspect` of that node.
func (k *Kind) IP(ctx context.Context, name string) (string, error) {
	states, ip, err := k.inspectNodes(ctx, controlPlane(name))
	if err != nil || states[controlPlane(name)] != "running" {
		why := fmt.Errorf("its control-plane node is %s", orDash(states[controlPlane(name)]))
		if err != nil {
			why = err
		}
		return "", problem.New(problem.NotRunning, fmt.Sprintf("reading the IP of kind cluster %q", name), why, "start it with `devcluster up`")
	}
	return ip, nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// HostAddress is this host's address on the kind network (its gateway),
// where the nodes reach the registry.
func (k *Kind) HostAddress(ctx context.Context, _ string) (string, error) {
	network := "kind"
	if v, ok := k.env("KIND_EXPERIMENTAL_DOCKER_NETWORK"); ok && v != "" {
		network = v
	}
	res, err := k.dockerRun(ctx, "network", "inspect", network, "-f", "{{range .IPAM.Config}}{{.Gateway}} {{end}}")
	if err != nil {
		return "", fmt.Errorf("reading the gateway of docker network %s: %w", network, err)
	}
	for _, gw := range strings.Fields(string(res.Stdout)) {
		if !strings.Contains(gw, ":") {
			return gw, nil
		}
	}
	return "", fmt.Errorf("docker network %s has no IPv4 gateway", network)
}

// RunOnNode implements provider.Provider with `docker exec NODE argv…`
// (no shell: the words are passed as they are).
func (k *Kind) RunOnNode(ctx context.Context, name, node string, argv ...string) ([]byte, error) {
	if node == "" || node == name {
		node = controlPlane(name)
	}
	res, err := k.dockerRun(ctx, append([]string{"exec", node}, argv...)...)
	if err != nil {
		return nil, problem.New(problem.Failed, fmt.Sprintf("running %s on node %s of kind cluster %q", argv[0], node, name), err, "")
	}
	return res.Stdout, nil
}

// CopyToNode implements provider.Provider with `docker exec -i NODE cp
// /dev/stdin DST`, as kind writes files on its nodes.
func (k *Kind) CopyToNode(ctx context.Context, name, node, src, dst string) error {
	if node == "" || node == name {
		node = controlPlane(name)
	}
	f, err := os.Open(src)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := k.runner.Run(ctx, run.Cmd{Name: k.docker, Args: []string{"exec", "-i", node, "cp", "/dev/stdin", dst}, Stdin: f}); err != nil {
		return problem.New(problem.Failed, fmt.Sprintf("copying %s to node %s of kind cluster %q", dst, node, name), err, "")
	}
	return nil
}

// Logs implements provider.Provider: the control-plane node's container
// log into file.
func (k *Kind) Logs(ctx context.Context, name, file string) error {
	res, err := k.dockerRun(ctx, "logs", controlPlane(name))
	if err != nil {
		return fmt.Errorf("docker logs %s: %w", controlPlane(name), err)
	}
	return os.WriteFile(file, append(res.Stdout, res.Stderr...), 0o600)
}

// Delete implements provider.Provider: `kind delete cluster` (which also
// removes its kubeconfig context).
func (k *Kind) Delete(ctx context.Context, name string, p provider.Progress) error {
	if _, err := k.kind(ctx, p, append([]string{"delete", "cluster", "--name", name}, k.kubeconfigArgs()...)...); err != nil {
		return problem.New(problem.Failed, fmt.Sprintf("deleting kind cluster %q", name), err, "run `kind delete cluster --name "+name+"` yourself to see the problem")
	}
	return nil
}

// hasContext reports whether the kubeconfig kind writes (--kubeconfig, else
// $KUBECONFIG's files or ~/.kube/config, by client-go's rules) has the
// context.
func (k *Kind) hasContext(name string) bool {
	return provider.Kubeconfig{Path: k.kubeconfig, Env: k.env}.HasContext(name)
}
