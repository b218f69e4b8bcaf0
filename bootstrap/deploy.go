package bootstrap

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/devcluster/devcluster/internal/problem"
	"github.com/devcluster/devcluster/kube"
)

// ConfigMapFiles is one --configmap NAME=PATH[,PATH…].
type ConfigMapFiles struct {
	Name  string
	Paths []string
}

// DeployOptions are the inputs of Deploy: the deploy step of a CI job.
type DeployOptions struct {
	// Context is the kubeconfig context ("" = the current one).
	Context string
	// Namespace of the workloads and ConfigMaps ("" = the context's, else
	// default).
	Namespace string
	// Workloads are KIND/NAME references (deployment/web, sts/db, ds/agent).
	Workloads []string
	// ConfigMaps are created or updated from files.
	ConfigMaps []ConfigMapFiles
	// Images are CONTAINER=REF; *=REF sets every container.
	Images []string
	// Manifests are applied with the other changes, as `up` applies
	// workloads.manifests; the workloads they hold are waited for too.
	Manifests []string
	// Timeout bounds the rollout wait (and, with Rollback, the wait for the
	// rollback).
	Timeout time.Duration
	// Rollback undoes what the deploy wrote when the rollout fails, a
	// write fails halfway or the deploy is interrupted after a write, and
	// waits for that (not after an interrupt).
	Rollback bool
	// DryRun validates everything with the API server and reports what
	// would change, writing nothing.
	DryRun bool
	// OnFailure, when set, is called when the rollout fails, before any
	// rollback, while the failing pods still exist (to collect
	// diagnostics).
	OnFailure func(ctx context.Context, r *DeployResult, err error)
}

// DeployResult is what `deploy` reports (-o json prints it).
type DeployResult struct {
	Context    string              `json:"context"`
	Namespace  string              `json:"namespace"`
	DryRun     bool                `json:"dryRun"`
	Changed    bool                `json:"changed"`
	ConfigMaps []DeployedConfigMap `json:"configMaps"`
	Workloads  []DeployedWorkload  `json:"workloads"`
	// Written lists the writes made, in order ("ConfigMap apps/web-config
	// updated"): all of them, or those before a write that failed.
	Written []string `json:"written,omitempty"`
	// RolledBack is set when every ConfigMap and workload the deploy wrote
	// was undone and that rolled out (Rollback.Left lists the objects a
	// rollback does not undo).
	RolledBack bool `json:"rolledBack,omitempty"`
	// Rollback is what --rollback-on-failure did, when it ran.
	Rollback *DeployRollback `json:"rollback,omitempty"`
	// Failure is the diagnosis of a failed rollout.
	Failure *DeployFailure `json:"failure,omitempty"`
}

// DeployRollback is what a rollback did with each write.
type DeployRollback struct {
	// Restored are the templates and ConfigMaps put back as they were.
	Restored []string `json:"restored"`
	// Deleted are the ConfigMaps and workloads the deploy had created.
	Deleted []string `json:"deleted"`
	// Refused are the objects someone else changed since the deploy wrote
	// them, left as they are: what changed, and who changed it.
	Refused []string `json:"refused,omitempty"`
	// Left are the other objects of the manifests (Services, …): a
	// rollback restores templates and ConfigMaps only.
	Left []string `json:"left,omitempty"`
}

// DeployedConfigMap is one ConfigMap and what deploy did to it.
type DeployedConfigMap struct {
	Name string `json:"name"`
	// Action is created, updated or unchanged (what it would be with
	// DryRun).
	Action string   `json:"action"`
	Keys   []string `json:"keys"`
}

// DeployedWorkload is one workload after the deploy.
type DeployedWorkload struct {
	kube.Workload
	Revision string   `json:"revision"`
	Images   []string `json:"images"`
	// Changed says whether the deploy changed it (its pod template, or the
	// object by --manifest).
	Changed bool   `json:"changed"`
	Ready   bool   `json:"ready"`
	Message string `json:"message,omitempty"`
}

// DeployFailure explains a failed rollout: the pod, container, reason and
// message, its recent Warning events and the last lines of its log.
type DeployFailure struct {
	Workload  string   `json:"workload"`
	Pod       string   `json:"pod"`
	Container string   `json:"container,omitempty"`
	Reason    string   `json:"reason"`
	Message   string   `json:"message,omitempty"`
	Events    []string `json:"events,omitempty"`
	Logs      []string `json:"logs,omitempty"`
}

// deployState is the state of one deploy. Data flows one way: each field
// is written by the step named beside it and only read after; the
// snapshot, once taken, is never changed.
type deployState struct {
	deps Deps
	o    DeployOptions

	in        deployInputs         // readInputs (the namespace filled in by connect)
	clients   *kube.Clients        // connect
	namespace string               // connect
	snap      *deploySnapshot      // takeSnapshot
	plan      *deployPlan          // planChanges
	journal   []deployWrite        // applyPlan: every write made, in order
	rollouts  []kube.WorkloadState // waitRollouts
	failure   *DeployFailure       // waitRollouts
	rollback  *DeployRollback      // rollBack
	rolled    bool                 // rollBack: everything undone and rolled out
	// interrupted is set by Deploy when an interrupt came after a write:
	// rollBack then makes the undoing writes and does not wait.
	interrupted bool
}

// Deploy is the deploy step of a rolling update, on any cluster the
// kubeconfig reaches. It checks every input before it contacts the
// cluster; takes one snapshot of everything it may change before it writes
// anything; plans every change from that snapshot (the manifests included,
// as the API server's dry run says applying them makes the objects) and
// validates the plan with a server-side dry run; then writes — ConfigMaps,
// manifests, one patch per pod template with the new images and the
// config-hash annotation over every ConfigMap the template references, so
// a configuration-only change rolls the pods — each write under the
// resourceVersion or UID it was planned with. It waits for the rollouts
// with kubectl's semantics and fail-fast pod diagnosis. A deploy that
// changes nothing returns at once. With Rollback, a failed rollout, a
// write that fails halfway or an interrupt after a write is undone from
// the snapshot: only what the deploy wrote, only where nobody changed it
// since, and that is waited for (not after an interrupt).
func Deploy(ctx context.Context, deps Deps, o DeployOptions) (*DeployResult, error) {
	s := &deployState{deps: deps, o: o}
	steps := []step[deployState]{
		{title: "Reading the inputs", run: readInputs},
		{title: "Connecting to the cluster", run: connect},
		{title: "Reading the cluster", run: takeSnapshot},
		{title: "Planning the changes", run: planChanges},
		{title: "Validating with the API server (dry run)", run: dryRun},
	}
	if !o.DryRun {
		steps = append(steps, step[deployState]{title: "Applying", run: applyPlan})
	}
	err := runSteps(ctx, deps.Report, s, steps)
	if err == nil && !o.DryRun && s.plan.changed {
		err = runSteps(ctx, deps.Report, s, []step[deployState]{{title: "Waiting for the rollouts", run: waitRollouts}})
		if err != nil && o.OnFailure != nil && !errors.Is(err, context.Canceled) {
			o.OnFailure(ctx, s.result(ctx), err)
		}
	}
	switch {
	case err == nil || len(s.journal) == 0:
	case o.Rollback:
		// A failed rollout, a write that failed after others were made,
		// or an interrupt after a write: undo what was written.
		err = s.rollBackAfter(ctx, err)
	case errors.Is(err, context.Canceled):
		err = problem.New(problem.Failed, "interrupted", fmt.Errorf("%w\n  written before it, and not undone: %s", err, orNone(s.written())),
			rollbackAdvice)
	}
	var pe *problem.Error
	if errors.Is(err, context.Canceled) && len(s.journal) > 0 && errors.As(err, &pe) {
		// What the interrupt left written, undone or not, is shown even
		// though the deploy was cut short.
		problem.Left(pe)
	}
	return s.result(ctx), err
}

// rollBackAfter runs the rollback after err and says how it went.
func (s *deployState) rollBackAfter(ctx context.Context, err error) error {
	if errors.Is(err, context.Canceled) {
		// The rollback runs all the same (rollBack bounds its writes and,
		// interrupted, does not wait), and the deploy is still an
		// interrupt.
		s.interrupted = true
		ctx = context.WithoutCancel(ctx)
	}
	rerr := runSteps(ctx, s.deps.Report, s, []step[deployState]{{title: "Rolling back", run: rollBack}})
	pe := (*problem.Error)(nil)
	errors.As(err, &pe)
	switch {
	case s.interrupted && rerr == nil && len(s.rollback.Refused) == 0:
		return problem.New(problem.Failed, "interrupted", fmt.Errorf("%w\n  written before it, and undone (--rollback-on-failure): %s", err, orNone(s.written())),
			"the rollout of the templates put back was not waited for: look at `kubectl rollout status`")
	case rerr != nil:
		return problem.New(problem.KindOf(err), "", fmt.Errorf("%w\nand the rollback failed too: %v", err, rerr),
			"look at `kubectl rollout history` and the ConfigMaps named above; the previous state was not fully restored")
	case len(s.rollback.Refused) > 0:
		return problem.New(problem.KindOf(err), "", fmt.Errorf("%w\nthe rollback left what was changed by others since the deploy wrote it:\n  %s",
			err, strings.Join(s.rollback.Refused, "\n  ")), "look at those objects and settle them with whoever changed them; everything else was restored")
	case pe != nil:
		pe.Fix = strings.Replace(pe.Fix, rollbackPending, "what the deploy wrote was undone and rolled out again (--rollback-on-failure)", 1)
	}
	return err
}

// rollbackPending ends the fix of a failure that a rollback follows.
const rollbackPending = "what the deploy wrote is being undone (--rollback-on-failure)"

// rollbackAdvice ends the fix of a failure without a rollback.
const rollbackAdvice = "--rollback-on-failure undoes what the deploy wrote"

// result is the DeployResult as far as the deploy got; the revision and
// images of each changed workload are read again (bounded: the deploy may
// have been interrupted), since the controller sets the revision after
// the write.
func (s *deployState) result(ctx context.Context) *DeployResult {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	r := &DeployResult{Context: s.o.Context, Namespace: s.namespace, DryRun: s.o.DryRun,
		ConfigMaps: []DeployedConfigMap{}, Workloads: []DeployedWorkload{}, RolledBack: s.rolled, Rollback: s.rollback, Failure: s.failure}
	if s.clients != nil {
		r.Context = s.clients.Context
	}
	for _, w := range s.journal {
		r.Written = append(r.Written, w.what)
	}
	actions := map[string]string{}
	var planned []plannedWorkload
	if p := s.plan; p != nil {
		r.Changed = p.changed
		for _, c := range p.configMaps {
			actions[c.want.Name] = c.action
		}
		planned = p.workloads
	} else {
		for _, w := range s.in.workloads {
			planned = append(planned, plannedWorkload{Workload: w})
		}
	}
	for _, cm := range s.in.configMaps {
		keys := make([]string, 0, len(cm.Data)+len(cm.BinaryData))
		for k := range cm.Data {
			keys = append(keys, k)
		}
		for k := range cm.BinaryData {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		r.ConfigMaps = append(r.ConfigMaps, DeployedConfigMap{Name: cm.Name, Action: actions[cm.Name], Keys: keys})
	}
	for _, pw := range planned {
		d := DeployedWorkload{Workload: pw.Workload, Changed: pw.changed}
		if t := pw.before; t != nil {
			d.Revision, d.Images = t.Revision, t.Images()
		}
		if s.clients != nil && !s.o.DryRun && (pw.changed || len(s.journal) > 0) {
			if t, err := kube.GetTemplate(ctx, s.clients.Kube, pw.Workload); err == nil {
				d.Revision, d.Images = t.Revision, t.Images()
			}
		}
		for _, st := range s.rollouts {
			if st.Workload == pw.Workload {
				d.Ready, d.Message = st.Ready, st.Message
			}
		}
		if s.plan != nil && !s.plan.changed && s.rollouts == nil {
			d.Ready, d.Message = true, "unchanged"
		}
		r.Workloads = append(r.Workloads, d)
	}
	return r
}
