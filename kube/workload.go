package kube

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"unicode/utf8"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"
)

// workloadKinds maps kubectl's names and short forms to kinds.
var workloadKinds = map[string]string{
	"deployment": "Deployment", "deployments": "Deployment", "deploy": "Deployment",
	"statefulset": "StatefulSet", "statefulsets": "StatefulSet", "sts": "StatefulSet",
	"daemonset": "DaemonSet", "daemonsets": "DaemonSet", "ds": "DaemonSet",
}

// ParseWorkload reads KIND/NAME as kubectl does (deployment/web,
// deploy/web, sts/db, ds/agent; kind.group forms such as
// deployment.apps/web too).
func ParseWorkload(ref, namespace string) (Workload, error) {
	kind, name, ok := strings.Cut(ref, "/")
	if !ok || name == "" || strings.Contains(name, "/") {
		return Workload{}, fmt.Errorf("%q is not KIND/NAME, for example deployment/web", ref)
	}
	k, known := workloadKinds[strings.ToLower(strings.TrimSuffix(strings.ToLower(kind), ".apps"))]
	if !known {
		return Workload{}, fmt.Errorf("%q: kind %q cannot be deployed: use deployment (deploy), statefulset (sts) or daemonset (ds)", ref, kind)
	}
	if errs := validation.IsDNS1123Subdomain(name); len(errs) > 0 {
		return Workload{}, fmt.Errorf("%q: invalid name: %s", ref, strings.Join(errs, "; "))
	}
	return Workload{Kind: k, Namespace: namespace, Name: name}, nil
}

// MaxConfigMapSize is the API server's limit on a ConfigMap's keys and
// values together (the same 1 MiB as a Secret's).
const MaxConfigMapSize = corev1.MaxSecretSize

// ConfigMapFromFiles builds a ConfigMap as `kubectl create configmap
// --from-file` does: each file is a key named after it; a directory gives
// its regular files (not its sub-directories). Text goes to data, anything
// that is not UTF-8 to binaryData. Every problem is reported at once. The
// 1 MiB limit is checked on the files' sizes before anything is read, and
// the reads go through a limit of what is left, so a huge file (or one
// that grows while it is read) costs no memory.
func ConfigMapFromFiles(name, namespace string, paths []string) (*corev1.ConfigMap, error) {
	cm := &corev1.ConfigMap{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace}, Data: map[string]string{}}
	var problems []string
	if errs := validation.IsDNS1123Subdomain(name); len(errs) > 0 {
		problems = append(problems, fmt.Sprintf("invalid ConfigMap name %q: %s", name, strings.Join(errs, "; ")))
	}
	// The files, found and sized before any is read.
	type file struct {
		key, path string
		size      int64
	}
	var files []file
	from := map[string]string{}
	total := int64(0)
	add := func(key, path string, size int64) {
		if errs := validation.IsConfigMapKey(key); len(errs) > 0 {
			problems = append(problems, fmt.Sprintf("%s: %q is not a valid ConfigMap key: %s", path, key, strings.Join(errs, "; ")))
			return
		}
		if prev, dup := from[key]; dup {
			problems = append(problems, fmt.Sprintf("%s: key %q is already given by %s", path, key, prev))
			return
		}
		from[key] = path
		files = append(files, file{key, path, size})
		total += int64(len(key)) + size
	}
	for _, p := range paths {
		fi, err := os.Stat(p)
		switch {
		case err != nil:
			problems = append(problems, err.Error())
		case fi.IsDir():
			entries, err := os.ReadDir(p)
			if err != nil {
				problems = append(problems, err.Error())
				continue
			}
			for _, e := range entries {
				if !e.Type().IsRegular() {
					continue
				}
				info, err := e.Info()
				if err != nil {
					problems = append(problems, err.Error())
					continue
				}
				add(e.Name(), filepath.Join(p, e.Name()), info.Size())
			}
		case fi.Mode().IsRegular():
			add(filepath.Base(p), p, fi.Size())
		default:
			problems = append(problems, fmt.Sprintf("%s: not a regular file or directory", p))
		}
	}
	if total > MaxConfigMapSize {
		problems = append(problems, tooLarge(name, total))
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("%s", strings.Join(problems, "\n"))
	}
	left := int64(MaxConfigMapSize)
	for _, f := range files {
		left -= int64(len(f.key))
		b, err := readAtMost(f.path, left)
		if err != nil {
			return nil, err
		}
		if int64(len(b)) > left {
			return nil, fmt.Errorf("%s (%s grew while it was read)", tooLarge(name, MaxConfigMapSize-left+int64(len(b))), f.path)
		}
		left -= int64(len(b))
		if utf8.Valid(b) {
			cm.Data[f.key] = string(b)
		} else {
			if cm.BinaryData == nil {
				cm.BinaryData = map[string][]byte{}
			}
			cm.BinaryData[f.key] = b
		}
	}
	return cm, nil
}

func tooLarge(name string, size int64) string {
	return fmt.Sprintf("ConfigMap %s would hold at least %d bytes; the API server's limit is 1 MiB (%d bytes)", name, size, MaxConfigMapSize)
}

// readAtMost reads a file through a limit of max+1 bytes: more than max
// means it is too large, and no more than that is ever held.
func readAtMost(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, max+1))
}

// Template is a workload's pod template as read from the cluster (or as a
// write returned it).
type Template struct {
	Workload
	// Spec is the pod template.
	Spec corev1.PodTemplateSpec
	// Revision is the workload's revision: a Deployment's revision
	// annotation, a StatefulSet's update revision, a DaemonSet's generation.
	Revision string
	// UID identifies the object (for rollback preconditions).
	UID types.UID
	// ResourceVersion is the object's, as read.
	ResourceVersion string
	// ManagedFields are the object's, as read: who wrote what, and when.
	ManagedFields []metav1.ManagedFieldsEntry
}

// templateOf reads the template of a Deployment, StatefulSet or DaemonSet.
func templateOf(obj runtime.Object) (*Template, error) {
	t := &Template{}
	var m *metav1.ObjectMeta
	switch o := obj.(type) {
	case *appsv1.Deployment:
		t.Kind, m, t.Spec, t.Revision = "Deployment", &o.ObjectMeta, o.Spec.Template, o.Annotations["deployment.kubernetes.io/revision"]
	case *appsv1.StatefulSet:
		t.Kind, m, t.Spec, t.Revision = "StatefulSet", &o.ObjectMeta, o.Spec.Template, o.Status.UpdateRevision
	case *appsv1.DaemonSet:
		t.Kind, m, t.Spec, t.Revision = "DaemonSet", &o.ObjectMeta, o.Spec.Template, fmt.Sprint(o.Generation)
	default:
		return nil, fmt.Errorf("cannot deploy %T", obj)
	}
	t.Namespace, t.Name, t.UID, t.ResourceVersion, t.ManagedFields = m.Namespace, m.Name, m.UID, m.ResourceVersion, m.ManagedFields
	return t, nil
}

// TemplateFromUnstructured reads the template of a workload as the dynamic
// client returns it (a manifest's apply).
func TemplateFromUnstructured(u *unstructured.Unstructured) (*Template, error) {
	var obj runtime.Object
	switch u.GetKind() {
	case "Deployment":
		obj = &appsv1.Deployment{}
	case "StatefulSet":
		obj = &appsv1.StatefulSet{}
	case "DaemonSet":
		obj = &appsv1.DaemonSet{}
	default:
		return nil, fmt.Errorf("cannot deploy kind %s", u.GetKind())
	}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, obj); err != nil {
		return nil, fmt.Errorf("reading %s %s/%s: %w", u.GetKind(), u.GetNamespace(), u.GetName(), err)
	}
	return templateOf(obj)
}

// GetTemplate reads a workload's pod template.
func GetTemplate(ctx context.Context, k kubernetes.Interface, w Workload) (*Template, error) {
	obj, err := getWorkload(ctx, k, w)
	if err != nil {
		return nil, err
	}
	return templateOf(obj)
}

func getWorkload(ctx context.Context, k kubernetes.Interface, w Workload) (runtime.Object, error) {
	switch w.Kind {
	case "Deployment":
		return k.AppsV1().Deployments(w.Namespace).Get(ctx, w.Name, metav1.GetOptions{})
	case "StatefulSet":
		return k.AppsV1().StatefulSets(w.Namespace).Get(ctx, w.Name, metav1.GetOptions{})
	case "DaemonSet":
		return k.AppsV1().DaemonSets(w.Namespace).Get(ctx, w.Name, metav1.GetOptions{})
	}
	return nil, fmt.Errorf("cannot deploy kind %s", w.Kind)
}

// Images lists the template's containers and their images, init containers
// first, as "name=image".
func (t *Template) Images() []string {
	var out []string
	for _, c := range append(append([]corev1.Container(nil), t.Spec.Spec.InitContainers...), t.Spec.Spec.Containers...) {
		out = append(out, c.Name+"="+c.Image)
	}
	return out
}

// TemplateChange is what a deploy changes in one template.
type TemplateChange struct {
	// Images maps container names to their new images.
	Images map[string]string
	// ConfigHash is the new ConfigHashAnnotation ("" leaves it).
	ConfigHash string
}

// Empty reports whether the change changes nothing.
func (c TemplateChange) Empty() bool { return len(c.Images) == 0 && c.ConfigHash == "" }

// ApplyTo makes the change in a template (a copy the caller owns): images
// of containers and init containers by name, and the annotation.
func (c TemplateChange) ApplyTo(t *corev1.PodTemplateSpec) {
	if c.ConfigHash != "" {
		if t.Annotations == nil {
			t.Annotations = map[string]string{}
		}
		t.Annotations[ConfigHashAnnotation] = c.ConfigHash
	}
	for _, cs := range [][]corev1.Container{t.Spec.InitContainers, t.Spec.Containers} {
		for i := range cs {
			if img, ok := c.Images[cs[i].Name]; ok {
				cs[i].Image = img
			}
		}
	}
}

// SetIn makes the change in a workload manifest, so that applying it is
// the one write: the annotation, and the image of each container named. A
// container the manifest does not list is added as a name and an image
// (server-side apply merges containers by name) to the list it is in in
// spec, the pod spec the object has.
func (c TemplateChange) SetIn(u *unstructured.Unstructured, spec *corev1.PodSpec) error {
	path, ok := podSpecPath[u.GetKind()]
	if !ok || u.GetKind() == "Pod" {
		return fmt.Errorf("%s has no pod template", u.GetKind())
	}
	if c.ConfigHash != "" {
		tmplMeta := append(append([]string(nil), path[:len(path)-1]...), "metadata", "annotations")
		ann, _, _ := unstructured.NestedStringMap(u.Object, tmplMeta...)
		if ann == nil {
			ann = map[string]string{}
		}
		ann[ConfigHashAnnotation] = c.ConfigHash
		if err := unstructured.SetNestedStringMap(u.Object, ann, tmplMeta...); err != nil {
			return err
		}
	}
	init := map[string]bool{}
	for _, ic := range spec.InitContainers {
		init[ic.Name] = true
	}
	left := maps.Clone(c.Images)
	for _, field := range []string{"initContainers", "containers"} {
		fpath := append(append([]string(nil), path...), field)
		cs, _, _ := unstructured.NestedSlice(u.Object, fpath...)
		for i := range cs {
			m, ok := cs[i].(map[string]any)
			if !ok {
				continue
			}
			n, _ := m["name"].(string)
			if img, ok := left[n]; ok {
				m["image"] = img
				delete(left, n)
			}
		}
		for _, n := range slices.Sorted(maps.Keys(left)) {
			if init[n] == (field == "initContainers") {
				cs = append(cs, map[string]any{"name": n, "image": left[n]})
			}
		}
		if len(cs) > 0 {
			if err := unstructured.SetNestedSlice(u.Object, cs, fpath...); err != nil {
				return err
			}
		}
	}
	return nil
}

// PatchTemplate changes the template of the workload read as before with
// one strategic-merge patch (containers and init containers are merged by
// name, so other containers and fields are untouched), as `kubectl set
// image` does, with field manager devcluster. The patch carries before's
// UID and resourceVersion: it changes that object, as it was read, or
// fails. A conflict reads the workload again: when its pod template is
// still before's (the controller wrote its status, someone an annotation),
// the patch is sent again under the new resourceVersion; when the template
// changed, or the object was replaced, it is a *ChangedError naming what
// changed and who changed it, and nothing is written. It returns the
// template as written (with dryRun, as it would be).
func PatchTemplate(ctx context.Context, k kubernetes.Interface, before *Template, c TemplateChange, dryRun bool) (*Template, error) {
	tmpl := map[string]any{}
	if c.ConfigHash != "" {
		tmpl["metadata"] = map[string]any{"annotations": map[string]string{ConfigHashAnnotation: c.ConfigHash}}
	}
	init := map[string]bool{}
	for _, ic := range before.Spec.Spec.InitContainers {
		init[ic.Name] = true
	}
	var containers, inits []map[string]string
	for _, n := range slices.Sorted(maps.Keys(c.Images)) {
		if init[n] {
			inits = append(inits, map[string]string{"name": n, "image": c.Images[n]})
		} else {
			containers = append(containers, map[string]string{"name": n, "image": c.Images[n]})
		}
	}
	spec := map[string]any{}
	if len(containers) > 0 {
		spec["containers"] = containers
	}
	if len(inits) > 0 {
		spec["initContainers"] = inits
	}
	if len(spec) > 0 {
		tmpl["spec"] = spec
	}
	rv := before.ResourceVersion
	var obj runtime.Object
	err := retry.RetryOnConflict(undoRetry, func() error {
		meta := map[string]any{"uid": before.UID}
		if rv != "" {
			meta["resourceVersion"] = rv
		}
		var err error
		obj, err = patch(ctx, k, before.Workload, map[string]any{"metadata": meta, "spec": map[string]any{"template": tmpl}}, types.StrategicMergePatchType, dryRun)
		if !apierrors.IsConflict(err) {
			return err
		}
		_, cur, rerr := readUnchanged(ctx, k, before, sinceRead)
		if rerr != nil {
			return rerr
		}
		rv = cur.ResourceVersion
		return err
	})
	if err != nil {
		return nil, err
	}
	return templateOf(obj)
}

func patch(ctx context.Context, k kubernetes.Interface, w Workload, body any, pt types.PatchType, dryRun bool) (runtime.Object, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	opts := metav1.PatchOptions{FieldManager: FieldManager}
	if dryRun {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	switch w.Kind {
	case "Deployment":
		return k.AppsV1().Deployments(w.Namespace).Patch(ctx, w.Name, pt, b, opts)
	case "StatefulSet":
		return k.AppsV1().StatefulSets(w.Namespace).Patch(ctx, w.Name, pt, b, opts)
	case "DaemonSet":
		return k.AppsV1().DaemonSets(w.Namespace).Patch(ctx, w.Name, pt, b, opts)
	}
	return nil, fmt.Errorf("cannot patch kind %s", w.Kind)
}

// maxLogLineBytes is what PodLogs reads at most per line asked for.
const maxLogLineBytes = 16 << 10

// PodLogs returns the last lines of a container's log (of its previous
// instance when previous), or "" when the node cannot give them.
func PodLogs(ctx context.Context, k kubernetes.Interface, namespace, pod, container string, previous bool, lines int64) string {
	// The kubelet cuts nothing: a container that writes megabyte lines
	// would fill memory. LimitBytes keeps the first bytes of the tail, so
	// the bound is generous (maxLogLineBytes a line) and lines longer than
	// that are cut by the printer anyway.
	limit := lines * maxLogLineBytes
	req := k.CoreV1().Pods(namespace).GetLogs(pod, &corev1.PodLogOptions{Container: container, Previous: previous, TailLines: &lines, LimitBytes: &limit})
	b, err := req.DoRaw(ctx)
	if err != nil {
		return ""
	}
	out := strings.TrimRight(string(b), "\n")
	// The kubelet answers a log it cannot find with a line of its own.
	if strings.HasPrefix(out, "unable to retrieve container logs") {
		return ""
	}
	return out
}
