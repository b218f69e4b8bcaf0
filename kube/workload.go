package kube

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"unicode/utf8"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	"k8s.io/client-go/kubernetes"
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

// Template is a workload's pod template as read from the cluster.
type Template struct {
	Workload
	// Spec is the pod template.
	Spec corev1.PodTemplateSpec
	// Revision is the workload's revision: a Deployment's revision
	// annotation, a StatefulSet's update revision, a DaemonSet's generation.
	Revision string
	// UID identifies the object (for rollback preconditions).
	UID types.UID
}

// GetTemplate reads a workload's pod template.
func GetTemplate(ctx context.Context, k kubernetes.Interface, w Workload) (*Template, error) {
	t := &Template{Workload: w}
	switch w.Kind {
	case "Deployment":
		d, err := k.AppsV1().Deployments(w.Namespace).Get(ctx, w.Name, metav1.GetOptions{})
		if err != nil {
			return nil, err
		}
		t.Spec, t.Revision, t.UID = d.Spec.Template, d.Annotations["deployment.kubernetes.io/revision"], d.UID
	case "StatefulSet":
		s, err := k.AppsV1().StatefulSets(w.Namespace).Get(ctx, w.Name, metav1.GetOptions{})
		if err != nil {
			return nil, err
		}
		t.Spec, t.Revision, t.UID = s.Spec.Template, s.Status.UpdateRevision, s.UID
	case "DaemonSet":
		d, err := k.AppsV1().DaemonSets(w.Namespace).Get(ctx, w.Name, metav1.GetOptions{})
		if err != nil {
			return nil, err
		}
		t.Spec, t.Revision, t.UID = d.Spec.Template, fmt.Sprint(d.Generation), d.UID
	default:
		return nil, fmt.Errorf("cannot deploy kind %s", w.Kind)
	}
	return t, nil
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

// PatchTemplate changes a workload's template with one strategic-merge
// patch (containers are merged by name, so other containers and fields are
// untouched), as `kubectl set image` does, with field manager devcluster.
func PatchTemplate(ctx context.Context, k kubernetes.Interface, w Workload, c TemplateChange, dryRun bool) error {
	tmpl := map[string]any{}
	if c.ConfigHash != "" {
		tmpl["metadata"] = map[string]any{"annotations": map[string]string{ConfigHashAnnotation: c.ConfigHash}}
	}
	if len(c.Images) > 0 {
		names := make([]string, 0, len(c.Images))
		for n := range c.Images {
			names = append(names, n)
		}
		sort.Strings(names)
		var containers []map[string]string
		for _, n := range names {
			containers = append(containers, map[string]string{"name": n, "image": c.Images[n]})
		}
		tmpl["spec"] = map[string]any{"containers": containers}
	}
	return patch(ctx, k, w, map[string]any{"spec": map[string]any{"template": tmpl}}, types.StrategicMergePatchType, dryRun)
}

// RestoreTemplate puts a previous pod template back (a rollback, as
// `kubectl rollout undo` does for a Deployment).
func RestoreTemplate(ctx context.Context, k kubernetes.Interface, prev *Template) error {
	// A JSON merge patch of the whole template would keep keys the new
	// template added; replacing it needs the object: read, swap, update.
	switch prev.Kind {
	case "Deployment":
		d, err := k.AppsV1().Deployments(prev.Namespace).Get(ctx, prev.Name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		d.Spec.Template = prev.Spec
		_, err = k.AppsV1().Deployments(prev.Namespace).Update(ctx, d, metav1.UpdateOptions{FieldManager: FieldManager})
		return err
	case "StatefulSet":
		s, err := k.AppsV1().StatefulSets(prev.Namespace).Get(ctx, prev.Name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		s.Spec.Template = prev.Spec
		_, err = k.AppsV1().StatefulSets(prev.Namespace).Update(ctx, s, metav1.UpdateOptions{FieldManager: FieldManager})
		return err
	case "DaemonSet":
		d, err := k.AppsV1().DaemonSets(prev.Namespace).Get(ctx, prev.Name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		d.Spec.Template = prev.Spec
		_, err = k.AppsV1().DaemonSets(prev.Namespace).Update(ctx, d, metav1.UpdateOptions{FieldManager: FieldManager})
		return err
	}
	return fmt.Errorf("cannot restore kind %s", prev.Kind)
}

func patch(ctx context.Context, k kubernetes.Interface, w Workload, body any, pt types.PatchType, dryRun bool) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	opts := metav1.PatchOptions{FieldManager: FieldManager}
	if dryRun {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	switch w.Kind {
	case "Deployment":
		_, err = k.AppsV1().Deployments(w.Namespace).Patch(ctx, w.Name, pt, b, opts)
	case "StatefulSet":
		_, err = k.AppsV1().StatefulSets(w.Namespace).Patch(ctx, w.Name, pt, b, opts)
	case "DaemonSet":
		_, err = k.AppsV1().DaemonSets(w.Namespace).Patch(ctx, w.Name, pt, b, opts)
	default:
		err = fmt.Errorf("cannot patch kind %s", w.Kind)
	}
	return err
}

// ApplyConfigMap applies cm with server-side apply (field manager
// devcluster, taking over its keys): created when absent, updated when it
// differs; a key devcluster applied before and cm no longer has is removed.
func ApplyConfigMap(ctx context.Context, k kubernetes.Interface, cm *corev1.ConfigMap, dryRun bool) error {
	ac := corev1ac.ConfigMap(cm.Name, cm.Namespace).WithData(cm.Data)
	if len(cm.BinaryData) > 0 {
		ac = ac.WithBinaryData(cm.BinaryData)
	}
	opts := metav1.ApplyOptions{FieldManager: FieldManager, Force: true}
	if dryRun {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	_, err := k.CoreV1().ConfigMaps(cm.Namespace).Apply(ctx, ac, opts)
	return err
}

// PodLogs returns the last lines of a container's log (of its previous
// instance when previous), or "" when the node cannot give them.
func PodLogs(ctx context.Context, k kubernetes.Interface, namespace, pod, container string, previous bool, lines int64) string {
	req := k.CoreV1().Pods(namespace).GetLogs(pod, &corev1.PodLogOptions{Container: container, Previous: previous, TailLines: &lines})
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
