package kube

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

// The statuses below are shaped like what the Deployment controller and the
// kubelet write (field names, reasons and messages copied from real
// objects), so the waiter is tested against what it will really see.

func web(gen, observed int64, st appsv1.DeploymentStatus) *appsv1.Deployment {
	st.ObservedGeneration = observed
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "apps", UID: "dep-uid", Generation: gen,
			Annotations: map[string]string{"deployment.kubernetes.io/revision": "2"}},
		Spec: appsv1.DeploymentSpec{Replicas: i32(2),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}},
		Status: st,
	}
}

// replicaSet is one revision of web, controlled by it.
func replicaSet(revision, hash string) *appsv1.ReplicaSet {
	yes := true
	return &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{
		Name: "web-" + hash, Namespace: "apps",
		Labels:          map[string]string{"app": "web", appsv1.DefaultDeploymentUniqueLabelKey: hash},
		Annotations:     map[string]string{"deployment.kubernetes.io/revision": revision},
		OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "Deployment", Name: "web", UID: types.UID("dep-uid"), Controller: &yes}},
	}}
}

func revisionPod(name, hash string, st corev1.ContainerStatus) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "apps", CreationTimestamp: metav1.NewTime(time.Now().Add(-time.Minute)),
			Labels: map[string]string{"app": "web", appsv1.DefaultDeploymentUniqueLabelKey: hash}},
		Status: corev1.PodStatus{Phase: corev1.PodPending, ContainerStatuses: []corev1.ContainerStatus{st}},
	}
}

// stepper writes the next Deployment status each time the waiter reports
// the previous one: the updates reach it through the fake clientset's
// watch, and none is written before the waiter has seen the last.
type stepper struct {
	t     *testing.T
	cs    *fake.Clientset
	steps []*appsv1.Deployment
	lines lines
}

func (s *stepper) progress(line string) {
	s.lines.add(line)
	s.lines.mu.Lock()
	n := len(s.lines.l)
	s.lines.mu.Unlock()
	if n-1 < len(s.steps) {
		go func(d *appsv1.Deployment) {
			if _, err := s.cs.AppsV1().Deployments("apps").UpdateStatus(context.Background(), d, metav1.UpdateOptions{}); err != nil {
				s.t.Error(err)
			}
		}(s.steps[n-1])
	}
}

type lines struct {
	mu sync.Mutex
	l  []string
}

func (r *lines) add(s string) { r.mu.Lock(); r.l = append(r.l, s); r.mu.Unlock() }
func (r *lines) get() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.l...)
}

// The wait follows the watch (no polling): each new status is one progress
// line, and it ends when kubectl would say "successfully rolled out".
func TestWaitForRolloutsFollowsTheWatch(t *testing.T) {
	t.Parallel()
	st := &stepper{t: t, cs: fake.NewClientset(web(2, 1, appsv1.DeploymentStatus{Replicas: 2, UpdatedReplicas: 0, AvailableReplicas: 2})),
		steps: []*appsv1.Deployment{
			web(2, 2, appsv1.DeploymentStatus{Replicas: 3, UpdatedReplicas: 1, AvailableReplicas: 2}),
			web(2, 2, appsv1.DeploymentStatus{Replicas: 3, UpdatedReplicas: 2, AvailableReplicas: 2}),
			web(2, 2, appsv1.DeploymentStatus{Replicas: 2, UpdatedReplicas: 2, ReadyReplicas: 2, AvailableReplicas: 2}),
		}}
	got := &st.lines
	states, err := WaitForRollouts(context.Background(), st.cs, []Workload{{Kind: "Deployment", Namespace: "apps", Name: "web"}}, 30*time.Second, st.progress)
	if err != nil {
		t.Fatal(err)
	}
	if len(states) != 1 || !states[0].Ready || states[0].Message != "successfully rolled out" {
		t.Errorf("states = %+v", states)
	}
	want := []string{
		"Deployment apps/web: waiting for deployment spec update to be observed",
		"Deployment apps/web: 1 out of 2 new replicas have been updated",
		"Deployment apps/web: 1 old replicas are pending termination",
		"Deployment apps/web: successfully rolled out",
	}
	if strings.Join(got.get(), "\n") != strings.Join(want, "\n") {
		t.Errorf("progress:\n%s\nwant:\n%s", strings.Join(got.get(), "\n"), strings.Join(want, "\n"))
	}
}

// A pod of the new revision that cannot pull its image ends the wait within
// about a second, naming the pod, container, reason, the kubelet's message
// and the pod's Warning events; a crash-looping pod of the old revision is
// not blamed.
func TestWaitForRolloutsFailsFastOnTheNewRevision(t *testing.T) {
	t.Parallel()
	pullMsg := `failed to pull and unpack image "192.168.49.1:5001/team/web:v9": failed to resolve reference "192.168.49.1:5001/team/web:v9": 192.168.49.1:5001/team/web:v9: not found`
	newPod := revisionPod("web-7d9c5b6f4-x2x7q", "7d9c5b6f4", corev1.ContainerStatus{Name: "nginx", Image: "192.168.49.1:5001/team/web:v9",
		State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ImagePullBackOff", Message: `Back-off pulling image "192.168.49.1:5001/team/web:v9": ErrImagePull: ` + pullMsg}}})
	oldPod := revisionPod("web-5f4d8c7b9-abcde", "5f4d8c7b9", corev1.ContainerStatus{Name: "nginx", RestartCount: 5,
		State:                corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff", Message: "back-off 2m40s restarting failed container=nginx pod=web-5f4d8c7b9-abcde_apps(1)"}},
		LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1, Reason: "Error"}}})
	event := &corev1.Event{ObjectMeta: metav1.ObjectMeta{Name: "web-7d9c5b6f4-x2x7q.1", Namespace: "apps"}, Type: corev1.EventTypeWarning, Reason: "Failed",
		Message:        `Failed to pull image "192.168.49.1:5001/team/web:v9": ` + pullMsg,
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: "apps", Name: "web-7d9c5b6f4-x2x7q"}, Count: 3}
	cs := fake.NewClientset(web(2, 2, appsv1.DeploymentStatus{Replicas: 3, UpdatedReplicas: 1, AvailableReplicas: 2}),
		replicaSet("1", "5f4d8c7b9"), replicaSet("2", "7d9c5b6f4"), oldPod, newPod, event)
	start := time.Now()
	_, err := WaitForRollouts(context.Background(), cs, []Workload{{Kind: "Deployment", Namespace: "apps", Name: "web"}}, time.Minute, nil)
	var fe *FailedError
	if !errors.As(err, &fe) {
		t.Fatalf("err = %v, want a FailedError", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("failure reported after %s", d)
	}
	if fe.Failure.Pod != newPod.Name || fe.Failure.Container != "nginx" || fe.Failure.Reason != "ImagePullBackOff" || !strings.Contains(fe.Failure.Message, "not found") {
		t.Errorf("failure = %+v", fe.Failure)
	}
	if len(fe.Events) != 1 || !strings.HasPrefix(fe.Events[0], "Failed: Failed to pull image") {
		t.Errorf("events = %q", fe.Events)
	}
}

func TestPodSelectorPicksTheNewestRevision(t *testing.T) {
	t.Parallel()
	cs := fake.NewClientset(web(2, 2, appsv1.DeploymentStatus{}), replicaSet("1", "old1"), replicaSet("2", "new2"))
	sel, err := podSelector(context.Background(), cs, Workload{Kind: "Deployment", Namespace: "apps", Name: "web"})
	if err != nil {
		t.Fatal(err)
	}
	if sel.String() != "app=web,pod-template-hash=new2" {
		t.Errorf("selector = %q", sel)
	}
	// Before the controller created the ReplicaSet of the revision there
	// is nothing to diagnose.
	cs = fake.NewClientset(web(2, 2, appsv1.DeploymentStatus{}), replicaSet("1", "old1"))
	if sel, err := podSelector(context.Background(), cs, Workload{Kind: "Deployment", Namespace: "apps", Name: "web"}); err != nil || sel != nil {
		t.Errorf("selector without the new ReplicaSet = %v, %v", sel, err)
	}
}

func TestWaitForRolloutsEndsOnDeleteAndTimeout(t *testing.T) {
	t.Parallel()
	// The deletion arrives on the watch itself: the fake clientset does
	// not replay a delete made before its watch starts.
	cs := fake.NewClientset(web(2, 1, appsv1.DeploymentStatus{}))
	w := watch.NewFake()
	cs.PrependWatchReactor("deployments", func(k8stesting.Action) (bool, watch.Interface, error) {
		go w.Delete(web(2, 1, appsv1.DeploymentStatus{}))
		return true, w, nil
	})
	_, err := WaitForRollouts(context.Background(), cs, []Workload{{Kind: "Deployment", Namespace: "apps", Name: "web"}}, 30*time.Second, nil)
	if err == nil || !strings.Contains(err.Error(), "was deleted") {
		t.Errorf("deleted: err = %v", err)
	}
	cs = fake.NewClientset(web(2, 1, appsv1.DeploymentStatus{}))
	_, err = WaitForRollouts(context.Background(), cs, []Workload{{Kind: "Deployment", Namespace: "apps", Name: "web"}}, 300*time.Millisecond, nil)
	if !errors.Is(err, ErrTimeout) || !strings.Contains(err.Error(), "spec update to be observed") {
		t.Errorf("timeout: err = %v", err)
	}
}

// kubectl says only "exceeded its progress deadline"; the waiter names the
// pod behind it and why it is not ready.
func TestProgressDeadlineNamesThePod(t *testing.T) {
	t.Parallel()
	d := web(2, 2, appsv1.DeploymentStatus{Replicas: 2, UpdatedReplicas: 1, AvailableReplicas: 1,
		Conditions: []appsv1.DeploymentCondition{{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionFalse,
			Reason: "ProgressDeadlineExceeded", Message: `ReplicaSet "web-7d9c5b6f4" has timed out progressing.`}}})
	p := revisionPod("web-7d9c5b6f4-x2x7q", "7d9c5b6f4", corev1.ContainerStatus{Name: "nginx",
		State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(time.Now().Add(-time.Minute))}}})
	p.Status.Phase = corev1.PodRunning
	cs := fake.NewClientset(d, replicaSet("2", "7d9c5b6f4"), p)
	_, err := WaitForRollouts(context.Background(), cs, []Workload{{Kind: "Deployment", Namespace: "apps", Name: "web"}}, 30*time.Second, nil)
	var fe *FailedError
	if !errors.As(err, &fe) || fe.Failure.Reason != "ProgressDeadlineExceeded" || fe.Failure.Pod != p.Name || fe.Failure.Message != "running but not ready" {
		t.Fatalf("err = %v (%+v)", err, fe)
	}
}

// A readiness probe failing past its own threshold ends the wait; one
// still within it does not.
func TestReadinessFailure(t *testing.T) {
	t.Parallel()
	now := time.Now()
	mk := func(startedAgo time.Duration) *corev1.Pod {
		p := revisionPod("web-1", "h", corev1.ContainerStatus{Name: "nginx",
			State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(now.Add(-startedAgo))}}})
		p.Status.Phase = corev1.PodRunning
		p.Spec.Containers = []corev1.Container{{Name: "nginx", ReadinessProbe: &corev1.Probe{PeriodSeconds: 1, FailureThreshold: 3}}}
		return p
	}
	unhealthy := []corev1.Event{{Reason: "Unhealthy", Type: corev1.EventTypeWarning, Count: 5,
		Message: `Readiness probe failed: Get "http://10.244.0.7:8080/": dial tcp 10.244.0.7:8080: connect: connection refused`}}
	if f := readinessFailure(mk(time.Minute), unhealthy, now); f == nil || f.Reason != "ReadinessProbeFailed" || !strings.Contains(f.Message, "connection refused") {
		t.Errorf("past the threshold: %+v", f)
	}
	if f := readinessFailure(mk(time.Second), unhealthy, now); f != nil {
		t.Errorf("within the threshold: %+v", f)
	}
	few := []corev1.Event{{Reason: "Unhealthy", Count: 1, Message: "Readiness probe failed: HTTP probe failed with statuscode: 503"}}
	if f := readinessFailure(mk(time.Minute), few, now); f != nil {
		t.Errorf("fewer failures than the threshold: %+v", f)
	}
}
