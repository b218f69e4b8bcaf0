package bootstrap

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/devcluster/devcluster/config"
	"github.com/devcluster/devcluster/registry"

	"github.com/devcluster/devcluster/kube"
	"github.com/devcluster/devcluster/provider"
)

// statusProbeTimeout bounds how long `status` waits for the API server: it
// reports, it does not wait for readiness.
const statusProbeTimeout = 5 * time.Second

// Status reads the cluster's state without changing anything. The result's
// Cluster.State says whether it runs; the caller decides the exit code.
func Status(ctx context.Context, deps Deps, cfg *config.Config) (*Result, error) {
	name := cfg.Name
	p := deps.Provider
	if _, err := p.EnsureInstalled(ctx); err != nil {
		return nil, err
	}
	have, err := p.Get(ctx, name)
	if err != nil {
		return nil, err
	}
	res := &Result{Cluster: have, Actions: []string{}}
	if cfg.Registry.Enabled && deps.Agent != nil && deps.Dirs != nil {
		res.Registry = registryStatus(ctx, deps, cfg, have)
	}
	if have.State != provider.Running {
		return res, nil
	}
	if ip, err := p.IP(ctx, name); err == nil && ip != "" {
		have.IP = ip
	}
	c, err := deps.Kube(have.KubeContext)
	if err != nil {
		res.Kubernetes = &KubeSummary{Context: have.KubeContext, Detail: err.Error()}
		return res, nil
	}
	pctx, cancel := context.WithTimeout(ctx, statusProbeTimeout)
	defer cancel()
	ready, msg := kube.CheckCluster(pctx, c.Kube)
	sum := &KubeSummary{Context: c.Context, Server: c.Config.Host, Ready: ready, Detail: msg}
	if v, err := c.Kube.Discovery().ServerVersion(); err == nil {
		sum.ServerVersion = v.GitVersion
	}
	res.Kubernetes = sum
	if cfg.LoadBalancer.Enabled {
		ip := cfg.LoadBalancer.IP
		if ip == "" {
			ip = have.IP
		}
		s := &operation{deps: deps, cfg: cfg, cluster: have, clients: c}
		if lbs, err := listLoadBalancers(pctx, s, ip); err == nil {
			res.LoadBalancers = lbs
		}
	}
	return res, nil
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
	if addr, err := clusterAddress(cfg, c); err == nil && c.IP != "" {
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
