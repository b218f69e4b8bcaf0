package kind

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/devcluster/devcluster/internal/problem"
	"github.com/devcluster/devcluster/internal/run"
	"github.com/devcluster/devcluster/internal/text"
	"github.com/devcluster/devcluster/provider"
)

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
		c.Record = &provider.Record{}
		c.State, c.Detail = provider.Invalid, err.Error()
	case err != nil:
		return nil, problem.New(problem.Failed, fmt.Sprintf("reading devcluster's record on node %s", controlPlane(name)), err,
			"check that `docker cp "+controlPlane(name)+":"+recordPath+" -` works")
	default:
		c.Record = &provider.Record{NodeImage: rec.version(), Workers: rec.workers(), PortMappings: rec.portMappings()}
		c.KubernetesVersion = versionOf(c.NodeImage)
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

// IP implements provider.Networked: the control-plane node's IP on the kind
// network, from one `docker inspect` of that node.
func (k *Kind) IP(ctx context.Context, name string) (string, error) {
	states, ip, err := k.inspectNodes(ctx, controlPlane(name))
	if err != nil || states[controlPlane(name)] != "running" {
		why := fmt.Errorf("its control-plane node is %s", text.OrDash(states[controlPlane(name)]))
		if err != nil {
			why = err
		}
		return "", problem.New(problem.NotRunning, fmt.Sprintf("reading the IP of kind cluster %q", name), why, "start it with `devcluster up`")
	}
	return ip, nil
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

// hasContext reports whether the kubeconfig kind writes (--kubeconfig, else
// $KUBECONFIG's files or ~/.kube/config, by client-go's rules) has the
// context.
func (k *Kind) hasContext(name string) bool {
	return provider.Kubeconfig{Path: k.kubeconfig, Env: k.env}.HasContext(name)
}
