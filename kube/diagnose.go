package kube

import (
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// PodFailure says why a pod will not become ready on its own.
type PodFailure struct {
	Pod       string
	Container string
	Reason    string
	Message   string
}

func (f PodFailure) String() string {
	s := "pod " + f.Pod
	if f.Container != "" {
		s += " container " + f.Container
	}
	s += ": " + f.Reason
	if f.Message != "" {
		s += ": " + f.Message
	}
	return s
}

// configErrorGrace lets CreateContainerConfigError settle: a ConfigMap or
// Secret applied in the same run may not be visible to the kubelet yet.
const configErrorGrace = 10 * time.Second

// pullReasons are the kubelet's image-pull failures.
var pullReasons = map[string]bool{"ErrImagePull": true, "ImagePullBackOff": true, "ErrImageNeverPull": true, "InvalidImageName": true}

// DiagnosePod returns why pod cannot become ready without intervention, or
// nil while it may still get there. now is the current time (for grace
// periods).
func DiagnosePod(pod *corev1.Pod, now time.Time) *PodFailure {
	if pod.DeletionTimestamp != nil {
		return nil
	}
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse && c.Reason == corev1.PodReasonUnschedulable {
			return &PodFailure{Pod: pod.Name, Reason: "Unschedulable", Message: c.Message}
		}
	}
	statuses := append(append([]corev1.ContainerStatus(nil), pod.Status.InitContainerStatuses...), pod.Status.ContainerStatuses...)
	for _, cs := range statuses {
		if w := cs.State.Waiting; w != nil {
			switch {
			case pullReasons[w.Reason]:
				return &PodFailure{Pod: pod.Name, Container: cs.Name, Reason: w.Reason, Message: w.Message}
			case w.Reason == "CrashLoopBackOff":
				f := &PodFailure{Pod: pod.Name, Container: cs.Name, Reason: "CrashLoopBackOff", Message: w.Message}
				if t := cs.LastTerminationState.Terminated; t != nil {
					f.Message = fmt.Sprintf("last exit code %d (%s)", t.ExitCode, t.Reason)
					if t.Reason == "OOMKilled" {
						f.Reason = "OOMKilled"
					}
				}
				return f
			case w.Reason == "CreateContainerConfigError" || w.Reason == "CreateContainerError" || w.Reason == "RunContainerError":
				if now.Sub(pod.CreationTimestamp.Time) >= configErrorGrace {
					return &PodFailure{Pod: pod.Name, Container: cs.Name, Reason: w.Reason, Message: w.Message}
				}
			}
		}
		if t := cs.State.Terminated; t != nil && t.ExitCode != 0 {
			if t.Reason == "OOMKilled" {
				return &PodFailure{Pod: pod.Name, Container: cs.Name, Reason: "OOMKilled", Message: fmt.Sprintf("exit code %d", t.ExitCode)}
			}
			if pod.Spec.RestartPolicy == corev1.RestartPolicyNever || cs.RestartCount > 0 {
				return &PodFailure{Pod: pod.Name, Container: cs.Name, Reason: "Error", Message: fmt.Sprintf("exited with code %d (%s)", t.ExitCode, t.Reason)}
			}
		}
	}
	return nil
}
