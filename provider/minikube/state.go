package minikube

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/devcluster/devcluster/internal/problem"
	"github.com/devcluster/devcluster/internal/run"
	"github.com/devcluster/devcluster/provider"
)

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

// IP implements provider.Networked with `minikube ip -p NAME`.
func (m *Minikube) IP(ctx context.Context, name string) (string, error) {
	res, err := m.run(ctx, nil, "ip", "-p", name)
	switch {
	case err == nil:
	case run.ExitCode(err) == exitGuestNotFound || run.ExitCode(err) == exitGuestNotRunning:
		return "", problem.New(problem.NotRunning, fmt.Sprintf("reading the IP of cluster %q", name), err,
			"start it with `devcluster up`")
	default:
		return "", problem.New(problem.Failed, fmt.Sprintf("reading the IP of cluster %q", name), err, orGone(err, ""))
	}
	return strings.TrimSpace(string(res.Stdout)), nil
}
