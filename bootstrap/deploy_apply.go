package bootstrap

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"

	"github.com/devcluster/devcluster/internal/problem"
	"github.com/devcluster/devcluster/kube"
)

// deployWrite is one write the deploy made, and what undoes it.
type deployWrite struct {
	what string // "ConfigMap apps/web-config updated"
	// A ConfigMap: as it was (nil: the deploy created it) and as written.
	cmBefore, cmWritten *corev1.ConfigMap
	// A workload: as it was (nil: the deploy created it) and as written.
	tBefore, tWritten *kube.Template
	// Neither: an object of the manifests a rollback leaves.
}

// dryRun sends every write of the plan as a server-side dry run:
// admission, validation and conflicts are found before anything is
// written.
func dryRun(ctx context.Context, s *deployState) (string, error) {
	if !s.plan.changed {
		return "nothing to validate", nil
	}
	k := s.clients.Kube
	var problems []string
	conflict := false
	check := func(what string, err error) {
		var changed *kube.ChangedError
		if err != nil {
			conflict = conflict || apierrors.IsConflict(err) || errors.As(err, &changed)
			problems = append(problems, what+": "+err.Error())
		}
	}
	for _, c := range s.plan.configMaps {
		if c.action != "unchanged" {
			_, err := kube.WriteConfigMap(ctx, k, c.before, c.want, true)
			check("ConfigMap "+c.want.Name, err)
		}
	}
	if len(s.plan.manifests) > 0 {
		applier, err := applierOf(s.clients)
		if err != nil {
			return "", err
		}
		_, err = applier.Apply(ctx, s.plan.manifests, s.applyOptions(true))
		check("--manifest", err)
	}
	for _, pt := range s.plan.patches {
		_, err := kube.PatchTemplate(ctx, k, pt.before, pt.change, true)
		check(pt.before.Workload.String(), err)
	}
	if conflict {
		return "", problem.New(problem.Failed, "", &problem.List{Subject: "changed while the deploy ran", Problems: problems},
			"nothing was applied; someone changed these since they were read: run the deploy again")
	}
	if len(problems) > 0 {
		return "", problem.New(problem.Usage, "", &problem.List{Subject: "the API server refused the changes", Problems: problems}, "nothing was applied; fix the inputs named above")
	}
	if s.o.DryRun {
		return "accepted; nothing written (--dry-run)", nil
	}
	return "accepted", nil
}

func (s *deployState) applyOptions(dryRun bool) kube.ApplyOptions {
	o := kube.ApplyOptions{DefaultNamespace: s.namespace, ImageRewrite: s.snap.rewrite, KeepConfigHash: true, DryRunOnly: dryRun}
	if !dryRun {
		o.Progress = s.deps.Report.Progress
	}
	return o
}

// applyPlan makes the writes of the plan — ConfigMaps, manifests, template
// patches — each recorded as it is made. A write that fails stops it; the
// error names what was written before.
func applyPlan(ctx context.Context, s *deployState) (string, error) {
	if !s.plan.changed {
		return "unchanged", nil
	}
	k := s.clients.Kube
	fail := func(what string, err error) error {
		if errors.Is(err, context.Canceled) {
			return fmt.Errorf("%s: %w", what, err) // Deploy says what was written
		}
		fix := "nothing was undone; " + rollbackAdvice
		if s.o.Rollback {
			fix = rollbackPending
		}
		return problem.New(problem.Failed, what, fmt.Errorf("%w\n  written before it: %s", err, orNone(s.written())), fix)
	}
	for _, c := range s.plan.configMaps {
		if c.action == "unchanged" {
			continue
		}
		if err := ctx.Err(); err != nil {
			return "", err
		}
		out, err := kube.WriteConfigMap(ctx, k, c.before, c.want, false)
		if err != nil {
			return "", fail("writing ConfigMap "+c.want.Namespace+"/"+c.want.Name, err)
		}
		s.journal = append(s.journal, deployWrite{what: fmt.Sprintf("ConfigMap %s/%s %s", c.want.Namespace, c.want.Name, c.action), cmBefore: c.before, cmWritten: out})
	}
	if len(s.plan.manifests) > 0 {
		if err := ctx.Err(); err != nil {
			return "", err
		}
		applier, err := s.clients.Applier()
		if err != nil {
			return "", fail("connecting to the cluster", err)
		}
		applied, err := applier.Apply(ctx, s.plan.manifests, s.applyOptions(false))
		for _, it := range applied {
			s.journal = append(s.journal, s.manifestWrite(it))
		}
		if err != nil {
			return "", fail("applying the manifests", err)
		}
	}
	for _, pt := range s.plan.patches {
		if err := ctx.Err(); err != nil {
			return "", err
		}
		out, err := kube.PatchTemplate(ctx, k, pt.before, pt.change, false)
		if err != nil {
			return "", fail("updating "+pt.before.Workload.String(), err)
		}
		s.journal = append(s.journal, deployWrite{what: pt.before.Workload.String() + " updated", tBefore: pt.before, tWritten: out})
	}
	return strings.Join(s.written(), ", "), nil
}

// manifestWrite records the apply of an object of the manifests.
func (s *deployState) manifestWrite(it kube.Applied) deployWrite {
	key := keyOf(it.Obj)
	w := deployWrite{what: it.Describe() + " configured"}
	if s.snap.objects[key] == nil {
		w.what = it.Describe() + " created"
	}
	if it.Result == nil {
		return w
	}
	if wl, ok := workloadOf(it.Result); ok {
		if t, err := kube.TemplateFromUnstructured(it.Result); err == nil {
			w.tBefore, w.tWritten = s.snap.templates[wl], t
		}
	} else if isConfigMap(it.Result) {
		if cm, err := configMapOf(it.Result); err == nil {
			w.cmBefore, w.cmWritten = s.snap.configMaps[types.NamespacedName{Namespace: cm.Namespace, Name: cm.Name}], cm
		}
	}
	return w
}

func (s *deployState) written() []string {
	out := make([]string, 0, len(s.journal))
	for _, w := range s.journal {
		out = append(out, w.what)
	}
	return out
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "nothing"
	}
	return strings.Join(s, ", ")
}

// rollBack undoes the writes, the last first, from the snapshot: a
// ConfigMap's data put back, or the ConfigMap deleted when the deploy
// created it; a template put back, or the workload deleted when the deploy
// created it — each only while it is what the deploy wrote: what someone
// changed since is refused, reported and left. The templates put back are
// waited for.
func rollBack(ctx context.Context, s *deployState) (string, error) {
	k := s.clients.Kube
	// The undoing writes get their own time, and finish even when the
	// deploy is interrupted: half a rollback is the worst state to leave.
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	rb := &DeployRollback{Restored: []string{}, Deleted: []string{}}
	s.rollback = rb
	var restored []kube.Workload
	var errs []string
	for i := len(s.journal) - 1; i >= 0; i-- {
		w := s.journal[i]
		var name string
		var err error
		deleted := false
		switch {
		case w.cmWritten != nil:
			name = "ConfigMap " + w.cmWritten.Namespace + "/" + w.cmWritten.Name
			deleted = w.cmBefore == nil
			err = kube.RestoreConfigMap(wctx, k, w.cmBefore, w.cmWritten)
		case w.tWritten != nil && w.tBefore == nil:
			name, deleted = w.tWritten.Workload.String(), true
			err = kube.DeleteWorkload(wctx, k, w.tWritten)
		case w.tWritten != nil:
			name = w.tWritten.Workload.String()
			if err = kube.RestoreTemplate(wctx, k, w.tBefore, w.tWritten); err == nil {
				restored = append(restored, w.tWritten.Workload)
			}
		default:
			rb.Left = append(rb.Left, w.what)
			continue
		}
		var changed *kube.ChangedError
		switch {
		case errors.As(err, &changed):
			rb.Refused = append(rb.Refused, changed.Error())
			s.deps.Report.Warn("not rolled back: " + changed.Error())
		case err != nil:
			errs = append(errs, name+": "+err.Error())
		case deleted:
			rb.Deleted = append(rb.Deleted, name)
		default:
			rb.Restored = append(rb.Restored, name)
		}
	}
	if len(errs) > 0 {
		return "", errors.New(strings.Join(errs, "; "))
	}
	// After an interrupt the undoing writes are made, but their rollout
	// is not waited for: the interrupt asked to stop.
	if len(restored) > 0 && !s.interrupted {
		if _, err := kube.WaitForRollouts(ctx, k, restored, s.o.Timeout, s.deps.Report.Progress); err != nil {
			return "", fmt.Errorf("the rollback did not roll out: %w", err)
		}
	}
	s.rolled = len(rb.Refused) == 0 && (len(restored) == 0 || !s.interrupted)
	parts := []string{fmt.Sprintf("restored %s", orNone(rb.Restored))}
	if len(restored) > 0 && s.interrupted {
		parts[0] += " (interrupted: their rollout not waited for)"
	}
	if len(rb.Deleted) > 0 {
		parts = append(parts, "deleted "+strings.Join(rb.Deleted, ", "))
	}
	if len(rb.Refused) > 0 {
		parts = append(parts, fmt.Sprintf("%d left as others changed them", len(rb.Refused)))
	}
	if len(rb.Left) > 0 {
		parts = append(parts, "not rolled back: "+strings.Join(rb.Left, ", "))
	}
	return strings.Join(parts, "; "), nil
}
