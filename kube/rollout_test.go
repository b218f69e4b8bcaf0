package kube

import (
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func i32(v int32) *int32 { return &v }

// Cases follow kubectl's rollout_status_test.go, with descriptive names.
func TestDeploymentRollout(t *testing.T) {
	t.Parallel()
	dep := func(gen, observed int64, replicas int32, st appsv1.DeploymentStatus) *appsv1.Deployment {
		st.ObservedGeneration = observed
		return &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web", Generation: gen}, Spec: appsv1.DeploymentSpec{Replicas: i32(replicas)}, Status: st}
	}
	cases := []struct {
		name string
		d    *appsv1.Deployment
		msg  string
		done bool
		err  string
	}{
		{"spec change not yet observed", dep(2, 1, 1, appsv1.DeploymentStatus{}), "spec update to be observed", false, ""},
		{"new replicas being created", dep(1, 1, 3, appsv1.DeploymentStatus{Replicas: 1, UpdatedReplicas: 1}), "1 out of 3 new replicas have been updated", false, ""},
		{"old replicas terminating", dep(1, 1, 1, appsv1.DeploymentStatus{Replicas: 2, UpdatedReplicas: 1, AvailableReplicas: 1}), "1 old replicas are pending termination", false, ""},
		{"updated but not available", dep(1, 1, 2, appsv1.DeploymentStatus{Replicas: 2, UpdatedReplicas: 2, AvailableReplicas: 1}), "1 of 2 updated replicas are available", false, ""},
		{"complete", dep(1, 1, 2, appsv1.DeploymentStatus{Replicas: 2, UpdatedReplicas: 2, AvailableReplicas: 2}), "successfully rolled out", true, ""},
		{"scaled to zero", dep(1, 1, 0, appsv1.DeploymentStatus{}), "successfully rolled out", true, ""},
		{"progress deadline exceeded", dep(1, 1, 2, appsv1.DeploymentStatus{Conditions: []appsv1.DeploymentCondition{{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionFalse, Reason: "ProgressDeadlineExceeded"}}}), "", false, "exceeded its progress deadline"},
	}
	for _, tc := range cases {
		got := DeploymentRollout(tc.d)
		if got.Done != tc.done || !strings.Contains(got.Message, tc.msg) || (tc.err == "") != (got.Err == nil) || (got.Err != nil && !strings.Contains(got.Err.Error(), tc.err)) {
			t.Errorf("%s: %+v", tc.name, got)
		}
	}
}

func TestStatefulSetAndDaemonSetRollout(t *testing.T) {
	t.Parallel()
	sts := &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: "db", Generation: 1}, Spec: appsv1.StatefulSetSpec{Replicas: i32(2),
		UpdateStrategy: appsv1.StatefulSetUpdateStrategy{Type: appsv1.RollingUpdateStatefulSetStrategyType, RollingUpdate: &appsv1.RollingUpdateStatefulSetStrategy{Partition: i32(0)}}},
		Status: appsv1.StatefulSetStatus{ObservedGeneration: 1, ReadyReplicas: 1, UpdatedReplicas: 1}}
	if r := StatefulSetRollout(sts); r.Done || r.Message != "waiting for 1 pods to be ready" {
		t.Errorf("one of two ready: %+v", r)
	}
	sts.Status.ReadyReplicas, sts.Status.UpdatedReplicas = 2, 2
	if r := StatefulSetRollout(sts); !r.Done || !strings.Contains(r.Message, "partitioned roll out complete: 2 new pods") {
		t.Errorf("all ready: %+v", r)
	}
	sts.Status.ObservedGeneration = 0
	if r := StatefulSetRollout(sts); r.Done {
		t.Errorf("observedGeneration 0 must wait: %+v", r)
	}
	sts.Spec.UpdateStrategy.Type = appsv1.OnDeleteStatefulSetStrategyType
	if r := StatefulSetRollout(sts); !r.Done || r.Err == nil {
		t.Errorf("OnDelete: %+v", r)
	}
	ds := &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Name: "agent", Generation: 1}, Spec: appsv1.DaemonSetSpec{UpdateStrategy: appsv1.DaemonSetUpdateStrategy{Type: appsv1.RollingUpdateDaemonSetStrategyType}},
		Status: appsv1.DaemonSetStatus{ObservedGeneration: 1, DesiredNumberScheduled: 2, UpdatedNumberScheduled: 1}}
	if r := DaemonSetRollout(ds); r.Done || r.Message != "1 out of 2 new pods have been updated" {
		t.Errorf("daemonset updating: %+v", r)
	}
	ds.Status.UpdatedNumberScheduled, ds.Status.NumberAvailable = 2, 1
	if r := DaemonSetRollout(ds); r.Done || r.Message != "1 of 2 updated pods are available" {
		t.Errorf("daemonset available: %+v", r)
	}
	ds.Status.NumberAvailable = 2
	if r := DaemonSetRollout(ds); !r.Done {
		t.Errorf("daemonset done: %+v", r)
	}
}

func TestDiagnosePod(t *testing.T) {
	t.Parallel()
	now := time.Now()
	mk := func(age time.Duration, mutate func(*corev1.Pod)) *corev1.Pod {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web-1", CreationTimestamp: metav1.NewTime(now.Add(-age))}}
		mutate(p)
		return p
	}
	waiting := func(reason, msg string) func(*corev1.Pod) {
		return func(p *corev1.Pod) {
			p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "nginx", State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason, Message: msg}}}}
		}
	}
	cases := []struct {
		name   string
		pod    *corev1.Pod
		reason string
	}{
		{"image pull back-off", mk(time.Second, waiting("ImagePullBackOff", `Back-off pulling image "x"`)), "ImagePullBackOff"},
		{"image pull error", mk(time.Second, waiting("ErrImagePull", "not found")), "ErrImagePull"},
		{"invalid image name", mk(time.Second, waiting("InvalidImageName", "bad")), "InvalidImageName"},
		{"crash loop", mk(time.Minute, func(p *corev1.Pod) {
			waiting("CrashLoopBackOff", "back-off 10s")(p)
			p.Status.ContainerStatuses[0].LastTerminationState.Terminated = &corev1.ContainerStateTerminated{ExitCode: 1, Reason: "Error"}
		}), "CrashLoopBackOff"},
		{"OOM-killed, crash looping", mk(time.Minute, func(p *corev1.Pod) {
			waiting("CrashLoopBackOff", "")(p)
			p.Status.ContainerStatuses[0].LastTerminationState.Terminated = &corev1.ContainerStateTerminated{ExitCode: 137, Reason: "OOMKilled"}
		}), "OOMKilled"},
		{"config error within grace", mk(2*time.Second, waiting("CreateContainerConfigError", `configmap "x" not found`)), ""},
		{"config error after grace", mk(time.Minute, waiting("CreateContainerConfigError", `configmap "x" not found`)), "CreateContainerConfigError"},
		{"unschedulable", mk(time.Second, func(p *corev1.Pod) {
			p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: "Unschedulable", Message: "0/1 nodes are available: 1 Insufficient cpu."}}
		}), "Unschedulable"},
		{"non-zero exit, never restarted", mk(time.Second, func(p *corev1.Pod) {
			p.Spec.RestartPolicy = corev1.RestartPolicyNever
			p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "job", State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 2, Reason: "Error"}}}}
		}), "Error"},
		{"container creating", mk(time.Second, waiting("ContainerCreating", "")), ""},
		{"running", mk(time.Second, func(p *corev1.Pod) {
			p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "nginx", State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}}
		}), ""},
	}
	for _, tc := range cases {
		f := DiagnosePod(tc.pod, now)
		switch {
		case tc.reason == "" && f != nil:
			t.Errorf("%s: got failure %s", tc.name, f)
		case tc.reason != "" && (f == nil || f.Reason != tc.reason):
			t.Errorf("%s: got %v, want reason %s", tc.name, f, tc.reason)
		}
	}
}
