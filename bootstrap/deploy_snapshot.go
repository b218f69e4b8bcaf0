package bootstrap

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"

	"github.com/devcluster/devcluster/internal/problem"
	"github.com/devcluster/devcluster/internal/text"
	"github.com/devcluster/devcluster/kube"
	"github.com/devcluster/devcluster/manifests"
)

// deploySnapshot is the cluster as it was before the deploy wrote
// anything: taken once, never changed. The plan is made from it alone, and
// a rollback restores it.
type deploySnapshot struct {
	// templates are the workloads named and those of the manifests (nil:
	// absent).
	templates map[kube.Workload]*kube.Template
	// configMaps are those given, those of the manifests and those the
	// templates reference, before and after the manifests (nil: absent).
	configMaps map[types.NamespacedName]*corev1.ConfigMap
	// objects are the manifests' objects as they are (nil: absent).
	objects map[objectKey]*unstructured.Unstructured
	// manifests are the manifests' objects resolved (namespaces set,
	// images rewritten), in apply order.
	manifests []kube.Applied
	// predicted are the manifests' objects as the API server's dry run
	// says applying them makes them (nil: not validated, because their
	// namespace does not exist yet).
	predicted map[objectKey]*unstructured.Unstructured
	// rewrite is the cluster's KEP-1755 image rewrite.
	rewrite manifests.ImageRewrite
}

// objectKey names an object of the manifests.
type objectKey struct{ group, kind, namespace, name string }

func keyOf(u *unstructured.Unstructured) objectKey {
	gvk := u.GroupVersionKind()
	return objectKey{gvk.Group, gvk.Kind, u.GetNamespace(), u.GetName()}
}

// workloadOf is the workload an object of the manifests is, if it is one.
func workloadOf(u *unstructured.Unstructured) (kube.Workload, bool) {
	gvk := u.GroupVersionKind()
	if gvk.Group != "apps" || !kube.RolloutKinds[gvk.Kind] {
		return kube.Workload{}, false
	}
	return kube.Workload{Kind: gvk.Kind, Namespace: u.GetNamespace(), Name: u.GetName()}, true
}

func isConfigMap(u *unstructured.Unstructured) bool {
	gvk := u.GroupVersionKind()
	return gvk.Group == "" && gvk.Kind == "ConfigMap"
}

func configMapOf(u *unstructured.Unstructured) (*corev1.ConfigMap, error) {
	var cm corev1.ConfigMap
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &cm); err != nil {
		return nil, fmt.Errorf("reading ConfigMap %s/%s: %w", u.GetNamespace(), u.GetName(), err)
	}
	return &cm, nil
}

// takeSnapshot reads everything the deploy may change, and asks the API
// server (a dry run) what applying the manifests would make of their
// objects. Nothing is written.
func takeSnapshot(ctx context.Context, s *deployState) (string, error) {
	k := s.clients.Kube
	snap := &deploySnapshot{templates: map[kube.Workload]*kube.Template{}, configMaps: map[types.NamespacedName]*corev1.ConfigMap{},
		objects: map[objectKey]*unstructured.Unstructured{}, predicted: map[objectKey]*unstructured.Unstructured{}}
	failed := func(what string, err error) error { return problem.New(problem.Failed, "reading "+what, err, "") }
	// A ConfigMap deploy may not read (a service account limited to its
	// namespace) or cannot parse (another tool's) publishes no registry
	// deploy can use: no rewrite, and a warning that says why.
	rw, err := kube.ReadImageRewrite(ctx, k)
	switch {
	case apierrors.IsForbidden(err) || errors.Is(err, kube.ErrInvalidRegistryHosting):
		s.deps.Report.Warn(fmt.Sprintf("images are not rewritten for a local registry: %s/%s cannot be read: %v",
			kube.LocalRegistryHostingNamespace, kube.LocalRegistryHostingName, err))
	case err != nil:
		return "", failed(kube.LocalRegistryHostingNamespace+"/"+kube.LocalRegistryHostingName, err)
	default:
		snap.rewrite = rw
	}
	if len(s.in.manifests) > 0 {
		applier, err := applierOf(s.clients)
		if err != nil {
			return "", err
		}
		opts := kube.ApplyOptions{DefaultNamespace: s.namespace, ImageRewrite: rw, KeepConfigHash: true}
		if snap.manifests, err = applier.Resolve(s.in.manifests, opts); err != nil {
			return "", problem.New(problem.Usage, "", err, "fix the manifests named above; nothing was applied")
		}
		for _, it := range snap.manifests {
			cur, err := applier.Get(ctx, it)
			if err != nil && !apierrors.IsNotFound(err) {
				return "", failed(it.Describe(), err)
			}
			snap.objects[keyOf(it.Obj)] = cur
			if cur == nil {
				continue
			}
			if w, ok := workloadOf(cur); ok {
				if snap.templates[w], err = kube.TemplateFromUnstructured(cur); err != nil {
					return "", failed(it.Describe(), err)
				}
			} else if isConfigMap(cur) {
				cm, err := configMapOf(cur)
				if err != nil {
					return "", failed(it.Describe(), err)
				}
				snap.configMaps[types.NamespacedName{Namespace: cm.Namespace, Name: cm.Name}] = cm
			}
		}
		opts.DryRunOnly = true
		predicted, err := applier.Apply(ctx, s.in.manifests, opts)
		if err != nil {
			return "", problem.New(problem.Usage, "", err, "fix the manifests named above; nothing was applied")
		}
		for _, it := range predicted {
			snap.predicted[keyOf(it.Obj)] = it.Result
		}
	}
	for _, w := range s.in.workloads {
		if _, done := snap.templates[w]; done {
			continue
		}
		t, err := kube.GetTemplate(ctx, k, w)
		switch {
		case apierrors.IsNotFound(err):
			snap.templates[w] = nil
		case err != nil:
			return "", failed(w.String(), err)
		default:
			snap.templates[w] = t
		}
	}
	// The ConfigMaps given, and those any template references before or
	// after the manifests.
	want := map[types.NamespacedName]bool{}
	for _, cm := range s.in.configMaps {
		want[types.NamespacedName{Namespace: cm.Namespace, Name: cm.Name}] = true
	}
	refs := func(ns string, spec *corev1.PodSpec) {
		for _, n := range kube.ReferencedConfigMaps(spec) {
			want[types.NamespacedName{Namespace: ns, Name: n}] = true
		}
	}
	for w, t := range snap.templates {
		if t != nil {
			refs(w.Namespace, &t.Spec.Spec)
		}
	}
	for key, u := range snap.predicted {
		if u == nil {
			continue
		}
		if _, ok := workloadOf(u); ok {
			if t, err := kube.TemplateFromUnstructured(u); err == nil {
				refs(key.namespace, &t.Spec.Spec)
			}
		}
	}
	for _, n := range slices.SortedFunc(maps.Keys(want), func(a, b types.NamespacedName) int { return strings.Compare(a.String(), b.String()) }) {
		if _, done := snap.configMaps[n]; done {
			continue
		}
		if _, inManifests := snap.objects[objectKey{kind: "ConfigMap", namespace: n.Namespace, name: n.Name}]; inManifests {
			continue
		}
		cm, err := k.CoreV1().ConfigMaps(n.Namespace).Get(ctx, n.Name, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			snap.configMaps[n] = nil
		case err != nil:
			return "", failed("ConfigMap "+n.String(), err)
		default:
			snap.configMaps[n] = cm
		}
	}
	s.snap = snap
	var revs []string
	for _, w := range s.in.workloads {
		if t := snap.templates[w]; t != nil {
			revs = append(revs, fmt.Sprintf("%s revision %s", w, text.OrDash(t.Revision)))
		}
	}
	if len(snap.manifests) > 0 {
		revs = append(revs, fmt.Sprintf("%d manifest object(s)", len(snap.manifests)))
	}
	return strings.Join(revs, ", "), nil
}
