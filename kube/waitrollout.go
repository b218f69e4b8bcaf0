package kube

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	watchtools "k8s.io/client-go/tools/watch"
)

// Workload names a Deployment, StatefulSet or DaemonSet to wait for.
type Workload struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
}

func (w Workload) String() string { return w.Kind + " " + w.Namespace + "/" + w.Name }

// WorkloadState is a workload's state after waiting.
type WorkloadState struct {
	Workload
	Ready   bool   `json:"ready"`
	Message string `json:"message"`
}

// RolloutKinds are the kinds WaitForRollouts understands.
var RolloutKinds = map[string]bool{"Deployment": true, "StatefulSet": true, "DaemonSet": true}

// FailedError is a rollout that cannot finish: a pod's failure, named.
type FailedError struct {
	Workload Workload
	Failure  PodFailure
	Events   []string
}

func (e *FailedError) Error() string {
	s := fmt.Sprintf("%s is failing: %s", e.Workload, e.Failure)
	if len(e.Events) > 0 {
		s += "\n  recent events: " + strings.Join(e.Events, "\n                 ")
	}
	return s
}

// diagnoseInterval is how often pods are checked for failures while a
// rollout is watched.
const diagnoseInterval = time.Second

// WaitForRollouts waits, watch-based, until every workload is rolled out
// (kubectl rollout status semantics), failing fast when a pod of the new
// revision cannot start (image pull, crash loop, config error, unschedulable,
// OOM, non-zero exit), and giving up after timeout.
func WaitForRollouts(ctx context.Context, k kubernetes.Interface, ws []Workload, timeout time.Duration, progress func(string)) ([]WorkloadState, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if progress == nil {
		progress = func(string) {}
	}
	states := make([]WorkloadState, len(ws))
	errs := make([]error, len(ws))
	var wg sync.WaitGroup
	var mu sync.Mutex
	for i, w := range ws {
		states[i] = WorkloadState{Workload: w}
		wg.Add(1)
		go func(i int, w Workload) {
			defer wg.Done()
			wctx, wcancel := context.WithCancel(ctx)
			defer wcancel()
			var failed error
			go func() {
				t := time.NewTicker(diagnoseInterval)
				defer t.Stop()
				for {
					select {
					case <-wctx.Done():
						return
					case <-t.C:
					}
					if f := diagnose(wctx, k, w); f != nil {
						mu.Lock()
						failed = f
						mu.Unlock()
						wcancel()
						return
					}
				}
			}()
			msg, err := watchRollout(wctx, k, w, func(m string) {
				mu.Lock()
				states[i].Message = m
				mu.Unlock()
				progress(w.String() + ": " + m)
			})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				states[i].Ready, states[i].Message = true, msg
			case failed != nil:
				errs[i] = failed
			case errors.Is(err, errProgressDeadline):
				// kubectl says only "exceeded its progress deadline":
				// name the pod behind it and why it is not ready.
				errs[i] = explainDeadline(ctx, k, w, err)
			case errors.Is(ctx.Err(), context.DeadlineExceeded):
				errs[i] = fmt.Errorf("%s: %w after %s: %s", w, ErrTimeout, timeout, states[i].Message)
			default:
				errs[i] = fmt.Errorf("%s: %w", w, err)
			}
		}(i, w)
	}
	wg.Wait()
	return states, errors.Join(errs...)
}

// watchRollout follows one workload with watchtools.UntilWithSync until its
// rollout is done; it returns the final message.
func watchRollout(ctx context.Context, k kubernetes.Interface, w Workload, report func(string)) (string, error) {
	sel := fields.OneTermEqualSelector("metadata.name", w.Name).String()
	var lw *cache.ListWatch
	var obj runtime.Object
	switch w.Kind {
	case "Deployment":
		c := k.AppsV1().Deployments(w.Namespace)
		obj, lw = &appsv1.Deployment{}, byName(sel,
			func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) { return c.List(ctx, o) }, c.Watch)
	case "StatefulSet":
		c := k.AppsV1().StatefulSets(w.Namespace)
		obj, lw = &appsv1.StatefulSet{}, byName(sel,
			func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) { return c.List(ctx, o) }, c.Watch)
	case "DaemonSet":
		c := k.AppsV1().DaemonSets(w.Namespace)
		obj, lw = &appsv1.DaemonSet{}, byName(sel,
			func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) { return c.List(ctx, o) }, c.Watch)
	default:
		return "", fmt.Errorf("cannot wait for kind %s", w.Kind)
	}
	last, final := "", ""
	// A client that cannot stream lists (client-go's fakes) says so, and
	// the reflector lists instead.
	_, err := watchtools.UntilWithSync(ctx, cache.ToListWatcherWithWatchListSemantics(lw, k), obj, nil, func(ev watch.Event) (bool, error) {
		var st RolloutStatus
		switch o := ev.Object.(type) {
		case *appsv1.Deployment:
			st = DeploymentRollout(o)
		case *appsv1.StatefulSet:
			st = StatefulSetRollout(o)
		case *appsv1.DaemonSet:
			st = DaemonSetRollout(o)
		default:
			return false, nil
		}
		if ev.Type == watch.Deleted {
			return false, fmt.Errorf("%s was deleted", w)
		}
		if st.Err != nil {
			return false, st.Err
		}
		if st.Message != last {
			last = st.Message
			report(st.Message)
		}
		final = st.Message
		return st.Done, nil
	})
	return final, err
}

// byName is a ListWatch of one object, selected by name.
func byName(sel string, list func(context.Context, metav1.ListOptions) (runtime.Object, error),
	watchFn func(context.Context, metav1.ListOptions) (watch.Interface, error)) *cache.ListWatch {
	return &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			o.FieldSelector = sel
			return list(ctx, o)
		},
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			o.FieldSelector = sel
			return watchFn(ctx, o)
		},
	}
}

// errProgressDeadline marks a Deployment whose controller gave up
// (Progressing=False, ProgressDeadlineExceeded).
var errProgressDeadline = errors.New("progress deadline exceeded")

// explainDeadline turns a progress-deadline error into a FailedError naming
// a pod of the new revision that is not ready and why.
func explainDeadline(ctx context.Context, k kubernetes.Interface, w Workload, err error) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	sel, serr := podSelector(ctx, k, w)
	if serr != nil || sel == nil {
		return fmt.Errorf("%s: %w", w, err)
	}
	pods, lerr := k.CoreV1().Pods(w.Namespace).List(ctx, metav1.ListOptions{LabelSelector: sel.String()})
	if lerr != nil {
		return fmt.Errorf("%s: %w", w, err)
	}
	sort.Slice(pods.Items, func(i, j int) bool { return pods.Items[i].Name < pods.Items[j].Name })
	for i := range pods.Items {
		pod := &pods.Items[i]
		if podReady(pod) {
			continue
		}
		f := PodFailure{Pod: pod.Name, Reason: "ProgressDeadlineExceeded", Message: "phase " + string(pod.Status.Phase)}
		for _, cs := range pod.Status.ContainerStatuses {
			if cs.Ready {
				continue
			}
			f.Container = cs.Name
			switch {
			case cs.State.Waiting != nil:
				f.Message = cs.State.Waiting.Reason + ": " + cs.State.Waiting.Message
			case cs.State.Running != nil:
				f.Message = "running but not ready"
			case cs.State.Terminated != nil:
				f.Message = fmt.Sprintf("terminated: %s (exit code %d)", cs.State.Terminated.Reason, cs.State.Terminated.ExitCode)
			}
			break
		}
		return &FailedError{Workload: w, Failure: f, Events: describeEvents(podWarnings(ctx, k, pod))}
	}
	return fmt.Errorf("%s: %w", w, err)
}

func podReady(pod *corev1.Pod) bool {
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// readinessFailure reports a container that runs but has failed its
// readiness probe for longer than the probe's own threshold (initial delay
// plus failureThreshold periods), with the kubelet's Unhealthy events to
// prove it: it will not become ready by waiting.
func readinessFailure(pod *corev1.Pod, evs []corev1.Event, now time.Time) *PodFailure {
	if pod.Status.Phase != corev1.PodRunning {
		return nil
	}
	probes := map[string]*corev1.Probe{}
	for i := range pod.Spec.Containers {
		if p := pod.Spec.Containers[i].ReadinessProbe; p != nil {
			probes[pod.Spec.Containers[i].Name] = p
		}
	}
	for _, cs := range pod.Status.ContainerStatuses {
		p := probes[cs.Name]
		if p == nil || cs.Ready || cs.State.Running == nil {
			continue
		}
		period, threshold := p.PeriodSeconds, p.FailureThreshold
		if period <= 0 {
			period = 10
		}
		if threshold <= 0 {
			threshold = 3
		}
		limit := time.Duration(p.InitialDelaySeconds+period*threshold) * time.Second
		if now.Sub(cs.State.Running.StartedAt.Time) < limit {
			continue
		}
		for i := len(evs) - 1; i >= 0; i-- {
			e := evs[i]
			if e.Reason == "Unhealthy" && strings.Contains(e.Message, "Readiness probe failed") && e.Count >= threshold {
				return &PodFailure{Pod: pod.Name, Container: cs.Name, Reason: "ReadinessProbeFailed", Message: strings.TrimSpace(e.Message)}
			}
		}
	}
	return nil
}

// diagnose looks at the pods of the workload's current revision.
func diagnose(ctx context.Context, k kubernetes.Interface, w Workload) *FailedError {
	sel, err := podSelector(ctx, k, w)
	if err != nil || sel == nil {
		return nil
	}
	pods, err := k.CoreV1().Pods(w.Namespace).List(ctx, metav1.ListOptions{LabelSelector: sel.String()})
	if err != nil {
		return nil
	}
	sort.Slice(pods.Items, func(i, j int) bool { return pods.Items[i].Name < pods.Items[j].Name })
	now := time.Now()
	for i := range pods.Items {
		pod := &pods.Items[i]
		if f := DiagnosePod(pod, now); f != nil {
			return &FailedError{Workload: w, Failure: *f, Events: describeEvents(podWarnings(ctx, k, pod))}
		}
		// A readiness probe that keeps failing past its threshold.
		if pod.DeletionTimestamp == nil && pod.Status.Phase == corev1.PodRunning && !podReady(pod) {
			evs := podWarnings(ctx, k, pod)
			if f := readinessFailure(pod, evs, now); f != nil {
				return &FailedError{Workload: w, Failure: *f, Events: describeEvents(evs)}
			}
		}
		// Failures before any container exists (the sandbox cannot be
		// created, a volume cannot be mounted) show only as events.
		if pod.DeletionTimestamp == nil && pod.Status.Phase == corev1.PodPending && now.Sub(pod.CreationTimestamp.Time) >= configErrorGrace {
			evs := podWarnings(ctx, k, pod)
			if f := stuckByEvents(pod, evs); f != nil {
				return &FailedError{Workload: w, Failure: *f, Events: describeEvents(evs)}
			}
		}
	}
	return nil
}

// blockingEvents are kubelet Warning reasons that keep a pod from ever
// starting until something outside it changes.
var blockingEvents = map[string]bool{"FailedCreatePodSandBox": true, "FailedMount": true, "FailedAttachVolume": true}

func stuckByEvents(pod *corev1.Pod, evs []corev1.Event) *PodFailure {
	for _, e := range evs {
		if blockingEvents[e.Reason] && (e.Count >= 2 || e.Series != nil) {
			return &PodFailure{Pod: pod.Name, Reason: e.Reason, Message: strings.TrimSpace(e.Message)}
		}
	}
	return nil
}

// podSelector selects the pods of the workload's newest revision (for a
// Deployment, its newest ReplicaSet's pod-template-hash).
func podSelector(ctx context.Context, k kubernetes.Interface, w Workload) (labels.Selector, error) {
	switch w.Kind {
	case "Deployment":
		d, err := k.AppsV1().Deployments(w.Namespace).Get(ctx, w.Name, metav1.GetOptions{})
		if err != nil {
			return nil, err
		}
		sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
		if err != nil {
			return nil, err
		}
		rev := d.Annotations["deployment.kubernetes.io/revision"]
		rss, err := k.AppsV1().ReplicaSets(w.Namespace).List(ctx, metav1.ListOptions{LabelSelector: sel.String()})
		if err != nil {
			return nil, err
		}
		for _, rs := range rss.Items {
			if metav1.IsControlledBy(&rs, d) && rs.Annotations["deployment.kubernetes.io/revision"] == rev {
				if h := rs.Labels[appsv1.DefaultDeploymentUniqueLabelKey]; h != "" {
					r, _ := labels.NewRequirement(appsv1.DefaultDeploymentUniqueLabelKey, "=", []string{h})
					return sel.Add(*r), nil
				}
			}
		}
		return nil, nil
	case "StatefulSet":
		s, err := k.AppsV1().StatefulSets(w.Namespace).Get(ctx, w.Name, metav1.GetOptions{})
		if err != nil {
			return nil, err
		}
		return metav1.LabelSelectorAsSelector(s.Spec.Selector)
	case "DaemonSet":
		d, err := k.AppsV1().DaemonSets(w.Namespace).Get(ctx, w.Name, metav1.GetOptions{})
		if err != nil {
			return nil, err
		}
		return metav1.LabelSelectorAsSelector(d.Spec.Selector)
	}
	return nil, nil
}

// podWarnings lists the pod's Warning events, oldest first.
func podWarnings(ctx context.Context, k kubernetes.Interface, pod *corev1.Pod) []corev1.Event {
	evs, err := k.CoreV1().Events(pod.Namespace).List(ctx, metav1.ListOptions{
		FieldSelector: fields.AndSelectors(fields.OneTermEqualSelector("involvedObject.name", pod.Name),
			fields.OneTermEqualSelector("type", corev1.EventTypeWarning)).String()})
	if err != nil {
		return nil
	}
	items := evs.Items
	sort.Slice(items, func(i, j int) bool { return items[i].LastTimestamp.Before(&items[j].LastTimestamp) })
	return items
}

// describeEvents renders the last three events as "Reason: message".
func describeEvents(items []corev1.Event) []string {
	if len(items) > 3 {
		items = items[len(items)-3:]
	}
	var out []string
	for _, e := range items {
		out = append(out, e.Reason+": "+strings.TrimSpace(e.Message))
	}
	return out
}
