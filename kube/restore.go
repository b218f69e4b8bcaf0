package kube

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"
)

// The writes of a deploy and their undoing. Every write carries a
// precondition — the UID and resourceVersion read — so that nothing is
// overwritten that changed since it was read; an undo happens only while
// the object is still the one devcluster wrote and holds what it wrote,
// and otherwise is refused with what changed and who changed it.

// ChangedError is an undo refused: the object is no longer what devcluster
// wrote, and was left as it is.
type ChangedError struct {
	// Object is "Deployment apps/web" or "ConfigMap apps/web-config".
	Object string
	// Why is "was deleted", "was deleted and created again" or "changed
	// since the deploy wrote it".
	Why string
	// Paths are what differs from what devcluster wrote.
	Paths []string
	// By are the field managers that wrote those fields since.
	By []string
}

func (e *ChangedError) Error() string {
	s := e.Object + " " + e.Why
	if len(e.Paths) > 0 {
		s += ": " + strings.Join(e.Paths, ", ")
	}
	if len(e.By) > 0 {
		s += " (by " + strings.Join(e.By, ", ") + ")"
	}
	return s + "; left as it is"
}

// WriteConfigMap makes cm's data the ConfigMap's, exactly (as `kubectl
// create configmap --dry-run -o yaml | kubectl replace` would, keys no
// longer in the files removed): created when before is nil, else before
// updated with cm's data and binaryData, its other fields kept, under
// before's resourceVersion — a ConfigMap changed since it was read is a
// conflict, not overwritten. It returns the ConfigMap as written (with
// dryRun, as it would be).
func WriteConfigMap(ctx context.Context, k kubernetes.Interface, before, cm *corev1.ConfigMap, dryRun bool) (*corev1.ConfigMap, error) {
	c := k.CoreV1().ConfigMaps(cm.Namespace)
	if before == nil {
		create := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: cm.Name, Namespace: cm.Namespace, Labels: cm.Labels}, Data: cm.Data, BinaryData: cm.BinaryData}
		return c.Create(ctx, create, metav1.CreateOptions{FieldManager: FieldManager, DryRun: dryRunOpt(dryRun)})
	}
	next := before.DeepCopy()
	next.Data, next.BinaryData = cm.Data, cm.BinaryData
	return c.Update(ctx, next, metav1.UpdateOptions{FieldManager: FieldManager, DryRun: dryRunOpt(dryRun)})
}

func dryRunOpt(dryRun bool) []string {
	if dryRun {
		return []string{metav1.DryRunAll}
	}
	return nil
}

// RestoreConfigMap undoes a write: before's data put back into the
// ConfigMap written, or written deleted when before is nil (the write
// created it) — while the ConfigMap is written's (its UID) and holds
// written's data; otherwise a *ChangedError, and it is left as it is. The
// update and the delete carry the UID and resourceVersion read; a conflict
// (someone wrote meanwhile) reads it again and checks again.
func RestoreConfigMap(ctx context.Context, k kubernetes.Interface, before, written *corev1.ConfigMap) error {
	c := k.CoreV1().ConfigMaps(written.Namespace)
	what := "ConfigMap " + written.Namespace + "/" + written.Name
	return retry.RetryOnConflict(undoRetry, func() error {
		cur, err := c.Get(ctx, written.Name, metav1.GetOptions{})
		if err := gone(what, sinceWritten, written.UID, cur, err); err != nil {
			return err
		}
		if ConfigMapDigest(cur.Data, cur.BinaryData) != ConfigMapDigest(written.Data, written.BinaryData) {
			var paths []string
			diffPaths("data", asMap(written.Data), asMap(cur.Data), &paths)
			diffPaths("binaryData", asMap(written.BinaryData), asMap(cur.BinaryData), &paths)
			return &ChangedError{Object: what, Why: "changed " + sinceWritten, Paths: paths,
				By: changedBy(written.ManagedFields, cur.ManagedFields, []string{"f:data"}, []string{"f:binaryData"})}
		}
		if before == nil {
			return c.Delete(ctx, written.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &cur.UID, ResourceVersion: &cur.ResourceVersion}})
		}
		next := cur.DeepCopy()
		next.Data, next.BinaryData = before.Data, before.BinaryData
		_, err = c.Update(ctx, next, metav1.UpdateOptions{FieldManager: FieldManager})
		return err
	})
}

// undoRetry is how often a template patch or an undo reads, checks and
// writes again after a conflict: a workload rolling out is written by its
// controller many times a second (about 2.5 s in all).
var undoRetry = wait.Backoff{Steps: 8, Duration: 10 * time.Millisecond, Factor: 2, Jitter: 0.1}

// Since the deploy wrote an object (an undo) or read it (a write).
const (
	sinceWritten = "since the deploy wrote it"
	sinceRead    = "since the deploy read it"
)

// gone is the ChangedError of an object that was deleted, or deleted and
// created again, since the write (or the read).
func gone(what, since string, uid any, cur metav1.Object, err error) error {
	switch {
	case apierrors.IsNotFound(err):
		return &ChangedError{Object: what, Why: "was deleted " + since}
	case err != nil:
		return err
	case fmt.Sprint(cur.GetUID()) != fmt.Sprint(uid):
		return &ChangedError{Object: what, Why: "was deleted and created again " + since}
	}
	return nil
}

// RestoreTemplate undoes a template write: before's template put back —
// while the workload is written's (its UID) and its template is the one
// written; otherwise a *ChangedError naming what changed and who changed
// it, and the workload is left as it is. The update carries the
// resourceVersion read; a conflict (the controller writes the object all
// through a rollout) reads it again and checks again.
func RestoreTemplate(ctx context.Context, k kubernetes.Interface, before, written *Template) error {
	return undoTemplate(ctx, k, written, func(cur runtime.Object) error {
		switch o := cur.(type) {
		case *appsv1.Deployment:
			o.Spec.Template = before.Spec
			_, err := k.AppsV1().Deployments(o.Namespace).Update(ctx, o, metav1.UpdateOptions{FieldManager: FieldManager})
			return err
		case *appsv1.StatefulSet:
			o.Spec.Template = before.Spec
			_, err := k.AppsV1().StatefulSets(o.Namespace).Update(ctx, o, metav1.UpdateOptions{FieldManager: FieldManager})
			return err
		case *appsv1.DaemonSet:
			o.Spec.Template = before.Spec
			_, err := k.AppsV1().DaemonSets(o.Namespace).Update(ctx, o, metav1.UpdateOptions{FieldManager: FieldManager})
			return err
		}
		return fmt.Errorf("cannot restore %T", cur)
	})
}

// DeleteWorkload undoes the creation of a workload, under the conditions
// of RestoreTemplate, with UID and resourceVersion preconditions.
func DeleteWorkload(ctx context.Context, k kubernetes.Interface, written *Template) error {
	return undoTemplate(ctx, k, written, func(cur runtime.Object) error {
		m, err := metaOf(cur)
		if err != nil {
			return err
		}
		opts := metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &m.UID, ResourceVersion: &m.ResourceVersion}}
		switch written.Kind {
		case "Deployment":
			return k.AppsV1().Deployments(written.Namespace).Delete(ctx, written.Name, opts)
		case "StatefulSet":
			return k.AppsV1().StatefulSets(written.Namespace).Delete(ctx, written.Name, opts)
		case "DaemonSet":
			return k.AppsV1().DaemonSets(written.Namespace).Delete(ctx, written.Name, opts)
		}
		return fmt.Errorf("cannot delete kind %s", written.Kind)
	})
}

func metaOf(obj runtime.Object) (*metav1.ObjectMeta, error) {
	switch o := obj.(type) {
	case *appsv1.Deployment:
		return &o.ObjectMeta, nil
	case *appsv1.StatefulSet:
		return &o.ObjectMeta, nil
	case *appsv1.DaemonSet:
		return &o.ObjectMeta, nil
	}
	return nil, fmt.Errorf("cannot deploy %T", obj)
}

// undoTemplate reads the workload, checks it is as written, and undoes
// (undo gets the object read, to write with its resourceVersion).
func undoTemplate(ctx context.Context, k kubernetes.Interface, written *Template, undo func(cur runtime.Object) error) error {
	return retry.RetryOnConflict(undoRetry, func() error {
		obj, _, err := readUnchanged(ctx, k, written, sinceWritten)
		if err != nil {
			return err
		}
		return undo(obj)
	})
}

// readUnchanged reads the workload of t and checks it is still t's object
// (its UID) with t's pod template; otherwise a *ChangedError naming what
// changed in the template since (since) and who changed it.
func readUnchanged(ctx context.Context, k kubernetes.Interface, t *Template, since string) (runtime.Object, *Template, error) {
	what := t.Kind + " " + t.Namespace + "/" + t.Name
	obj, err := getWorkload(ctx, k, t.Workload)
	var m metav1.Object
	if err == nil {
		mm, merr := metaOf(obj)
		if merr != nil {
			return nil, nil, merr
		}
		m = mm
	}
	if err := gone(what, since, t.UID, m, err); err != nil {
		return nil, nil, err
	}
	cur, err := templateOf(obj)
	if err != nil {
		return nil, nil, err
	}
	if !apiequality.Semantic.DeepEqual(cur.Spec, t.Spec) {
		var paths []string
		diffPaths("spec.template", asMap(t.Spec), asMap(cur.Spec), &paths)
		return nil, nil, &ChangedError{Object: what, Why: "changed " + since, Paths: paths,
			By: changedBy(t.ManagedFields, cur.ManagedFields, []string{"f:spec", "f:template"})}
	}
	return obj, cur, nil
}

// asMap is an object as JSON would have it, for diffPaths.
func asMap(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	var out any
	_ = json.Unmarshal(b, &out)
	return out
}

// maxPaths bounds what diffPaths lists.
const maxPaths = 8

// diffPaths lists where a and b differ: list items with a name are matched
// by it (containers[name=sidecar].image).
func diffPaths(path string, a, b any, out *[]string) {
	if len(*out) >= maxPaths || reflect.DeepEqual(a, b) {
		return
	}
	am, aok := a.(map[string]any)
	bm, bok := b.(map[string]any)
	if aok && bok {
		for _, key := range unionKeys(am, bm) {
			diffPaths(path+"."+key, am[key], bm[key], out)
		}
		return
	}
	as, aok := a.([]any)
	bs, bok := b.([]any)
	if aok && bok {
		an, bn := itemsByName(as), itemsByName(bs)
		if an != nil && bn != nil {
			for _, n := range unionKeys(an, bn) {
				diffPaths(fmt.Sprintf("%s[name=%s]", path, n), an[n], bn[n], out)
			}
			return
		}
	}
	*out = append(*out, path)
}

// unionKeys are the keys of a and b, sorted.
func unionKeys(a, b map[string]any) []string {
	keys := slices.Collect(maps.Keys(a))
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}

// itemsByName indexes list items by their name, nil when they have none.
func itemsByName(items []any) map[string]any {
	out := map[string]any{}
	for _, it := range items {
		m, ok := it.(map[string]any)
		if !ok {
			return nil
		}
		n, ok := m["name"].(string)
		if !ok {
			return nil
		}
		out[n] = it
	}
	return out
}

// changedBy names the field managers (other than devcluster; status
// writers left out) whose entry is new or changed since written and owns
// fields under one of paths (FieldsV1 keys, such as "f:spec", "f:template").
func changedBy(written, cur []metav1.ManagedFieldsEntry, paths ...[]string) []string {
	var out []string
	for _, e := range cur {
		if e.Manager == FieldManager || e.Subresource != "" || slices.Contains(out, e.Manager) {
			continue
		}
		same := slices.ContainsFunc(written, func(w metav1.ManagedFieldsEntry) bool {
			return w.Manager == e.Manager && w.Operation == e.Operation && w.Subresource == e.Subresource &&
				apiequality.Semantic.DeepEqual(w.Time, e.Time) && apiequality.Semantic.DeepEqual(w.FieldsV1, e.FieldsV1)
		})
		if !same && ownsUnder(e.FieldsV1, paths) {
			out = append(out, e.Manager)
		}
	}
	return out
}

// ownsUnder reports whether fields has an entry under one of paths.
func ownsUnder(fields *metav1.FieldsV1, paths [][]string) bool {
	if fields == nil {
		return false
	}
	var root map[string]any
	if json.Unmarshal(fields.GetRawBytes(), &root) != nil {
		return false
	}
	for _, p := range paths {
		m, ok := root, true
		for _, key := range p {
			if m, ok = m[key].(map[string]any); !ok {
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}
