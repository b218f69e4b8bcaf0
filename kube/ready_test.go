package kube

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func node(name string, ready corev1.ConditionStatus) corev1.Node {
	n := corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if ready != "" {
		n.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: ready}}
	}
	return n
}

func TestNodesReady(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		nodes []corev1.Node
		ok    bool
		msg   string
	}{
		{"no nodes registered yet", nil, false, "no nodes have registered yet"},
		{"one ready node", []corev1.Node{node("minikube", corev1.ConditionTrue)}, true, "1 nodes Ready"},
		{"node without conditions", []corev1.Node{node("minikube", "")}, false, "1 of 1 nodes not Ready: minikube"},
		{"one of two not ready", []corev1.Node{node("b", corev1.ConditionUnknown), node("a", corev1.ConditionTrue)}, false, "1 of 2 nodes not Ready: b"},
		{"ready false", []corev1.Node{node("m02", corev1.ConditionFalse), node("m01", corev1.ConditionFalse)}, false, "2 of 2 nodes not Ready: m01, m02"},
	}
	for _, tc := range cases {
		ok, msg := NodesReady(tc.nodes)
		if ok != tc.ok || msg != tc.msg {
			t.Errorf("%s: NodesReady = %v, %q; want %v, %q", tc.name, ok, msg, tc.ok, tc.msg)
		}
	}
}

func pod(name string, phase corev1.PodPhase, ready corev1.ConditionStatus, waiting string) corev1.Pod {
	p := corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name}, Status: corev1.PodStatus{Phase: phase}}
	if ready != "" {
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: ready}}
	}
	if waiting != "" {
		p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "c", State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: waiting}}}}
	}
	return p
}

func TestPodsRunning(t *testing.T) {
	t.Parallel()
	deleting := pod("old", corev1.PodPending, "", "")
	now := metav1.Now()
	deleting.DeletionTimestamp = &now
	cases := []struct {
		name string
		pods []corev1.Pod
		ok   bool
		msg  string
	}{
		{"no pods on a bare control plane", nil, true, "0 pods running"},
		{"running and ready", []corev1.Pod{pod("coredns", corev1.PodRunning, corev1.ConditionTrue, "")}, true, "1 pods running"},
		{"completed job pod", []corev1.Pod{pod("job", corev1.PodSucceeded, "", "")}, true, "1 pods running"},
		{"running but not ready", []corev1.Pod{pod("coredns", corev1.PodRunning, corev1.ConditionFalse, "")}, false, "coredns (not ready)"},
		{"crash looping", []corev1.Pod{pod("proxy", corev1.PodRunning, corev1.ConditionFalse, "CrashLoopBackOff")}, false, "proxy (CrashLoopBackOff)"},
		{"pending image pull", []corev1.Pod{pod("etcd", corev1.PodPending, "", "ImagePullBackOff")}, false, "etcd (ImagePullBackOff)"},
		{"no phase yet", []corev1.Pod{pod("new", "", "", "")}, false, "new (Pending)"},
		{"failed", []corev1.Pod{pod("bad", corev1.PodFailed, "", "")}, false, "bad (Failed)"},
		{"terminating pods are ignored", []corev1.Pod{deleting, pod("ok", corev1.PodRunning, corev1.ConditionTrue, "")}, true, "1 pods running"},
	}
	for _, tc := range cases {
		ok, msg := PodsRunning(tc.pods)
		if ok != tc.ok || !strings.Contains(msg, tc.msg) {
			t.Errorf("%s: PodsRunning = %v, %q; want %v, containing %q", tc.name, ok, msg, tc.ok, tc.msg)
		}
	}
}

// A device or FIFO given as a manifest is refused, not read forever.
func TestLoadManifestsRefusesDevices(t *testing.T) {
	t.Parallel()
	if _, err := LoadManifests([]string{"/dev/zero"}); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("LoadManifests(/dev/zero) = %v", err)
	}
}
