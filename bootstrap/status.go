package bootstrap

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/devcluster/devcluster/config"
	"github.com/devcluster/devcluster/internal/problem"
	"github.com/devcluster/devcluster/internal/run"
	"github.com/devcluster/devcluster/internal/text"
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

	missing    *provider.ToolMissing // checkTool: the provider's tool is not installed
	cluster    *provider.Cluster     // readCluster
	clients    *kube.Clients         // readKubernetes
	kubernetes *KubeSummary          // readKubernetes
	registry   *RegistrySummary      // readRegistry
	lbs        []LBService           // readLoadBalancers
}

// Status reads the cluster's state without changing anything. The result's
// Cluster.State says whether it runs; the caller decides the exit code. Its
// steps report nothing but warnings: status answers, it does not narrate.
func Status(ctx context.Context, deps Deps, cfg *config.Config) (*Result, error) {
	s := &statusState{deps: deps, cfg: cfg}
	steps := []step[statusState]{
		{title: "Checking " + deps.Provider.Name(), run: func(ctx context.Context, s *statusState) (string, error) {
			var v string
			var err error
			v, s.missing, err = checkTool(ctx, s.deps.Provider)
			return v, err
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
	notInstalled(have, s.missing)
	s.cluster = have
	if have.State == provider.Running {
		if ip, err := nodeIP(ctx, s.deps.Provider, s.cfg.Name); err == nil && ip != "" {
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
	c, err := loadClients(s.deps, s.cluster.KubeContext)
	if err != nil {
		s.kubernetes = &KubeSummary{Context: s.cluster.KubeContext, Detail: err.Error()}
		if !s.deps.Provider.OwnsClusters() {
			// The context is all devcluster has of such a cluster.
			s.cluster.State, s.cluster.Detail, s.cluster.KubeconfigOK = provider.Invalid, err.Error(), false
		}
		return "", nil
	}
	s.clients = c
	pctx, cancel := context.WithTimeout(ctx, statusProbeTimeout)
	defer cancel()
	ready, msg := kube.CheckCluster(pctx, c.Kube)
	sum := &KubeSummary{Context: c.Context, Server: run.RedactURL(c.Config.Host), Ready: ready, Detail: msg}
	if !ready && !s.deps.Provider.OwnsClusters() {
		// Only its API tells whether a cluster devcluster did not
		// create runs.
		s.cluster.State, s.cluster.Detail = provider.Degraded, msg
	}
	if v, err := kube.ServerVersion(ctx, c.Kube, kube.VersionTimeout); err == nil {
		sum.ServerVersion = v.GitVersion
	}
	s.kubernetes = sum
	return msg, nil
}

func readLoadBalancers(ctx context.Context, s *statusState) (string, error) {
	if s.clients == nil {
		return "skipped", nil
	}
	ip, _ := loadBalancerIP(ctx, s.deps.Provider, s.cfg, s.cluster, false)
	pctx, cancel := context.WithTimeout(ctx, statusProbeTimeout)
	defer cancel()
	if lbs, _, err := listLoadBalancers(pctx, s.clients.Kube, ip, ""); err == nil {
		s.lbs = lbs
	}
	return "", nil
}

// checkTool is the first step of status and down: the provider's tool. A
// missing tool is not a failure yet — Get still tells, without it, whether
// a cluster can exist at all — so it is returned instead of the error.
func checkTool(ctx context.Context, p provider.Provider) (string, *provider.ToolMissing, error) {
	v, err := p.EnsureInstalled(ctx)
	var missing *provider.ToolMissing
	if err != nil && errors.As(err, &missing) {
		return missing.Tool + " is not installed", missing, nil
	}
	return v, nil, err
}

// notInstalled explains an absent cluster by the tool that is missing.
func notInstalled(c *provider.Cluster, missing *provider.ToolMissing) {
	if missing != nil && c.State == provider.Absent && c.Detail == "" {
		c.Detail = missing.Tool + " is not installed"
	}
}

// StatusError is status's verdict on its result: nil when the cluster
// runs, else a NotRunning problem (exit 3) with what fits the provider and
// the state.
func StatusError(r *Result) error {
	c := r.Cluster
	if c.State == provider.Running {
		return nil
	}
	why := fmt.Errorf("cluster %q is %s", c.Name, Describe(c))
	fix := "run `devcluster up` to start it"
	switch {
	case config.ExternalProvider(c.Provider) && c.State == provider.Absent:
		why = fmt.Errorf("the cluster of context %q: %s", c.KubeContext, text.OrDash(c.Detail))
		fix = "check the context's name (--context, or `context:` in devcluster.yaml); `kubectl config get-contexts` lists the contexts of the kubeconfig (--kubeconfig, $KUBECONFIG or ~/.kube/config)"
	case config.ExternalProvider(c.Provider):
		why = fmt.Errorf("the cluster of context %q is %s", c.KubeContext, Describe(c))
		fix = rebuildAdvice(c)
	case c.State == provider.Absent:
		fix = "run `devcluster up` to create it"
		if strings.HasSuffix(c.Detail, "is not installed") {
			fix = "run `devcluster up` to create it (it installs what is missing; see --install)"
		}
	case c.State == provider.Invalid:
		fix = rebuildAdvice(c)
	}
	return problem.New(problem.NotRunning, "", why, fix)
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
	if addr, err := clusterAddress(deps.Provider, cfg, c); err == nil && (c.IP != "" || cfg.Registry.ClusterAddress != "") {
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
