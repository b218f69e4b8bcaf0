package bootstrap

import (
	"context"
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/devcluster/devcluster/kube"
	"github.com/devcluster/devcluster/manifests"
)

// The Kubernetes part of a diagnostics bundle: which workloads it holds,
// and what it writes of them (read through kube's collection functions).

// scope is the workloads the bundle holds: those given (in namespace ns
// when they name none); with none, on devcluster's own cluster, every
// workload outside the kube-* namespaces; on any other cluster,
// devcluster's own workloads besides those given.
func (d *diagnosis) scope(ctx context.Context, k kubernetes.Interface, given []kube.Workload, ns string) []kube.Workload {
	var ws []kube.Workload
	add := func(w kube.Workload) {
		if w.Namespace == "" {
			w.Namespace = ns
		}
		if !slices.Contains(ws, w) {
			ws = append(ws, w)
		}
	}
	for _, w := range given {
		add(w)
	}
	switch {
	case d.owned && len(ws) == 0:
		for _, w := range d.listWorkloads(ctx, k, "", func(ns string) bool { return !strings.HasPrefix(ns, "kube-") }) {
			add(w)
		}
	case !d.owned && d.cfg != nil:
		for _, w := range d.ownWorkloads(ctx, k) {
			add(w)
		}
	}
	return ws
}

// ownWorkloads are devcluster's workloads on a cluster it does not own:
// those of the samples' namespace when it carries devcluster's label, and
// those of the configuration's manifests.
func (d *diagnosis) ownWorkloads(ctx context.Context, k kubernetes.Interface) []kube.Workload {
	var out []kube.Workload
	switch managed, err := kube.IsManagedNamespace(ctx, k, manifests.SampleNamespace); {
	case err != nil:
		d.problem("namespace %s: %v", manifests.SampleNamespace, err)
	case managed:
		out = d.listWorkloads(ctx, k, manifests.SampleNamespace, func(string) bool { return true })
	}
	if len(d.cfg.Workloads.Manifests) == 0 {
		return out
	}
	objs, err := kube.LoadManifests(d.cfg.Workloads.Manifests)
	if err != nil {
		d.problem("workloads.manifests: %v", err)
	}
	for _, o := range objs {
		if kube.RolloutKinds[o.Obj.GetKind()] {
			ns := o.Obj.GetNamespace()
			if ns == "" {
				ns = "default"
			}
			out = append(out, kube.Workload{Kind: o.Obj.GetKind(), Namespace: ns, Name: o.Obj.GetName()})
		}
	}
	return out
}

// listWorkloads lists the Deployments, StatefulSets and DaemonSets of
// namespace ns ("" = every namespace) whose namespace keep accepts.
func (d *diagnosis) listWorkloads(ctx context.Context, k kubernetes.Interface, ns string, keep func(string) bool) []kube.Workload {
	ws, errs := kube.ListWorkloads(ctx, k, ns)
	for _, err := range errs {
		d.problem("%v", err)
	}
	return slices.DeleteFunc(ws, func(w kube.Workload) bool { return !keep(w.Namespace) })
}

// kubernetesParts dumps the nodes and each workload with the ReplicaSets
// and pods it controls, the events about them, and the logs of its pods
// that are not ready. Secrets are never read.
func (d *diagnosis) kubernetesParts(ctx context.Context, k kubernetes.Interface, ws []kube.Workload) {
	// Off devcluster's own cluster, not the images every team's pods
	// pulled.
	if nodes, err := kube.ListNodes(ctx, k, d.owned); err == nil {
		d.yaml("nodes.yaml", nodes)
	} else {
		d.problem("nodes: %v", err)
	}
	// about are the objects whose events the bundle holds, by namespace.
	about := map[string]map[string]bool{}
	involve := func(ns, kind, name string) {
		if about[ns] == nil {
			about[ns] = map[string]bool{}
		}
		about[ns][kind+"/"+name] = true
	}
	for _, w := range ws {
		tree, err := kube.ReadWorkloadTree(ctx, k, w)
		if tree == nil {
			d.problem("%s: %v", w, err)
			continue
		}
		involve(w.Namespace, w.Kind, w.Name)
		base := "workloads/" + pathName(w.Namespace) + "/" + strings.ToLower(w.Kind) + "-" + pathName(w.Name)
		d.yaml(base+".yaml", tree.Object)
		if tree.ReplicaSets != nil {
			for _, rs := range tree.ReplicaSets.Items {
				involve(w.Namespace, "ReplicaSet", rs.Name)
			}
			d.yaml(base+"-replicasets.yaml", tree.ReplicaSets)
		}
		if tree.Pods != nil {
			d.yaml(base+"-pods.yaml", tree.Pods)
			for i := range tree.Pods.Items {
				involve(w.Namespace, "Pod", tree.Pods.Items[i].Name)
				d.podLogs(ctx, k, &tree.Pods.Items[i])
			}
		}
		if err != nil {
			d.problem("%v", err)
		}
	}
	namespaces := slices.Sorted(maps.Keys(about))
	for _, ns := range namespaces {
		var keep func(kind, name string) bool
		if !d.owned {
			keep = func(kind, name string) bool { return about[ns][kind+"/"+name] }
		}
		evs, err := kube.ListEvents(ctx, k, ns, keep)
		if err != nil {
			d.problem("events of %s: %v", ns, err)
			continue
		}
		d.yaml("events/"+pathName(ns)+".yaml", evs)
	}
}

// podLogs writes the last 200 lines of each container of a pod that is not
// ready, and of its previous instance when it restarted.
func (d *diagnosis) podLogs(ctx context.Context, k kubernetes.Interface, pod *corev1.Pod) {
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
			return
		}
	}
	for _, cs := range append(append([]corev1.ContainerStatus(nil), pod.Status.InitContainerStatuses...), pod.Status.ContainerStatuses...) {
		base := "logs/" + pathName(pod.Namespace) + "/" + pathName(pod.Name) + "/" + pathName(cs.Name)
		if l := kube.PodLogs(ctx, k, pod.Namespace, pod.Name, cs.Name, false, 200); l != "" {
			d.write(base+".log", []byte(l+"\n"))
		}
		if cs.RestartCount > 0 {
			if l := kube.PodLogs(ctx, k, pod.Namespace, pod.Name, cs.Name, true, 200); l != "" {
				d.write(base+".previous.log", []byte(l+"\n"))
			}
		}
	}
}
