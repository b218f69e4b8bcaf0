package bootstrap

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/devcluster/devcluster/internal/problem"
	"github.com/devcluster/devcluster/kube"
)

// ConfigMapFiles is one --configmap NAME=PATH[,PATH…].
type ConfigMapFiles struct {
	Name  string
	Paths []string
}

// DeployOptions are the inputs of Deploy: the deploy step of a CI job.
type DeployOptions struct {
	// Context is the kubeconfig context ("" = the current one).
	Context string
	// Namespace of the workloads and ConfigMaps ("" = the context's, else
	// default).
	Namespace string
	// Workloads are KIND/NAME references (deployment/web, sts/db, ds/agent).
	Workloads []string
	// ConfigMaps are created or updated from files.
	ConfigMaps []ConfigMapFiles
	// Images are CONTAINER=REF; *=REF sets every container.
	Images []string
	// Manifests are applied first, as `up` applies workloads.manifests.
	Manifests []string
	// Timeout bounds the rollout wait (and, with Rollback, the wait for the
	// rollback).
	Timeout time.Duration
	// Rollback restores the previous templates and ConfigMap data when the
	// rollout fails, and waits for that.
	Rollback bool
	// DryRun validates everything with the API server and reports what
	// would change, writing nothing.
	DryRun bool
	// OnFailure, when set, is called when the rollout fails, before any
	// rollback, while the failing pods still exist (to collect
	// diagnostics).
	OnFailure func(ctx context.Context, r *DeployResult, err error)
}

// DeployResult is what `deploy` reports (-o json prints it).
type DeployResult struct {
	Context    string              `json:"context"`
	Namespace  string              `json:"namespace"`
	DryRun     bool                `json:"dryRun"`
	Changed    bool                `json:"changed"`
	ConfigMaps []DeployedConfigMap `json:"configMaps"`
	Workloads  []DeployedWorkload  `json:"workloads"`
	// RolledBack is set when a failed rollout was undone.
	RolledBack bool `json:"rolledBack,omitempty"`
	// Failure is the diagnosis of a failed rollout.
	Failure *DeployFailure `json:"failure,omitempty"`
}

// DeployedConfigMap is one ConfigMap and what deploy did to it.
type DeployedConfigMap struct {
	Name string `json:"name"`
	// Action is created, updated or unchanged ("would be …" with DryRun).
	Action string   `json:"action"`
	Keys   []string `json:"keys"`
}

// DeployedWorkload is one workload after the deploy.
type DeployedWorkload struct {
	kube.Workload
	Revision string   `json:"revision"`
	Images   []string `json:"images"`
	// Changed says whether its pod template changed.
	Changed bool   `json:"changed"`
	Ready   bool   `json:"ready"`
	Message string `json:"message,omitempty"`
}

// DeployFailure explains a failed rollout: the pod, container, reason and
// message, its recent Warning events and the last lines of its log.
type DeployFailure struct {
	Workload  string   `json:"workload"`
	Pod       string   `json:"pod"`
	Container string   `json:"container,omitempty"`
	Reason    string   `json:"reason"`
	Message   string   `json:"message,omitempty"`
	Events    []string `json:"events,omitempty"`
	Logs      []string `json:"logs,omitempty"`
}

// deployState is the state of one deploy: inputs, then what each step
// found or did, each field written by the step named beside it.
type deployState struct {
	deps Deps
	o    DeployOptions

	clients    *kube.Clients                         // connect
	namespace  string                                // connect
	workloads  []kube.Workload                       // connect
	before     map[kube.Workload]*kube.Template      // readWorkloads
	configMaps []*corev1.ConfigMap                   // readInputs
	previous   map[string]*corev1.ConfigMap          // readWorkloads: the ConfigMaps as they were (nil: absent)
	manifests  []kube.Object                         // readInputs
	changes    map[kube.Workload]kube.TemplateChange // plan
	cmActions  map[string]string                     // plan
	changedAny bool                                  // applyChanges
	rollouts   []kube.WorkloadState                  // waitRollouts
	failure    *DeployFailure                        // waitRollouts
	rolledBack bool                                  // rollBack
}

// Deploy is the deploy step of a rolling update, on any cluster the
// kubeconfig reaches: it validates every input and does a server-side dry
// run before it writes anything, applies the ConfigMaps (server-side
// apply), changes each workload's pod template in one patch — new images
// and the config-hash annotation over every ConfigMap the template
// references, so a configuration-only change rolls the pods — and waits for
// the rollouts with kubectl's semantics and fail-fast pod diagnosis. A
// deploy that changes nothing returns at once. With Rollback, a failed
// rollout is undone: templates and ConfigMap data restored, and waited for.
func Deploy(ctx context.Context, deps Deps, o DeployOptions) (*DeployResult, error) {
	s := &deployState{deps: deps, o: o}
	steps := []step[deployState]{
		{title: "Connecting to the cluster", run: connect},
		{title: "Reading the inputs", run: readInputs},
		{title: "Reading the workloads", run: readWorkloads},
		{title: "Planning the changes", run: plan},
		{title: "Validating with the API server (dry run)", run: dryRun},
	}
	if !o.DryRun {
		steps = append(steps, step[deployState]{title: "Applying", run: applyChanges})
	}
	err := runSteps(ctx, deps.Report, s, steps)
	if err == nil && !o.DryRun && s.changedAny {
		err = runSteps(ctx, deps.Report, s, []step[deployState]{{title: "Waiting for the rollouts", run: waitRollouts}})
		if err != nil && o.OnFailure != nil && !errors.Is(err, context.Canceled) {
			o.OnFailure(ctx, s.result(ctx), err)
		}
		if err != nil && o.Rollback && s.before != nil && !errors.Is(err, context.Canceled) {
			if rerr := runSteps(ctx, deps.Report, s, []step[deployState]{{title: "Rolling back", run: rollBack}}); rerr != nil {
				err = problem.New(problem.KindOf(err), "", fmt.Errorf("%w\nand the rollback failed too: %v", err, rerr),
					"look at `kubectl rollout history` and the ConfigMaps; the previous state was not fully restored")
			} else if pe := (*problem.Error)(nil); errors.As(err, &pe) {
				pe.Fix = strings.Replace(pe.Fix, "the previous state is being restored (--rollback-on-failure)",
					"the previous templates and ConfigMap data were restored and rolled out again (--rollback-on-failure)", 1)
			}
		}
	}
	return s.result(ctx), err
}

// result is the DeployResult as far as the deploy got; each workload's
// revision and images are read again (bounded: the deploy may have been
// interrupted), since the controller sets the revision after the patch.
func (s *deployState) result(ctx context.Context) *DeployResult {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	r := &DeployResult{Context: s.o.Context, Namespace: s.namespace, DryRun: s.o.DryRun, Changed: s.changedAny,
		ConfigMaps: []DeployedConfigMap{}, Workloads: []DeployedWorkload{}, RolledBack: s.rolledBack, Failure: s.failure}
	if s.clients != nil {
		r.Context = s.clients.Context
	}
	for _, cm := range s.configMaps {
		keys := make([]string, 0, len(cm.Data)+len(cm.BinaryData))
		for k := range cm.Data {
			keys = append(keys, k)
		}
		for k := range cm.BinaryData {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		r.ConfigMaps = append(r.ConfigMaps, DeployedConfigMap{Name: cm.Name, Action: s.cmActions[cm.Name], Keys: keys})
	}
	for _, w := range s.workloads {
		d := DeployedWorkload{Workload: w, Changed: !s.changes[w].Empty()}
		if t := s.before[w]; t != nil {
			d.Revision, d.Images = t.Revision, t.Images()
		}
		if s.clients != nil && !s.o.DryRun {
			if t, err := kube.GetTemplate(ctx, s.clients.Kube, w); err == nil {
				d.Revision, d.Images = t.Revision, t.Images()
			}
		}
		for _, st := range s.rollouts {
			if st.Workload == w {
				d.Ready, d.Message = st.Ready, st.Message
			}
		}
		if !d.Changed && s.rollouts == nil {
			d.Ready, d.Message = true, "unchanged"
		}
		r.Workloads = append(r.Workloads, d)
	}
	return r
}

func connect(ctx context.Context, s *deployState) (string, error) {
	c, err := s.deps.Kube(s.o.Context)
	if err != nil {
		return "", problem.New(problem.Usage, "connecting to the cluster", err, "check --context and --kubeconfig (`kubectl config get-contexts`)")
	}
	s.clients = c
	s.namespace = s.o.Namespace
	if s.namespace == "" {
		s.namespace = c.Namespace
	}
	if s.namespace == "" {
		s.namespace = "default"
	}
	if _, err := c.Kube.Discovery().ServerVersion(); err != nil {
		return "", problem.New(problem.Failed, "connecting to the cluster", err, "check that the cluster runs and the context points at it")
	}
	return fmt.Sprintf("context %s, namespace %s", orDash(c.Context), s.namespace), nil
}

// readInputs checks every input that needs no cluster — workload names,
// ConfigMap files, image references, manifests — and reports every problem
// at once, naming the flag and the file.
func readInputs(ctx context.Context, s *deployState) (string, error) {
	var problems []string
	if len(s.o.Workloads) == 0 {
		problems = append(problems, "no workload given: name one or more as KIND/NAME, for example deployment/web")
	}
	seen := map[kube.Workload]bool{}
	for _, ref := range s.o.Workloads {
		w, err := kube.ParseWorkload(ref, s.namespace)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		if !seen[w] {
			seen[w] = true
			s.workloads = append(s.workloads, w)
		}
	}
	names := map[string]bool{}
	for _, c := range s.o.ConfigMaps {
		if names[c.Name] {
			problems = append(problems, fmt.Sprintf("--configmap %s: given twice", c.Name))
			continue
		}
		names[c.Name] = true
		cm, err := kube.ConfigMapFromFiles(c.Name, s.namespace, c.Paths)
		if err != nil {
			for _, l := range strings.Split(err.Error(), "\n") {
				problems = append(problems, "--configmap "+c.Name+": "+l)
			}
			continue
		}
		s.configMaps = append(s.configMaps, cm)
	}
	for _, img := range s.o.Images {
		if _, _, err := parseImageFlag(img); err != nil {
			problems = append(problems, "--image "+img+": "+err.Error())
		}
	}
	if len(s.o.Manifests) > 0 {
		objs, err := kube.LoadManifests(s.o.Manifests)
		if err != nil {
			problems = append(problems, "--manifest: "+err.Error())
		}
		s.manifests = objs
	}
	if len(problems) > 0 {
		return "", problem.New(problem.Usage, "", &problem.List{Subject: "deploy", Problems: problems}, "nothing was applied; fix the inputs above")
	}
	return fmt.Sprintf("%d workload(s), %d ConfigMap(s), %d image(s), %d manifest object(s)", len(s.workloads), len(s.configMaps), len(s.o.Images), len(s.manifests)), nil
}

// parseImageFlag reads CONTAINER=REF.
func parseImageFlag(f string) (string, string, error) {
	c, ref, ok := strings.Cut(f, "=")
	if !ok || c == "" || ref == "" {
		return "", "", errors.New("use CONTAINER=IMAGE (or *=IMAGE for every container)")
	}
	if _, err := name.ParseReference(ref, name.StrictValidation); err != nil {
		if _, err2 := name.ParseReference(ref); err2 != nil {
			return "", "", fmt.Errorf("invalid image reference %q: %v", ref, err2)
		}
	}
	return c, ref, nil
}

// readWorkloads reads each workload's template and the ConfigMaps as they
// are, for the plan and for a rollback.
func readWorkloads(ctx context.Context, s *deployState) (string, error) {
	k := s.clients.Kube
	s.before = map[kube.Workload]*kube.Template{}
	var problems []string
	for _, w := range s.workloads {
		t, err := kube.GetTemplate(ctx, k, w)
		if apierrors.IsNotFound(err) && len(s.manifests) > 0 {
			continue // the manifests may create it
		}
		if err != nil {
			if apierrors.IsNotFound(err) {
				problems = append(problems, fmt.Sprintf("%s not found in namespace %s", strings.ToLower(w.Kind)+"/"+w.Name, w.Namespace))
				continue
			}
			return "", problem.New(problem.Failed, "reading "+w.String(), err, "")
		}
		s.before[w] = t
	}
	if len(problems) > 0 {
		return "", problem.New(problem.Usage, "", &problem.List{Subject: "deploy", Problems: problems},
			"check the names and -n/--namespace (or add --manifest to create them); nothing was applied")
	}
	s.previous = map[string]*corev1.ConfigMap{}
	for _, t := range s.before {
		for _, n := range kube.ReferencedConfigMaps(&t.Spec.Spec) {
			s.previous[n] = nil
		}
	}
	for _, cm := range s.configMaps {
		s.previous[cm.Name] = nil
	}
	for n := range s.previous {
		cm, err := k.CoreV1().ConfigMaps(s.namespace).Get(ctx, n, metav1.GetOptions{})
		if err == nil {
			s.previous[n] = cm
		} else if !apierrors.IsNotFound(err) {
			return "", problem.New(problem.Failed, "reading ConfigMap "+n, err, "")
		}
	}
	revs := []string{}
	for _, w := range s.workloads {
		if t := s.before[w]; t != nil {
			revs = append(revs, fmt.Sprintf("%s revision %s", w, orDash(t.Revision)))
		}
	}
	return strings.Join(revs, ", "), nil
}

// plan decides each template's change and each ConfigMap's action.
func plan(ctx context.Context, s *deployState) (string, error) {
	rewrite := registryRewrite(ctx, s.clients)
	s.changes = map[kube.Workload]kube.TemplateChange{}
	s.cmActions = map[string]string{}
	newData := map[string]*corev1.ConfigMap{}
	for _, cm := range s.configMaps {
		newData[cm.Name] = cm
		prev := s.previous[cm.Name]
		switch {
		case prev == nil:
			s.cmActions[cm.Name] = "created"
		case kube.ConfigMapDigest(prev.Data, prev.BinaryData) == kube.ConfigMapDigest(cm.Data, cm.BinaryData):
			s.cmActions[cm.Name] = "unchanged"
		default:
			s.cmActions[cm.Name] = "updated"
		}
	}
	var problems, parts []string
	for _, w := range s.workloads {
		t := s.before[w]
		if t == nil {
			continue
		}
		ch := kube.TemplateChange{Images: map[string]string{}}
		containers := map[string]string{}
		for _, c := range t.Spec.Spec.Containers {
			containers[c.Name] = c.Image
		}
		for _, f := range s.o.Images {
			c, ref, _ := parseImageFlag(f)
			ref = rewrite(ref)
			if c == "*" {
				for n, img := range containers {
					if img != ref {
						ch.Images[n] = ref
					}
				}
				continue
			}
			img, ok := containers[c]
			if !ok {
				problems = append(problems, fmt.Sprintf("--image %s: %s has no container %q (it has %s)", f, w, c, strings.Join(sortedKeys(containers), ", ")))
				continue
			}
			if img != ref {
				ch.Images[c] = ref
			}
		}
		digests := map[string]string{}
		for _, n := range kube.ReferencedConfigMaps(&t.Spec.Spec) {
			if cm := newData[n]; cm != nil {
				digests[n] = kube.ConfigMapDigest(cm.Data, cm.BinaryData)
			} else if prev := s.previous[n]; prev != nil {
				digests[n] = kube.ConfigMapDigest(prev.Data, prev.BinaryData)
			}
		}
		if h := kube.ConfigHash(digests); h != "" && h != t.Spec.Annotations[kube.ConfigHashAnnotation] {
			ch.ConfigHash = h
		}
		if len(ch.Images) == 0 {
			ch.Images = nil
		}
		s.changes[w] = ch
		if !ch.Empty() {
			var what []string
			for c, img := range ch.Images {
				what = append(what, c+"="+img)
			}
			sort.Strings(what)
			if ch.ConfigHash != "" {
				what = append(what, "configuration")
			}
			parts = append(parts, fmt.Sprintf("%s: %s", w, strings.Join(what, ", ")))
		}
	}
	for _, cm := range s.configMaps {
		if a := s.cmActions[cm.Name]; a != "unchanged" {
			parts = append(parts, fmt.Sprintf("ConfigMap %s %s", cm.Name, a))
		}
	}
	if len(problems) > 0 {
		return "", problem.New(problem.Usage, "", &problem.List{Subject: "deploy", Problems: problems}, "nothing was applied; fix the flags above")
	}
	if len(parts) == 0 && len(s.manifests) == 0 {
		return "nothing to change", nil
	}
	return strings.Join(parts, "; "), nil
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// registryRewrite maps images named after devcluster's local registry as
// the host pushes to it (localhost:<port>/…) to the address the cluster
// pulls from, read from the cluster's KEP-1755 ConfigMap; without one it
// changes nothing.
func registryRewrite(ctx context.Context, c *kube.Clients) func(string) string {
	lrh, err := kube.ReadLocalRegistryHosting(ctx, c.Kube)
	if err != nil || lrh == nil || lrh.Host == "" || lrh.HostFromContainerRuntime == "" || lrh.Host == lrh.HostFromContainerRuntime {
		return func(s string) string { return s }
	}
	from := []string{lrh.Host + "/"}
	if strings.HasPrefix(lrh.Host, "localhost:") {
		from = append(from, "127.0.0.1:"+strings.TrimPrefix(lrh.Host, "localhost:")+"/")
	}
	return func(s string) string {
		for _, f := range from {
			if strings.HasPrefix(s, f) {
				return lrh.HostFromContainerRuntime + "/" + strings.TrimPrefix(s, f)
			}
		}
		return s
	}
}

// dryRun sends every write as a server-side dry run first: admission,
// validation and conflicts are found before anything is written.
func dryRun(ctx context.Context, s *deployState) (string, error) {
	k := s.clients.Kube
	var problems []string
	for _, cm := range s.configMaps {
		if err := kube.ApplyConfigMap(ctx, k, cm, true); err != nil {
			problems = append(problems, fmt.Sprintf("ConfigMap %s: %v", cm.Name, err))
		}
	}
	if len(s.manifests) > 0 {
		applier, err := s.clients.Applier()
		if err != nil {
			return "", problem.New(problem.Failed, "connecting to the cluster", err, "")
		}
		if _, err := applier.Apply(ctx, s.manifests, kube.ApplyOptions{DefaultNamespace: s.namespace, DryRunOnly: true}); err != nil {
			problems = append(problems, err.Error())
		}
	}
	for _, w := range s.workloads {
		if ch := s.changes[w]; !ch.Empty() {
			if err := kube.PatchTemplate(ctx, k, w, ch, true); err != nil {
				problems = append(problems, fmt.Sprintf("%s: %v", w, err))
			}
		}
	}
	if len(problems) > 0 {
		return "", problem.New(problem.Usage, "", &problem.List{Subject: "the API server refused the changes", Problems: problems}, "nothing was applied; fix the inputs named above")
	}
	if s.o.DryRun {
		return "accepted; nothing written (--dry-run)", nil
	}
	return "accepted", nil
}

// applyChanges writes: ConfigMaps, manifests, then the template patches.
func applyChanges(ctx context.Context, s *deployState) (string, error) {
	k := s.clients.Kube
	var done []string
	for _, cm := range s.configMaps {
		if s.cmActions[cm.Name] == "unchanged" {
			continue
		}
		if err := kube.ApplyConfigMap(ctx, k, cm, false); err != nil {
			return "", problem.New(problem.Failed, "applying ConfigMap "+cm.Name, err, "")
		}
		s.changedAny = true
		done = append(done, "ConfigMap "+cm.Name+" "+s.cmActions[cm.Name])
	}
	if len(s.manifests) > 0 {
		applier, err := s.clients.Applier()
		if err != nil {
			return "", problem.New(problem.Failed, "connecting to the cluster", err, "")
		}
		if _, err := applier.Apply(ctx, s.manifests, kube.ApplyOptions{DefaultNamespace: s.namespace, Progress: s.deps.Report.Progress}); err != nil {
			return "", problem.New(problem.Failed, "applying the manifests", err, "")
		}
		// The manifests may have created or changed the workloads: plan
		// again against what is there now.
		if _, err := readWorkloads(ctx, s); err != nil {
			return "", err
		}
		if _, err := plan(ctx, s); err != nil {
			return "", err
		}
	}
	for _, w := range s.workloads {
		before := s.before[w]
		if ch := s.changes[w]; !ch.Empty() {
			if err := kube.PatchTemplate(ctx, k, w, ch, false); err != nil {
				return "", problem.New(problem.Failed, "updating "+w.String(), err, "")
			}
		}
		after, err := kube.GetTemplate(ctx, k, w)
		if err != nil {
			return "", problem.New(problem.Failed, "reading "+w.String(), err, "")
		}
		if before == nil || !reflect.DeepEqual(before.Spec, after.Spec) {
			s.changedAny = true
			done = append(done, w.String()+" updated")
		}
	}
	if !s.changedAny {
		return "unchanged", nil
	}
	return strings.Join(done, ", "), nil
}

// waitRollouts waits for the workloads, and explains a failure.
func waitRollouts(ctx context.Context, s *deployState) (string, error) {
	k := s.clients.Kube
	states, err := kube.WaitForRollouts(ctx, k, s.workloads, s.o.Timeout, s.deps.Report.Progress)
	s.rollouts = states
	if err == nil {
		return fmt.Sprintf("%d rolled out", len(states)), nil
	}
	kind := problem.Failed
	if errors.Is(err, kube.ErrTimeout) {
		kind = problem.Timeout
	}
	var fe *kube.FailedError
	fix := "look at `kubectl get pods` and the workloads' events"
	if errors.As(err, &fe) {
		f := &DeployFailure{Workload: fe.Workload.String(), Pod: fe.Failure.Pod, Container: fe.Failure.Container,
			Reason: fe.Failure.Reason, Message: fe.Failure.Message, Events: fe.Events}
		if f.Pod != "" && f.Container != "" {
			// The container that just failed, else its previous instance
			// (a crash loop waits with no current one).
			logs := kube.PodLogs(ctx, k, fe.Workload.Namespace, f.Pod, f.Container, false, 20)
			if logs == "" {
				logs = kube.PodLogs(ctx, k, fe.Workload.Namespace, f.Pod, f.Container, true, 20)
			}
			if logs != "" {
				f.Logs = strings.Split(logs, "\n")
				err = fmt.Errorf("%w\n  last log lines of %s/%s:\n    %s", err, f.Pod, f.Container, strings.Join(f.Logs, "\n    "))
			}
		}
		s.failure = f
		fix = fmt.Sprintf("see `kubectl -n %s describe pod %s`", fe.Workload.Namespace, f.Pod)
	}
	if s.o.Rollback {
		fix += "; the previous state is being restored (--rollback-on-failure)"
	} else {
		fix += "; --rollback-on-failure restores the previous state automatically"
	}
	return "", problem.New(kind, "rolling out", err, fix)
}

// rollBack restores the ConfigMaps and templates as they were, and waits
// for that rollout.
func rollBack(ctx context.Context, s *deployState) (string, error) {
	k := s.clients.Kube
	// The rollback gets its own time: the failed rollout may have used it
	// all, and an interrupt still stops it.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.o.Timeout+30*time.Second)
	defer cancel()
	for _, cm := range s.configMaps {
		if s.cmActions[cm.Name] == "unchanged" {
			continue
		}
		prev := s.previous[cm.Name]
		var err error
		if prev == nil {
			err = k.CoreV1().ConfigMaps(s.namespace).Delete(ctx, cm.Name, metav1.DeleteOptions{})
		} else {
			restored := cm.DeepCopy()
			restored.Data, restored.BinaryData = prev.Data, prev.BinaryData
			err = kube.ApplyConfigMap(ctx, k, restored, false)
		}
		if err != nil && !apierrors.IsNotFound(err) {
			return "", fmt.Errorf("restoring ConfigMap %s: %w", cm.Name, err)
		}
	}
	var restored []kube.Workload
	for _, w := range s.workloads {
		prev := s.before[w]
		if prev == nil {
			continue
		}
		now, err := kube.GetTemplate(ctx, k, w)
		if err != nil {
			return "", fmt.Errorf("reading %s: %w", w, err)
		}
		if reflect.DeepEqual(now.Spec, prev.Spec) {
			continue
		}
		if err := kube.RestoreTemplate(ctx, k, prev); err != nil {
			return "", fmt.Errorf("restoring %s: %w", w, err)
		}
		restored = append(restored, w)
	}
	if _, err := kube.WaitForRollouts(ctx, k, restored, s.o.Timeout, s.deps.Report.Progress); err != nil {
		return "", fmt.Errorf("the rollback did not roll out: %w", err)
	}
	s.rolledBack = true
	return fmt.Sprintf("restored %d workload(s) and %d ConfigMap(s)", len(restored), len(s.configMaps)), nil
}
