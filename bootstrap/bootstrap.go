// Package bootstrap is devcluster's orchestration: `up`, `down`, `status`,
// `registry gc` and `lb` as ordered lists of named steps over a typed state
// of their own. Each step is idempotent — it reads what exists, compares it
// with what is wanted, acts only when they differ, and re-reads the result
// only when it changed something — and reports itself through a Reporter,
// so a converged re-run changes nothing and says so.
//
// bootstrap reaches the outside world through its Deps: the provider (which
// runs the provider's binary through an injected runner), the agent
// manager, the Kubernetes clients made by an injected loader, and the
// Reporter the command layer renders. Its own file system work is the
// hosts.toml it stages for copying and the registry data it deletes on
// `down --purge`, under the guards of purgeRegistryData.
package bootstrap

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/devcluster/devcluster/agent"
	"github.com/devcluster/devcluster/config"
	"github.com/devcluster/devcluster/internal/paths"
	"github.com/devcluster/devcluster/internal/problem"
	"github.com/devcluster/devcluster/internal/run"
	"github.com/devcluster/devcluster/internal/text"
	"github.com/devcluster/devcluster/kube"
	"github.com/devcluster/devcluster/loadbalancer"
	"github.com/devcluster/devcluster/provider"
)

// Reporter receives progress. ui.Printer implements it; tests record it.
type Reporter interface {
	// Start begins a step.
	Start(title string)
	// Progress reports what the current step is doing.
	Progress(line string)
	// End ends the current step; result says what it did.
	End(ok bool, result string)
	// Warn reports something the user should know about.
	Warn(msg string)
}

// Deps are the parts bootstrap works with.
type Deps struct {
	Provider provider.Provider
	// Kube builds clients for a kubeconfig context.
	Kube   kube.Loader
	Report Reporter
	// WaitInterval is the polling interval of readiness checks; zero means
	// the kube package default.
	WaitInterval time.Duration
	// Agent manages the background agent (registry).
	Agent agent.Manager
	// Dirs places a cluster's data and state.
	Dirs func(name string) (paths.Dirs, error)
	// LocalAddress reports whether an IP belongs to this host; nil means
	// the real interfaces.
	LocalAddress func(ip string) bool
	// Kubeconfig is an explicit kubeconfig path ("" = client-go's rules),
	// passed on to the agent.
	Kubeconfig string
	// Platform describes the host, for LoadBalancer reachability.
	Platform loadbalancer.Platform
	// Probe dials the node IP once when loadBalancer.address is auto and
	// the platform leaves the choice open; nil decides by the platform
	// alone (tests whose node IP is not theirs to dial).
	Probe loadbalancer.Prober
	// Install gets the provider's tool when `up` finds it missing (see
	// provider.Installable) and returns the executable's path; missing is
	// the problem EnsureInstalled reported, to return when installing is
	// not wanted. Nil means missing tools stay missing.
	Install func(ctx context.Context, tool string, missing error) (path string, err error)
}

// Result is what `up` and `status` report; with -o json it is printed as is
// (the README documents the shape).
type Result struct {
	Cluster *provider.Cluster `json:"cluster"`
	// Kubernetes summarises the cluster as seen through its API, when it
	// answers.
	Kubernetes *KubeSummary `json:"kubernetes,omitempty"`
	// Registry is the local registry, when enabled.
	Registry *RegistrySummary `json:"registry,omitempty"`
	// LoadBalancers are the Services of type LoadBalancer and their URLs.
	LoadBalancers []LBService `json:"loadBalancers,omitempty"`
	// Workloads are the applied Deployments, StatefulSets and DaemonSets
	// and their rollout state.
	Workloads []kube.WorkloadState `json:"workloads,omitempty"`
	// Actions lists what `up` changed, in order; empty when converged.
	Actions []string `json:"actions"`
	// Changed is true when Actions is not empty.
	Changed bool `json:"changed"`
}

// KubeSummary is the cluster as seen through the Kubernetes API.
type KubeSummary struct {
	Context       string `json:"context"`
	Server        string `json:"server"`
	ServerVersion string `json:"serverVersion,omitempty"`
	Ready         bool   `json:"ready"`
	Detail        string `json:"detail"`
}

// step is one named, idempotent part of an operation whose state is S.
type step[S any] struct {
	title string
	run   func(ctx context.Context, s *S) (result string, err error)
}

// runSteps runs steps in order, reporting each, and stops at the first
// failure.
func runSteps[S any](ctx context.Context, r Reporter, s *S, steps []step[S]) error {
	for _, st := range steps {
		// An interrupt ends the run before the next step, whatever the
		// step that saw it did with its context.
		if err := ctx.Err(); err != nil {
			return err
		}
		r.Start(st.title)
		res, err := st.run(ctx, s)
		if err != nil {
			r.End(false, "")
			return err
		}
		r.End(true, res)
	}
	return nil
}

// upState is the state of one `up`. Data flows one way: the inputs are
// set before the first step; every other field is written by exactly the
// step named beside it and only read by later steps; the Result is built
// from them once, at the end.
type upState struct {
	deps     Deps
	cfg      *config.Config
	recreate bool

	cluster     *provider.Cluster    // ensureCluster
	clients     *kube.Clients        // waitForKubernetes
	kubernetes  *KubeSummary         // waitForKubernetes
	agent       *agent.Status        // startAgent
	registry    *RegistrySummary     // startAgent
	sampleImage string               // buildSample: the sample's reference as the host names it
	workloads   []kube.Workload      // applyWorkloads
	rollouts    []kube.WorkloadState // waitForWorkloads
	lbChoice    loadbalancer.Choice  // startAgent: node or localhost, and why
	lbs         []LBService          // checkLoadBalancers
	// actions is what the steps changed, in order (each step appends).
	actions []string
}

func (s *upState) did(action string) { s.actions = append(s.actions, action) }

// result is the Result of `up`, as far as it got.
func (s *upState) result() *Result {
	return &Result{Cluster: s.cluster, Kubernetes: s.kubernetes, Registry: s.registry, LoadBalancers: s.lbs,
		Workloads: s.rollouts, Actions: append([]string{}, s.actions...), Changed: len(s.actions) > 0}
}

// UpOptions are the options of Up.
type UpOptions struct {
	// Recreate deletes and recreates an existing cluster instead of
	// refusing when it has drifted.
	Recreate bool
	// InstallOnly stops after the provider's tool is checked (and
	// installed when missing): no cluster is created or started.
	InstallOnly bool
}

// Up makes the cluster described by cfg exist, run and be ready.
func Up(ctx context.Context, deps Deps, cfg *config.Config, o UpOptions) (*Result, error) {
	s := &upState{deps: deps, cfg: cfg, recreate: o.Recreate}
	steps := []step[upState]{
		{title: "Checking " + deps.Provider.Name(), run: checkProvider},
	}
	if o.InstallOnly {
		err := runSteps(ctx, deps.Report, s, steps)
		return s.result(), err
	}
	steps = append(steps, []step[upState]{
		{title: fmt.Sprintf("Ensuring cluster %q", cfg.Name), run: ensureCluster},
		{title: "Waiting for Kubernetes", run: waitForKubernetes},
	}...)
	if cfg.Registry.Enabled || cfg.LoadBalancer.Enabled {
		steps = append(steps, step[upState]{title: "Starting the agent", run: startAgent})
	}
	if cfg.Registry.Enabled {
		steps = append(steps, step[upState]{title: "Connecting the registry to the cluster", run: wireRegistry})
	}
	samples := cfg.Workloads.Samples && cfg.Registry.Enabled
	if samples {
		steps = append(steps, step[upState]{title: "Building the sample image", run: buildSample})
	}
	if samples || len(cfg.Workloads.Manifests) > 0 {
		steps = append(steps,
			step[upState]{title: "Applying workloads", run: applyWorkloads},
			step[upState]{title: "Waiting for rollouts", run: waitForWorkloads})
	}
	if cfg.LoadBalancer.Enabled {
		steps = append(steps, step[upState]{title: "LoadBalancer Services", run: checkLoadBalancers})
	}
	err := runSteps(ctx, deps.Report, s, steps)
	if s.cluster != nil && s.cluster.State != provider.Absent {
		// The cluster exists, whatever failed after: list knows it.
		if rerr := writeClusterRecord(deps, cfg, s.cluster); rerr != nil {
			deps.Report.Warn("recording the cluster for `devcluster list`: " + rerr.Error())
		}
	}
	return s.result(), err
}

// checkProvider checks the provider's tool, and installs it when it is
// missing and devcluster can: what the tool needs and devcluster does not
// install (Docker, a driver) is checked before anything is downloaded.
func checkProvider(ctx context.Context, s *upState) (string, error) {
	p := s.deps.Provider
	v, err := p.EnsureInstalled(ctx)
	var missing *provider.ToolMissing
	inst, installable := p.(provider.Installable)
	if err == nil || !errors.As(err, &missing) || !installable || missing.Tool != inst.Tool() || s.deps.Install == nil {
		return v, err
	}
	if err := inst.CheckPrerequisites(ctx, clusterSpec(p, s.cfg)); err != nil {
		return "", err
	}
	path, ierr := s.deps.Install(ctx, inst.Tool(), err)
	if ierr != nil {
		return "", ierr
	}
	inst.UseBinary(path)
	if v, err = p.EnsureInstalled(ctx); err != nil {
		return "", err
	}
	s.did(inst.Tool() + " " + v + " installed")
	return v + ", installed at " + path, nil
}

// ensureCluster creates, resumes or keeps the cluster, refusing to touch one
// that has drifted from the configuration unless asked to recreate it, and
// one that devcluster did not create at all. A cluster that already runs as
// configured is read once and left alone.
func ensureCluster(ctx context.Context, s *upState) (string, error) {
	p := s.deps.Provider
	spec := clusterSpec(p, s.cfg)
	have, err := p.Get(ctx, spec.Name)
	if err != nil {
		return "", err
	}
	var outcome string
	changed, resumed := true, false
	switch {
	case have.Foreign != "" && s.recreate:
		return "", foreignError(p, have, "not recreating")
	case have.Foreign != "":
		return "", foreignError(p, have, "not using")
	case have.State == provider.Absent:
		if err := p.Create(ctx, spec, s.deps.Report.Progress); err != nil {
			return "", err
		}
		s.did("created")
		outcome = "created"
	case s.recreate:
		s.deps.Report.Progress("deleting the existing cluster (--recreate)")
		if err := p.Delete(ctx, spec.Name, s.deps.Report.Progress); err != nil {
			return "", err
		}
		if err := p.Create(ctx, spec, s.deps.Report.Progress); err != nil {
			return "", err
		}
		s.did("recreated")
		outcome = "recreated"
	case have.State == provider.Invalid:
		return "", problem.New(problem.Drift, fmt.Sprintf("cluster %q cannot be used", spec.Name),
			errors.New(have.Detail), rebuildAdvice(have))
	default:
		if diffs := diff(p, spec, have); len(diffs) > 0 {
			return "", driftError(spec.Name, diffs)
		}
		resume, canResume := p.(provider.Resumable)
		if !canResume && have.State != provider.Running {
			return "", problem.New(problem.NotRunning, fmt.Sprintf("cluster %q is %s", spec.Name, have.State),
				fmt.Errorf("provider %s does not start clusters", p.Name()), rebuildAdvice(have))
		}
		switch have.State {
		case provider.Stopped, provider.Degraded:
			if have.Detail != "" {
				s.deps.Report.Progress(string(have.State) + ": " + have.Detail)
			}
			if err := resume.Start(ctx, spec.Name, s.deps.Report.Progress); err != nil {
				return "", err
			}
			s.did("started")
			outcome, resumed = "started", true
		case provider.Paused:
			if err := resume.Unpause(ctx, spec.Name, s.deps.Report.Progress); err != nil {
				return "", err
			}
			s.did("unpaused")
			outcome, resumed = "unpaused", true
		default:
			outcome = "already running"
			changed = false
		}
	}
	if changed {
		if have, err = p.Get(ctx, spec.Name); err != nil {
			return "", err
		}
	}
	if resumed {
		// Compared again now that it runs: a provider may know more of
		// a running cluster than of a stopped one.
		if have.Foreign != "" {
			return "", foreignError(p, have, "not using")
		}
		if diffs := diff(p, spec, have); len(diffs) > 0 {
			return "", driftError(spec.Name, diffs)
		}
	}
	if have.State == provider.Running && !have.KubeconfigOK {
		if err := p.RepairKubeconfig(ctx, spec.Name); err != nil {
			return "", err
		}
		s.did("kubeconfig updated")
		outcome += ", kubeconfig context updated"
		if have, err = p.Get(ctx, spec.Name); err != nil {
			return "", err
		}
	}
	if have.State != provider.Running {
		detail := string(have.State)
		if have.Detail != "" {
			detail += ": " + have.Detail
		}
		return "", problem.New(problem.Failed, fmt.Sprintf("cluster %q is not running after %s", spec.Name, outcome),
			errors.New(detail), "see `devcluster diagnose`; "+rebuildAdvice(have))
	}
	s.cluster = have
	if d, ok := p.(provider.Describer); ok {
		return d.Summary(outcome, have), nil
	}
	return fmt.Sprintf("%s (%s, Kubernetes %s)", outcome, text.OrDash(have.IP), text.OrDash(have.KubernetesVersion)), nil
}

// diff is the provider's drift check (provider.Comparer); a provider that
// configures nothing of its clusters finds none.
func diff(p provider.Provider, want provider.Spec, have *provider.Cluster) []provider.Difference {
	if c, ok := p.(provider.Comparer); ok {
		return c.Diff(want, have)
	}
	return nil
}

// rebuildAdvice is what to do about a cluster that cannot be used: a
// cluster devcluster created is recreated; one it did not create is the
// business of whoever runs it.
func rebuildAdvice(c *provider.Cluster) string {
	if config.ExternalProvider(c.Provider) {
		return fmt.Sprintf("check the cluster of context %s (`kubectl --context %s get nodes`, `kubectl config view`); devcluster does not create or repair a cluster it did not create",
			c.KubeContext, c.KubeContext)
	}
	return "run `devcluster up --recreate` to delete and recreate it"
}

// foreignError refuses to use, recreate or delete a cluster devcluster did
// not create (provider.Cluster.Foreign), and says how to work with it as
// it is.
func foreignError(p provider.Provider, c *provider.Cluster, action string) error {
	remove := "the tool that created it can delete it"
	if d, ok := p.(provider.Describer); ok && d.Removal(c) != "" {
		remove = d.Removal(c)
	}
	return problem.New(problem.Drift, fmt.Sprintf("%s %s cluster %q: it was not created by devcluster", action, c.Provider, c.Name), errors.New(c.Foreign),
		fmt.Sprintf("to use it as it is, set `provider: existing` and `context: %s` in devcluster.yaml (or pass --provider existing --context %s); "+
			"devcluster never recreates or deletes a cluster it did not create — %s", c.KubeContext, c.KubeContext, remove))
}

func driftError(name string, diffs []provider.Difference) error {
	list := &problem.List{Subject: fmt.Sprintf("cluster %q differs from the configuration", name)}
	for _, d := range diffs {
		list.Problems = append(list.Problems, d.String())
	}
	return problem.New(problem.Drift, "", list,
		"run `devcluster up --recreate` to delete and recreate the cluster with the requested settings, or change the configuration back to the cluster's values")
}

func waitForKubernetes(ctx context.Context, s *upState) (string, error) {
	// Readiness is the wait below: right after a start the API server
	// may not answer yet.
	c, err := connectCluster(ctx, s.deps, s.cluster.KubeContext, fromCluster, clientsOnly)
	if err != nil {
		return "", err
	}
	s.clients = c
	msg, err := kube.WaitForCluster(ctx, c.Kube, kube.ClusterWait{
		Timeout: s.cfg.Wait, Interval: s.deps.WaitInterval, Progress: s.deps.Report.Progress,
	})
	summary := &KubeSummary{Context: c.Context, Server: run.RedactURL(c.Config.Host), Ready: err == nil, Detail: msg}
	s.kubernetes = summary
	if err != nil {
		return "", waitProblem(fmt.Sprintf("waiting for cluster %q to be ready", s.cfg.Name), err,
			"raise `wait` (--wait) if the machine is slow, or look at `"+kubectl(c.Context)+" get nodes,pods -A`")
	}
	if v, err := kube.ServerVersion(ctx, c.Kube, kube.VersionTimeout); err == nil {
		summary.ServerVersion = v.GitVersion
	}
	return msg, nil
}
