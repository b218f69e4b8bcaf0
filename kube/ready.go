package kube

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// NodesReady decides whether every node is Ready. It returns a short reason
// when not, naming the nodes that hold things up.
func NodesReady(nodes []corev1.Node) (bool, string) {
	if len(nodes) == 0 {
		return false, "no nodes have registered yet"
	}
	var notReady []string
	for _, n := range nodes {
		if !nodeReady(n) {
			notReady = append(notReady, n.Name)
		}
	}
	if len(notReady) > 0 {
		sort.Strings(notReady)
		return false, fmt.Sprintf("%d of %d nodes not Ready: %s", len(notReady), len(nodes), strings.Join(notReady, ", "))
	}
	return true, fmt.Sprintf("%d nodes Ready", len(nodes))
}

func nodeReady(n corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// PodsRunning decides whether every pod is up: Running with all containers
// ready, or Succeeded. Pods being deleted are ignored. An empty list is
// running (a bare control plane may have no kube-system pods).
func PodsRunning(pods []corev1.Pod) (bool, string) {
	var waiting []string
	counted := 0
	for _, p := range pods {
		if p.DeletionTimestamp != nil {
			continue
		}
		counted++
		if why := podWaiting(p); why != "" {
			waiting = append(waiting, p.Name+" ("+why+")")
		}
	}
	if len(waiting) > 0 {
		sort.Strings(waiting)
		return false, fmt.Sprintf("%d of %d pods not running: %s", len(waiting), counted, strings.Join(waiting, ", "))
	}
	return true, fmt.Sprintf("%d pods running", counted)
}

// podWaiting returns why a pod is not up, or "" when it is.
func podWaiting(p corev1.Pod) string {
	switch p.Status.Phase {
	case corev1.PodSucceeded:
		return ""
	case corev1.PodRunning:
	default:
		if r := containerReason(p); r != "" {
			return r
		}
		if p.Status.Phase == "" {
			return "Pending"
		}
		return string(p.Status.Phase)
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			if c.Status == corev1.ConditionTrue {
				return ""
			}
			if r := containerReason(p); r != "" {
				return r
			}
			return "not ready"
		}
	}
	return "not ready"
}

func containerReason(p corev1.Pod) string {
	for _, cs := range append(append([]corev1.ContainerStatus(nil), p.Status.InitContainerStatuses...), p.Status.ContainerStatuses...) {
		if w := cs.State.Waiting; w != nil && w.Reason != "" {
			return w.Reason
		}
	}
	return ""
}
