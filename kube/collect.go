package kube

import (
	"context"
	"fmt"
	"slices"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
)

// The reads of a diagnostics bundle: what it lists and gets of the
// cluster, each bounded by the caller's context. Secrets are never read.

// ListWorkloads lists the Deployments, StatefulSets and DaemonSets of
// namespace ns ("" = every namespace). A kind that cannot be listed is an
// error of its own ("listing StatefulSets: ..."); the others are listed
// still.
func ListWorkloads(ctx context.Context, k kubernetes.Interface, ns string) ([]Workload, []error) {
	lists := []struct {
		kind string
		list func() (runtime.Object, error)
	}{
		{"Deployment", func() (runtime.Object, error) { return k.AppsV1().Deployments(ns).List(ctx, metav1.ListOptions{}) }},
		{"StatefulSet", func() (runtime.Object, error) { return k.AppsV1().StatefulSets(ns).List(ctx, metav1.ListOptions{}) }},
		{"DaemonSet", func() (runtime.Object, error) { return k.AppsV1().DaemonSets(ns).List(ctx, metav1.ListOptions{}) }},
	}
	var out []Workload
	var errs []error
	for _, l := range lists {
		list, err := l.list()
		var items []runtime.Object
		if err == nil {
			items, err = meta.ExtractList(list)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("listing %ss: %w", l.kind, err))
			continue
		}
		for _, item := range items {
			if m, err := meta.Accessor(item); err == nil {
				out = append(out, Workload{Kind: l.kind, Namespace: m.GetNamespace(), Name: m.GetName()})
			}
		}
	}
	return out, errs
}

// IsManagedNamespace reports whether namespace name exists and carries
// devcluster's managed-by label; a namespace that does not exist is not
// one, and no error.
func IsManagedNamespace(ctx context.Context, k kubernetes.Interface, name string) (bool, error) {
	n, err := k.CoreV1().Namespaces().Get(ctx, name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return false, nil
	case err != nil:
		return false, err
	}
	return n.Labels[ManagedByLabel] == ManagedBy, nil
}

// WorkloadTree is a workload as a diagnostics bundle reads it: the object,
// and the ReplicaSets (of a Deployment) and pods it controls.
type WorkloadTree struct {
	Object runtime.Object
	// ReplicaSets are those the Deployment controls; nil for other kinds.
	ReplicaSets *appsv1.ReplicaSetList
	// Pods are those the workload (or its ReplicaSets) controls; nil when
	// they could not be listed.
	Pods *corev1.PodList
}

// ReadWorkloadTree reads w and what it controls: the ReplicaSets and pods
// its template's labels select whose controller it is (a pod of another
// owner that shares the labels is left out). An error reading the
// workload returns no tree; one listing its ReplicaSets or pods returns
// the tree read so far and says which part failed ("ReplicaSets of
// Deployment apps/web: ...").
func ReadWorkloadTree(ctx context.Context, k kubernetes.Interface, w Workload) (*WorkloadTree, error) {
	if !RolloutKinds[w.Kind] {
		return nil, fmt.Errorf("kind %s is not a workload", w.Kind)
	}
	obj, err := getWorkload(ctx, k, w)
	if err != nil {
		return nil, err
	}
	tmpl, err := templateOf(obj)
	if err != nil {
		return nil, err
	}
	t := &WorkloadTree{Object: obj}
	sel := metav1.FormatLabelSelector(&metav1.LabelSelector{MatchLabels: tmpl.Spec.Labels})
	owners := map[types.UID]bool{tmpl.UID: true}
	if w.Kind == "Deployment" {
		rss, err := k.AppsV1().ReplicaSets(w.Namespace).List(ctx, metav1.ListOptions{LabelSelector: sel})
		if err != nil {
			return t, fmt.Errorf("ReplicaSets of %s: %w", w, err)
		}
		rss.Items = slices.DeleteFunc(rss.Items, func(rs appsv1.ReplicaSet) bool { return !controlledBy(rs.ObjectMeta, owners) })
		owners = map[types.UID]bool{}
		for _, rs := range rss.Items {
			owners[rs.UID] = true
		}
		t.ReplicaSets = rss
	}
	pods, err := k.CoreV1().Pods(w.Namespace).List(ctx, metav1.ListOptions{LabelSelector: sel})
	if err != nil {
		return t, fmt.Errorf("pods of %s: %w", w, err)
	}
	pods.Items = slices.DeleteFunc(pods.Items, func(p corev1.Pod) bool { return !controlledBy(p.ObjectMeta, owners) })
	t.Pods = pods
	return t, nil
}

// controlledBy says whether m's controller is one of uids.
func controlledBy(m metav1.ObjectMeta, uids map[types.UID]bool) bool {
	ref := metav1.GetControllerOfNoCopy(&m)
	return ref != nil && uids[ref.UID]
}

// ListNodes lists the nodes; without images, their image lists are left
// out (every image every team's pods pulled, on a cluster shared with
// others).
func ListNodes(ctx context.Context, k kubernetes.Interface, images bool) (*corev1.NodeList, error) {
	nodes, err := k.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	if !images {
		for i := range nodes.Items {
			nodes.Items[i].Status.Images = nil
		}
	}
	return nodes, nil
}

// ListEvents lists the events of namespace ns about the objects keep
// accepts (by kind and name); a nil keep accepts every event.
func ListEvents(ctx context.Context, k kubernetes.Interface, ns string, keep func(kind, name string) bool) (*corev1.EventList, error) {
	evs, err := k.CoreV1().Events(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	if keep != nil {
		evs.Items = slices.DeleteFunc(evs.Items, func(e corev1.Event) bool { return !keep(e.InvolvedObject.Kind, e.InvolvedObject.Name) })
	}
	return evs, nil
}
