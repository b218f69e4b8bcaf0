package bootstrap

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/devcluster/devcluster/config"
	"github.com/devcluster/devcluster/provider/existing"
	"github.com/devcluster/devcluster/registry"

	"github.com/devcluster/devcluster/kube"
	"github.com/devcluster/devcluster/provider"
)

// statusProbeTimeout bounds how long `status` waits for the API server: it
// reports, it does not wait for readiness.
const statusProbeTimeout = 5 * time.Second

// statusState is the state of one `status`: inputs, then what each step
// read.
type statusState struct {
	deps Deps
	cfg  *config.Config

	cluster    *provider.Cluster // readCluster
	clients    *kube.Clients     // readKubernetes
	kubernetes *KubeSummary      // readKubernetes
	registry   *RegistrySummary  // readRegistry
	lbs        []LBService       // readLoadBalancers
}

// Status reads the cluster's state without changing anything. The result's
// Cluster.State says whether it runs; the caller decides the exit code. Its
// steps report nothing but warnings: status answers, it does not narrate.
func Status(ctx context.Context, deps Deps, cfg *config.Config) (*Result, error) {
	s := &statusState{deps: deps, cfg: cfg}
	steps := []step[statusState]{
		{title: "Checking " + deps.Provider.Name(), run: func(ctx context.Context, s *statusState) (string, error) {
			return s.deps.Provider.EnsureInstalled(ctx)
		}},
		{title: "Reading the cluster", run: readCluster},
	}
	if cfg.Registry.Enabled && deps.Agent != nil && deps.Dirs != nil {
		steps = append(steps, step[statusState]{title: "Reading the registry", run: readRegistry})
	}
	steps = append(steps, step[statusState]{title: "Asking Kubernetes", run: readKubernetes})
	if cfg.LoadBalancer.Enabled {
		steps = append(steps, step[statusState]{title: "Listing LoadBalancer Services", run: readLoadBalancers})
	}
	if err := runSteps(ctx, silent{deps.Report}, s, steps); err != nil {
		return nil, err
	}
	return &Result{Cluster: s.cluster, Kubernetes: s.kubernetes, Registry: s.registry, LoadBalancers: s.lbs, Actions: []string{}}, nil
}

// silent passes on warnings only.
type silent struct{ r Reporter }

func (silent) Start(string)      {}
func (silent) Progress(string)   {}
func (silent) End(bool, string)  {}
func (q silent) Warn(msg string) { q.r.Warn(msg) }

func readCluster(ctx context.Context, s *statusState) (string, error) {
	have, err := s.deps.Provider.Get(ctx, s.cfg.Name)
	if err != nil {
		return "", err
	}
	s.cluster = have
	if have.State == provider.Running {
		if ip, err := s.deps.Provider.IP(ctx, s.cfg.Name); err == nil && ip != "" {
			have.IP = ip
		}
	}
	return string(have.State), nil
}

func readRegistry(ctx context.Context, s *statusState) (string, error) {
	s.registry = registryStatus(ctx, s.deps, s.cfg, s.cluster)
	return "", nil
}

// readKubernetes asks the API server, bounded by statusProbeTimeout; a
// cluster that does not run is not asked.
func readKubernetes(ctx context.Context, s *statusState) (string, error) {
	if s.cluster.State != provider.Running {
		return "skipped", nil
	}
	c, err := s.deps.Kube(s.cluster.KubeContext)
	if err != nil {
		s.kubernetes = &KubeSummary{Context: s.cluster.KubeContext, Detail: err.Error()}
		return "", nil
	}
	s.clients = c
	pctx, cancel := context.WithTimeout(ctx, statusProbeTimeout)
	defer cancel()
	ready, msg := kube.CheckCluster(pctx, c.Kube)
	sum := &KubeSummary{Context: c.Context, Server: c.Config.Host, Ready: ready, Detail: msg}
	if !ready && s.cluster.Provider == existing.Name {
		// Only its API tells whether a cluster devcluster did not
		// create runs.
		s.cluster.State, s.cluster.Detail = provider.Degraded, msg
	}
	if v, err := c.Kube.Discovery().ServerVersion(); err == nil {
		sum.ServerVersion = v.GitVersion
	}
	s.kubernetes = sum
	return msg, nil
}

func readLoadBalancers(ctx context.Context, s *statusState) (string, error) {
	if s.clients == nil {
		return "skipped", nil
	}
	ip := s.cfg.LoadBalancer.IP
	if ip == "" {
		ip = s.cluster.IP
	}
	pctx, cancel := context.WithTimeout(ctx, statusProbeTimeout)
	defer cancel()
	if lbs, err := listLoadBalancers(pctx, s.clients.Kube, ip); err == nil {
		s.lbs = lbs
	}
	return "", nil
}

// Describe renders a one-line state for messages.
func Describe(c *provider.Cluster) string {
	if c.Detail != "" {
		return fmt.Sprintf("%s (%s)", c.State, c.Detail)
	}
	return string(c.State)
}

// registryStatus reports the agent, addresses, storage size and repository
// count without changing anything.
func registryStatus(ctx context.Context, deps Deps, cfg *config.Config, c *provider.Cluster) *RegistrySummary {
	dirs, err := deps.Dirs(cfg.Name)
	if err != nil {
		return nil
	}
	data := RegistryDataDir(cfg, dirs)
	port := strconv.Itoa(cfg.Registry.Port)
	sum := &RegistrySummary{Host: "localhost:" + port, DataDir: data, SizeBytes: registry.SizeOf(data)}
	if addr, err := clusterAddress(cfg, c); err == nil && (c.IP != "" || cfg.Registry.ClusterAddress != "") {
		sum.ClusterHost = net.JoinHostPort(addr, port)
	}
	st, err := deps.Agent.Status(ctx, dirs.State)
	if err != nil {
		return sum
	}
	sum.Agent, sum.Listen = st, st.Listen
	if st.Running && len(st.Listen) > 0 {
		lctx, cancel := context.WithTimeout(ctx, statusProbeTimeout)
		defer cancel()
		if repos, err := registry.List(lctx, st.Listen[0]); err == nil {
			n := len(repos)
			sum.Repositories = &n
		}
	}
	return sum
}
