package kube

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
)

// RolloutStatus is kubectl's `rollout status` decision for one object: a
// message, whether the rollout is done, and an error when it cannot finish
// (kubectl pkg/polymorphichelpers/rollout_status.go semantics).
type RolloutStatus struct {
	Message string
	Done    bool
	Err     error
}

// timedOutReason is the Deployment controller's Progressing reason when the
// progress deadline passed.
const timedOutReason = "ProgressDeadlineExceeded"

// DeploymentRollout decides a Deployment's rollout.
func DeploymentRollout(d *appsv1.Deployment) RolloutStatus {
	if d.Generation > d.Status.ObservedGeneration {
		return RolloutStatus{Message: "waiting for deployment spec update to be observed"}
	}
	for _, c := range d.Status.Conditions {
		if c.Type == appsv1.DeploymentProgressing && c.Reason == timedOutReason {
			return RolloutStatus{Err: fmt.Errorf("deployment %q exceeded its progress deadline: %w", d.Name, errProgressDeadline)}
		}
	}
	s := d.Status
	if d.Spec.Replicas != nil && s.UpdatedReplicas < *d.Spec.Replicas {
		return RolloutStatus{Message: fmt.Sprintf("%d out of %d new replicas have been updated", s.UpdatedReplicas, *d.Spec.Replicas)}
	}
	if s.Replicas > s.UpdatedReplicas {
		return RolloutStatus{Message: fmt.Sprintf("%d old replicas are pending termination", s.Replicas-s.UpdatedReplicas)}
	}
	if s.AvailableReplicas < s.UpdatedReplicas {
		return RolloutStatus{Message: fmt.Sprintf("%d of %d updated replicas are available", s.AvailableReplicas, s.UpdatedReplicas)}
	}
	return RolloutStatus{Message: "successfully rolled out", Done: true}
}

// StatefulSetRollout decides a StatefulSet's rollout.
func StatefulSetRollout(s *appsv1.StatefulSet) RolloutStatus {
	if s.Spec.UpdateStrategy.Type != "" && s.Spec.UpdateStrategy.Type != appsv1.RollingUpdateStatefulSetStrategyType {
		return RolloutStatus{Done: true, Err: fmt.Errorf("rollout status is only available for RollingUpdate strategy type")}
	}
	if s.Status.ObservedGeneration == 0 || s.Generation > s.Status.ObservedGeneration {
		return RolloutStatus{Message: "waiting for statefulset spec update to be observed"}
	}
	replicas := int32(1)
	if s.Spec.Replicas != nil {
		replicas = *s.Spec.Replicas
	}
	if s.Status.ReadyReplicas < replicas {
		return RolloutStatus{Message: fmt.Sprintf("waiting for %d pods to be ready", replicas-s.Status.ReadyReplicas)}
	}
	if ru := s.Spec.UpdateStrategy.RollingUpdate; ru != nil && ru.Partition != nil {
		if s.Status.UpdatedReplicas < replicas-*ru.Partition {
			return RolloutStatus{Message: fmt.Sprintf("waiting for partitioned roll out to finish: %d out of %d new pods have been updated",
				s.Status.UpdatedReplicas, replicas-*ru.Partition)}
		}
		return RolloutStatus{Done: true, Message: fmt.Sprintf("partitioned roll out complete: %d new pods have been updated", s.Status.UpdatedReplicas)}
	}
	if s.Status.UpdateRevision != s.Status.CurrentRevision {
		return RolloutStatus{Message: fmt.Sprintf("waiting for statefulset rolling update to complete %d pods at revision %s", s.Status.UpdatedReplicas, s.Status.UpdateRevision)}
	}
	return RolloutStatus{Done: true, Message: fmt.Sprintf("statefulset rolling update complete %d pods at revision %s", s.Status.CurrentReplicas, s.Status.CurrentRevision)}
}

// DaemonSetRollout decides a DaemonSet's rollout.
func DaemonSetRollout(d *appsv1.DaemonSet) RolloutStatus {
	if d.Spec.UpdateStrategy.Type != "" && d.Spec.UpdateStrategy.Type != appsv1.RollingUpdateDaemonSetStrategyType {
		return RolloutStatus{Done: true, Err: fmt.Errorf("rollout status is only available for RollingUpdate strategy type")}
	}
	if d.Generation > d.Status.ObservedGeneration {
		return RolloutStatus{Message: "waiting for daemon set spec update to be observed"}
	}
	s := d.Status
	if s.UpdatedNumberScheduled < s.DesiredNumberScheduled {
		return RolloutStatus{Message: fmt.Sprintf("%d out of %d new pods have been updated", s.UpdatedNumberScheduled, s.DesiredNumberScheduled)}
	}
	if s.NumberAvailable < s.DesiredNumberScheduled {
		return RolloutStatus{Message: fmt.Sprintf("%d of %d updated pods are available", s.NumberAvailable, s.DesiredNumberScheduled)}
	}
	return RolloutStatus{Done: true, Message: "successfully rolled out"}
}
