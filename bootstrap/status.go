package bootstrap

import (
	"context"
	"fmt"
	"time"

	"github.com/devcluster/devcluster/bootstrap/kube"
	"github.com/devcluster/devcluster/bootstrap/provider"
)

// statusProbeTimeout bounds how long `status` waits for the API server: it
// reports, it does not wait for readiness.
const statusProbeTimeout = 5 * time.Second

// Status reads the cluster's state without changing anything. The result's
// Cluster.State says whether it runs; the caller decides the exit code.
func Status(ctx context.Context, deps Deps, name string) (*Result, error) {
	p := deps.Provider
	if _, err := p.EnsureInstalled(ctx); err != nil {
		return nil, err
	}
	have, err := p.Get(ctx, name)
	if err != nil {
		return nil, err
	}
	res := &Result{Cluster: have, Actions: []string{}}
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
	return res, nil
}

// Describe renders a one-line state for messages.
func Describe(c *provider.Cluster) string {
	if c.Detail != "" {
		return fmt.Sprintf("%s (%s)", c.State, c.Detail)
	}
	return string(c.State)
}
