package kube

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/devcluster/devcluster/manifests"
)

// Object is one manifest document and where it came from.
type Object struct {
	Source string // file path or "sample:<name>"
	Index  int    // document index in the file, from 0
	Obj    *unstructured.Unstructured
	// Owned marks devcluster's own objects (the samples): devcluster takes
	// their fields over from any other manager. The user's manifests are
	// applied without force, so a field another manager owns is a
	// conflict, as with kubectl apply --server-side without
	// --force-conflicts.
	Owned bool
}

// applyOptions are the server-side apply options for an object.
func (o Object) applyOptions(dryRun bool) metav1.ApplyOptions {
	opts := metav1.ApplyOptions{FieldManager: FieldManager, Force: o.Owned}
	if dryRun {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	return opts
}

// applyError names the object and, for a conflict, the fields and their
// managers and what to do.
func (o Object) applyError(err error) string {
	msg := fmt.Sprintf("%s (%s): %v", o.Where(), o.Describe(), err)
	if apierrors.IsConflict(err) {
		msg += "; these fields are managed by another tool: remove them from this manifest, set them to the value they have (to co-own them), or change them with the tool that manages them"
	}
	return msg
}

// Where names the document for messages: "deploy/app.yaml document 2".
func (o Object) Where() string { return fmt.Sprintf("%s document %d", o.Source, o.Index+1) }

// Describe names the object: "Deployment default/web".
func (o Object) Describe() string {
	n := o.Obj.GetName()
	if ns := o.Obj.GetNamespace(); ns != "" {
		n = ns + "/" + n
	}
	return o.Obj.GetKind() + " " + n
}

// ApplyOptions configure Apply.
type ApplyOptions struct {
	// DefaultNamespace for namespaced objects without one ("default").
	DefaultNamespace string
	// ImageRewrite rewrites the workloads' images (localhost:<port>/… to
	// the address the cluster pulls from; see ReadImageRewrite).
	ImageRewrite manifests.ImageRewrite
	// KeepConfigHash leaves ConfigHashAnnotation to the caller: without it
	// every template that references a ConfigMap of the same apply gets the
	// annotation over those ConfigMaps.
	KeepConfigHash bool
	// Progress receives a line per applied object.
	Progress func(string)
	// DryRunOnly stops after the server-side dry run: nothing but missing
	// namespaces is written.
	DryRunOnly bool
}

// Applied is one object that was applied.
type Applied struct {
	Object
	GVR        schema.GroupVersionResource
	Namespaced bool
	// Result is the object as the API server answered the apply (with
	// DryRunOnly, the dry run: the object as it would be); nil when it was
	// not applied (not validated: its namespace does not exist yet).
	Result *unstructured.Unstructured
}

// Applier applies manifests with server-side apply.
type Applier struct {
	Dynamic dynamic.Interface
	Mapper  meta.RESTMapper
}

// applyOrder puts the objects others depend on first.
var applyOrder = map[string]int{
	"Namespace": 0, "CustomResourceDefinition": 1, "ServiceAccount": 2, "ClusterRole": 2, "Role": 2,
	"ClusterRoleBinding": 3, "RoleBinding": 3, "ConfigMap": 3, "Secret": 3, "PersistentVolumeClaim": 3,
}

func orderOf(kind string) int {
	if o, ok := applyOrder[kind]; ok {
		return o
	}
	return 5
}

// Resolve maps every object's kind to its resource through discovery, sets
// the namespace of namespaced objects that have none (and clears it on
// cluster-scoped ones), rewrites the workloads' images and, unless
// KeepConfigHash, stamps the config hashes; it returns them in apply order.
// It changes the objects in place and is idempotent.
func (a *Applier) Resolve(objs []Object, o ApplyOptions) ([]Applied, error) {
	if o.DefaultNamespace == "" {
		o.DefaultNamespace = "default"
	}
	var items []Applied
	var problems []string
	for _, obj := range objs {
		gvk := obj.Obj.GroupVersionKind()
		m, err := a.Mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s (%s): unknown kind %s: %v", obj.Where(), obj.Describe(), gvk, err))
			continue
		}
		namespaced := m.Scope.Name() == meta.RESTScopeNameNamespace
		if namespaced && obj.Obj.GetNamespace() == "" {
			obj.Obj.SetNamespace(o.DefaultNamespace)
		}
		if !namespaced {
			obj.Obj.SetNamespace("")
		}
		rewriteImages(obj.Obj, o.ImageRewrite)
		items = append(items, Applied{Object: obj, GVR: m.Resource, Namespaced: namespaced})
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("cannot apply:\n  %s", strings.Join(problems, "\n  "))
	}
	if !o.KeepConfigHash {
		stampConfigHashes(items)
	}
	sort.SliceStable(items, func(i, j int) bool { return orderOf(items[i].Obj.GetKind()) < orderOf(items[j].Obj.GetKind()) })
	return items, nil
}

// Apply resolves the objects (Resolve), creates missing namespaces,
// validates everything with a server-side dry run, and only then applies
// (server-side apply, field manager devcluster). If the dry run fails
// nothing but namespaces was written; a failure during the real apply
// returns, with the error, the objects applied before it (each with its
// Result), and the error names them.
func (a *Applier) Apply(ctx context.Context, objs []Object, o ApplyOptions) ([]Applied, error) {
	items, err := a.Resolve(objs, o)
	if err != nil {
		return nil, err
	}

	// Namespaces first, for real: a dry run of a namespaced object needs its
	// namespace to exist.
	nsGVR := schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}
	declared := map[string]bool{}
	for _, it := range items {
		if it.Obj.GetKind() == "Namespace" && it.GVR.Group == "" {
			declared[it.Obj.GetName()] = true
		}
	}
	needed := map[string]bool{}
	for _, it := range items {
		if it.Namespaced {
			needed[it.Obj.GetNamespace()] = true
		}
	}
	var created []string
	absent := map[string]bool{}
	for ns := range needed {
		if _, err := a.Dynamic.Resource(nsGVR).Get(ctx, ns, metav1.GetOptions{}); err == nil {
			continue
		}
		if o.DryRunOnly {
			// Writes nothing: objects in a namespace that does not exist
			// yet cannot be dry-run.
			absent[ns] = true
			continue
		}
		if declared[ns] {
			continue
		}
		u := &unstructured.Unstructured{}
		u.SetAPIVersion("v1")
		u.SetKind("Namespace")
		u.SetName(ns)
		if _, err := a.Dynamic.Resource(nsGVR).Apply(ctx, ns, u, metav1.ApplyOptions{FieldManager: FieldManager, Force: true}); err != nil {
			return nil, fmt.Errorf("creating namespace %s: %w", ns, err)
		}
		created = append(created, ns)
	}
	for _, it := range items {
		if it.Obj.GetKind() == "Namespace" && it.GVR.Group == "" && !o.DryRunOnly {
			if _, err := a.apply(ctx, it, false); err != nil {
				return nil, errors.New(it.applyError(err))
			}
		}
	}

	var problems []string
	for i, it := range items {
		if it.Namespaced && absent[it.Obj.GetNamespace()] {
			if o.Progress != nil {
				o.Progress("not validated (namespace " + it.Obj.GetNamespace() + " does not exist yet): " + it.Describe())
			}
			continue
		}
		res, err := a.apply(ctx, it, true)
		if err != nil {
			problems = append(problems, it.applyError(err))
			continue
		}
		items[i].Result = res
	}
	if len(problems) > 0 {
		msg := "the server rejected the manifests; nothing was applied"
		if len(created) > 0 {
			sort.Strings(created)
			msg += " (namespaces created: " + strings.Join(created, ", ") + ")"
		}
		return nil, fmt.Errorf("%s:\n  %s", msg, strings.Join(problems, "\n  "))
	}
	if o.DryRunOnly {
		return items, nil
	}
	var done []string
	for i, it := range items {
		res, err := a.apply(ctx, it, false)
		if err != nil {
			return items[:i], fmt.Errorf("%s (already applied: %s)", it.applyError(err), orNone(done))
		}
		items[i].Result = res
		done = append(done, it.Describe())
		if o.Progress != nil {
			o.Progress("applied " + it.Describe())
		}
	}
	return items, nil
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "nothing"
	}
	return strings.Join(s, ", ")
}

// apply applies one object. A conflict with devcluster alone — fields it
// wrote with an update (a deploy's --image patch, a rollback) that the
// apply now sets — is no conflict: the apply is made again, taking them.
func (a *Applier) apply(ctx context.Context, it Applied, dryRun bool) (*unstructured.Unstructured, error) {
	opts := it.applyOptions(dryRun)
	res, err := a.resource(it).Apply(ctx, it.Obj.GetName(), it.Obj, opts)
	if err != nil && !opts.Force && onlySelfConflicts(err) {
		opts.Force = true
		res, err = a.resource(it).Apply(ctx, it.Obj.GetName(), it.Obj, opts)
	}
	return res, err
}

// onlySelfConflicts reports whether err is an apply conflict whose every
// field is held by devcluster's own field manager (the API server names
// each in a cause: `conflict with "devcluster" using apps/v1`).
func onlySelfConflicts(err error) bool {
	var se apierrors.APIStatus
	if !apierrors.IsConflict(err) || !errors.As(err, &se) || se.Status().Details == nil || len(se.Status().Details.Causes) == 0 {
		return false
	}
	for _, c := range se.Status().Details.Causes {
		rest, ok := strings.CutPrefix(c.Message, "conflict with ")
		if c.Type != metav1.CauseTypeFieldManagerConflict || !ok {
			return false
		}
		manager, err := strconv.QuotedPrefix(rest)
		if err != nil {
			return false
		}
		if m, _ := strconv.Unquote(manager); m != FieldManager {
			return false
		}
	}
	return true
}

// Get reads an object of the manifests as it is in the cluster.
func (a *Applier) Get(ctx context.Context, it Applied) (*unstructured.Unstructured, error) {
	u, err := a.resource(it).Get(ctx, it.Obj.GetName(), metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	return u, nil
}

func (a *Applier) resource(it Applied) dynamic.ResourceInterface {
	if it.Namespaced {
		return a.Dynamic.Resource(it.GVR).Namespace(it.Obj.GetNamespace())
	}
	return a.Dynamic.Resource(it.GVR)
}
