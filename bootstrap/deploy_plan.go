package bootstrap

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	"github.com/devcluster/devcluster/internal/problem"
	"github.com/devcluster/devcluster/kube"
	"github.com/devcluster/devcluster/manifests"
)

// deployPlan is what the deploy will write, decided from the snapshot
// alone.
type deployPlan struct {
	// configMaps are the --configmap writes (unchanged ones included).
	configMaps []configMapWrite
	// manifests are the manifests' objects that change, with the
	// templates' changes made in them (one write per object).
	manifests []kube.Object
	// patches are the template changes of workloads the manifests do not
	// hold.
	patches []templatePatch
	// workloads are every workload of the deploy: the named ones, then
	// the manifests' others.
	workloads []plannedWorkload
	changed   bool
	// summary says what changes, a part per change.
	summary []string
}

type configMapWrite struct {
	want   *corev1.ConfigMap
	before *corev1.ConfigMap // nil: created
	action string            // created, updated or unchanged
}

type templatePatch struct {
	before *kube.Template
	change kube.TemplateChange
}

type plannedWorkload struct {
	kube.Workload
	before  *kube.Template // nil: the deploy creates it
	change  kube.TemplateChange
	changed bool
}

// plan decides every write from the snapshot and the inputs, and nothing
// else: the ConfigMaps' actions; each workload's template after the deploy
// — the manifest's as the dry run predicted it, else the one there is —
// with the images given and the config hash over the ConfigMaps it
// references as they will be; which objects change. A workload whose
// template changes, or that the manifests change or create, is changed
// and waited for.
func plan(snap *deploySnapshot, in *deployInputs) (*deployPlan, error) {
	p := &deployPlan{}
	var problems []string
	given := map[types.NamespacedName]*corev1.ConfigMap{}
	for _, cm := range in.configMaps {
		given[types.NamespacedName{Namespace: cm.Namespace, Name: cm.Name}] = cm
	}
	// The manifests, once each, and what they hold.
	fromManifest := map[kube.Workload]*kube.Applied{}
	manifestCMs := map[types.NamespacedName]*corev1.ConfigMap{}
	seen := map[objectKey]string{}
	for i := range snap.manifests {
		it := &snap.manifests[i]
		key := keyOf(it.Obj)
		if prev, dup := seen[key]; dup {
			problems = append(problems, fmt.Sprintf("%s: %s is already in %s", it.Where(), it.Describe(), prev))
			continue
		}
		seen[key] = it.Where()
		after := snap.predicted[key]
		if after == nil {
			after = it.Obj
		}
		if w, ok := workloadOf(it.Obj); ok {
			fromManifest[w] = it
		} else if isConfigMap(it.Obj) {
			n := types.NamespacedName{Namespace: key.namespace, Name: key.name}
			if _, dup := given[n]; dup {
				problems = append(problems, fmt.Sprintf("ConfigMap %s: given by --configmap and by %s; give it once", n, it.Where()))
				continue
			}
			cm, err := configMapOf(after)
			if err != nil {
				problems = append(problems, it.Where()+": "+err.Error())
				continue
			}
			manifestCMs[n] = cm
		}
	}
	// The ConfigMaps' data after the deploy.
	digestAfter := func(n types.NamespacedName) (string, bool) {
		for _, m := range []map[types.NamespacedName]*corev1.ConfigMap{given, manifestCMs, snap.configMaps} {
			if cm, ok := m[n]; ok {
				if cm == nil {
					return "", false
				}
				return kube.ConfigMapDigest(cm.Data, cm.BinaryData), true
			}
		}
		return "", false
	}
	for _, cm := range in.configMaps {
		before := snap.configMaps[types.NamespacedName{Namespace: cm.Namespace, Name: cm.Name}]
		w := configMapWrite{want: cm, before: before, action: "updated"}
		switch {
		case before == nil:
			w.action = "created"
		case kube.ConfigMapDigest(before.Data, before.BinaryData) == kube.ConfigMapDigest(cm.Data, cm.BinaryData):
			w.action = "unchanged"
		}
		p.configMaps = append(p.configMaps, w)
		if w.action != "unchanged" {
			p.changed = true
			p.summary = append(p.summary, fmt.Sprintf("ConfigMap %s %s", cm.Name, w.action))
		}
	}
	// The workloads: the named ones, then the manifests' others.
	named := map[kube.Workload]bool{}
	workloads := append([]kube.Workload(nil), in.workloads...)
	for _, w := range in.workloads {
		named[w] = true
	}
	for _, it := range snap.manifests {
		if w, ok := workloadOf(it.Obj); ok && !named[w] && !slices.Contains(workloads, w) {
			workloads = append(workloads, w)
		}
	}
	// The template changes to make in the manifests' objects, and the
	// template each is made on.
	type fold struct {
		change kube.TemplateChange
		base   *kube.Template
	}
	folded := map[objectKey]fold{}
	for _, w := range workloads {
		before := snap.templates[w]
		it := fromManifest[w]
		var base *kube.Template
		switch {
		case it != nil:
			after := snap.predicted[keyOf(it.Obj)]
			if after == nil {
				after = it.Obj
			}
			t, err := kube.TemplateFromUnstructured(after)
			if err != nil {
				problems = append(problems, it.Where()+": "+err.Error())
				continue
			}
			base = t
		case before != nil:
			base = before
		default:
			problems = append(problems, fmt.Sprintf("%s/%s not found in namespace %s", strings.ToLower(w.Kind), w.Name, w.Namespace))
			continue
		}
		ch, errs := templateChange(base, in.images, named[w], snap.rewrite, func(n string) (string, bool) {
			return digestAfter(types.NamespacedName{Namespace: w.Namespace, Name: n})
		})
		problems = append(problems, errs...)
		after := base.Spec.DeepCopy()
		ch.ApplyTo(after)
		pw := plannedWorkload{Workload: w, before: before, change: ch,
			changed: before == nil || !apiequality.Semantic.DeepEqual(before.Spec, *after)}
		if it != nil {
			folded[keyOf(it.Obj)] = fold{ch, base}
		} else if !ch.Empty() {
			p.patches = append(p.patches, templatePatch{before: before, change: ch})
		}
		if pw.changed {
			p.summary = append(p.summary, fmt.Sprintf("%s: %s", w, describeChange(before, base, ch)))
		}
		p.workloads = append(p.workloads, pw)
	}
	// The manifests' objects that change, with the changes made in them.
	for _, it := range snap.manifests {
		key := keyOf(it.Obj)
		f, isWorkload := folded[key]
		obj := it.Object
		obj.Obj = it.Obj.DeepCopy()
		cur, after := snap.objects[key], snap.predicted[key]
		if after != nil {
			after = after.DeepCopy()
		}
		if isWorkload && !f.change.Empty() {
			if err := f.change.SetIn(obj.Obj, &f.base.Spec.Spec); err != nil {
				problems = append(problems, it.Where()+": "+err.Error())
				continue
			}
			if after != nil {
				_ = f.change.SetIn(after, &f.base.Spec.Spec)
			}
		}
		// Unchanged when the object as the deploy leaves it is the one
		// there is.
		if cur != nil && after != nil && sameObject(cur, after) {
			continue
		}
		p.manifests = append(p.manifests, obj)
		p.changed = true
		action := "configured"
		if cur == nil {
			action = "created"
		}
		if w, ok := workloadOf(it.Obj); ok {
			for i := range p.workloads {
				if p.workloads[i].Workload == w {
					p.workloads[i].changed = true
				}
			}
		}
		if !isWorkload {
			p.summary = append(p.summary, fmt.Sprintf("%s %s", it.Describe(), action))
		}
	}
	for _, pw := range p.workloads {
		p.changed = p.changed || pw.changed
	}
	if len(problems) > 0 {
		return nil, problem.New(problem.Usage, "", &problem.List{Subject: "deploy", Problems: problems}, "nothing was applied; fix the inputs above")
	}
	return p, nil
}

// templateChange is what --image and the config hash change in a
// template: images only for a workload named on the command line (the
// manifests' others keep their own).
func templateChange(t *kube.Template, images []imageFlag, named bool, rw manifests.ImageRewrite, digest func(string) (string, bool)) (kube.TemplateChange, []string) {
	ch := kube.TemplateChange{Images: map[string]string{}}
	var problems []string
	containers := map[string]string{}
	for _, c := range append(append([]corev1.Container(nil), t.Spec.Spec.InitContainers...), t.Spec.Spec.Containers...) {
		containers[c.Name] = c.Image
	}
	for _, f := range images {
		if !named {
			break
		}
		ref := rw.Image(f.ref)
		if f.container == "*" {
			for n, img := range containers {
				if img != ref {
					ch.Images[n] = ref
				}
			}
			continue
		}
		img, ok := containers[f.container]
		if !ok {
			problems = append(problems, fmt.Sprintf("--image %s: %s has no container %q (it has %s)", f.flag, t.Workload, f.container, strings.Join(sortedKeys(containers), ", ")))
			continue
		}
		if img != ref {
			ch.Images[f.container] = ref
		}
	}
	digests := map[string]string{}
	for _, n := range kube.ReferencedConfigMaps(&t.Spec.Spec) {
		if d, ok := digest(n); ok {
			digests[n] = d
		}
	}
	if h := kube.ConfigHash(digests); h != "" && h != t.Spec.Annotations[kube.ConfigHashAnnotation] {
		ch.ConfigHash = h
	}
	if len(ch.Images) == 0 {
		ch.Images = nil
	}
	return ch, problems
}

// describeChange says what a workload's change is: "created", or what
// changes in its template: "the manifest's template", images
// ("nginx=…:v2"), "configuration".
func describeChange(before, base *kube.Template, ch kube.TemplateChange) string {
	if before == nil {
		return "created"
	}
	var what []string
	if base != before && !apiequality.Semantic.DeepEqual(base.Spec, before.Spec) {
		what = append(what, "the manifest's template")
	}
	var images []string
	for c, img := range ch.Images {
		images = append(images, c+"="+img)
	}
	sort.Strings(images)
	what = append(what, images...)
	if ch.ConfigHash != "" {
		what = append(what, "configuration")
	}
	if len(what) == 0 {
		return "the manifest's object"
	}
	return strings.Join(what, ", ")
}

// sameObject reports whether applying changes nothing: the object as the
// dry run makes it equals the object as it is, but for what every write
// changes (resourceVersion, managed fields) and the status.
func sameObject(cur, after *unstructured.Unstructured) bool {
	strip := func(u *unstructured.Unstructured) map[string]any {
		c := u.DeepCopy()
		for _, f := range []string{"resourceVersion", "managedFields", "generation", "creationTimestamp", "uid"} {
			unstructured.RemoveNestedField(c.Object, "metadata", f)
		}
		delete(c.Object, "status")
		return c.Object
	}
	return apiequality.Semantic.DeepEqual(strip(cur), strip(after))
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// planChanges makes the plan.
func planChanges(ctx context.Context, s *deployState) (string, error) {
	p, err := plan(s.snap, &s.in)
	if err != nil {
		return "", err
	}
	s.plan = p
	if !p.changed {
		return "nothing to change", nil
	}
	return strings.Join(p.summary, "; "), nil
}
