package kube

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/dynamic"
)

// Object is one manifest document and where it came from.
type Object struct {
	Source string // file path or "sample:<name>"
	Index  int    // document index in the file, from 0
	Obj    *unstructured.Unstructured
	// Owned marks devcluster's own objects (the samples): devcluster takes
	// their fields over from any other manager. The user's manifests are
	// applied without force, so a field another manager owns is a
	// conflict, as with kubectl apply --server-side without
	// --force-conflicts.
	Owned bool
}

// applyOptions are the server-side apply options for an object.
func (o Object) applyOptions(dryRun bool) metav1.ApplyOptions {
	opts := metav1.ApplyOptions{FieldManager: FieldManager, Force: o.Owned}
	if dryRun {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	return opts
}

// applyError names the object and, for a conflict, the fields and their
// managers and what to do.
func (o Object) applyError(err error) string {
	msg := fmt.Sprintf("%s (%s): %v", o.Where(), o.Describe(), err)
	if apierrors.IsConflict(err) {
		msg += "; these fields are managed by another tool: remove them from this manifest, set them to the value they have (to co-own them), or change them with the tool that manages them"
	}
	return msg
}

// Where names the document for messages: "deploy/app.yaml document 2".
func (o Object) Where() string { return fmt.Sprintf("%s document %d", o.Source, o.Index+1) }

// Describe names the object: "Deployment default/web".
func (o Object) Describe() string {
	n := o.Obj.GetName()
	if ns := o.Obj.GetNamespace(); ns != "" {
		n = ns + "/" + n
	}
	return o.Obj.GetKind() + " " + n
}

// DecodeManifests decodes multi-document YAML (or JSON) with apimachinery's
// decoder. Empty documents are skipped; every problem is reported with its
// document number.
func DecodeManifests(source string, data []byte) ([]Object, error) {
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	var out []Object
	var problems []string
	for i := 0; ; i++ {
		var raw map[string]any
		err := dec.Decode(&raw)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s document %d: %v", source, i+1, err))
			break
		}
		if len(raw) == 0 {
			continue
		}
		u := &unstructured.Unstructured{Object: raw}
		var missing []string
		if u.GetAPIVersion() == "" {
			missing = append(missing, "apiVersion")
		}
		if u.GetKind() == "" {
			missing = append(missing, "kind")
		}
		if u.GetName() == "" {
			missing = append(missing, "metadata.name")
		}
		if len(missing) > 0 {
			problems = append(problems, fmt.Sprintf("%s document %d: missing %s", source, i+1, strings.Join(missing, ", ")))
			continue
		}
		if strings.HasSuffix(u.GetKind(), "List") {
			problems = append(problems, fmt.Sprintf("%s document %d: %s is not supported; write one document per object", source, i+1, u.GetKind()))
			continue
		}
		out = append(out, Object{Source: source, Index: i, Obj: u})
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("invalid manifests:\n  %s", strings.Join(problems, "\n  "))
	}
	return out, nil
}

// MaxManifestSize bounds one manifest file (the API server's own request
// limit is 3 MiB per object; a file of many objects gets more room).
const MaxManifestSize = 32 << 20

// readManifest reads a regular file of at most MaxManifestSize bytes: a
// device or a FIFO given by mistake (--manifest /dev/zero) must not hang or
// fill memory, and a file too large is refused by its size before it is
// read (the limited read covers a file that grows meanwhile).
func readManifest(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() && path != os.DevNull {
		return nil, fmt.Errorf("%s: not a regular file", path)
	}
	if fi.Size() > MaxManifestSize {
		return nil, fmt.Errorf("%s: larger than %d MiB", path, MaxManifestSize>>20)
	}
	b, err := io.ReadAll(io.LimitReader(f, MaxManifestSize+1))
	if err != nil {
		return nil, err
	}
	if len(b) > MaxManifestSize {
		return nil, fmt.Errorf("%s: larger than %d MiB", path, MaxManifestSize>>20)
	}
	return b, nil
}

// LoadManifests reads files and directories (recursively: *.yaml, *.yml,
// *.json, in lexical order).
func LoadManifests(paths []string) ([]Object, error) {
	var out []Object
	var problems []string
	for _, p := range paths {
		var files []string
		err := filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				return nil
			}
			switch strings.ToLower(filepath.Ext(path)) {
			case ".yaml", ".yml", ".json":
				files = append(files, path)
			default:
				if path == p {
					files = append(files, path)
				}
			}
			return nil
		})
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		sort.Strings(files)
		for _, f := range files {
			b, err := readManifest(f)
			if err != nil {
				problems = append(problems, err.Error())
				continue
			}
			objs, err := DecodeManifests(f, b)
			if err != nil {
				problems = append(problems, strings.TrimPrefix(err.Error(), "invalid manifests:\n  "))
				continue
			}
			out = append(out, objs...)
		}
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("invalid manifests:\n  %s", strings.Join(problems, "\n  "))
	}
	return out, nil
}

// ApplyOptions configure Apply.
type ApplyOptions struct {
	// DefaultNamespace for namespaced objects without one ("default").
	DefaultNamespace string
	// ImageRewrites maps image prefixes (e.g. "localhost:5001/") to their
	// replacement (e.g. "192.168.49.1:5001/").
	ImageRewrites map[string]string
	// Progress receives a line per applied object.
	Progress func(string)
	// DryRunOnly stops after the server-side dry run: nothing but missing
	// namespaces is written.
	DryRunOnly bool
}

// Applied is one object that was applied.
type Applied struct {
	Object
	GVR        schema.GroupVersionResource
	Namespaced bool
}

// Applier applies manifests with server-side apply.
type Applier struct {
	Dynamic dynamic.Interface
	Mapper  meta.RESTMapper
}

// applyOrder puts the objects others depend on first.
var applyOrder = map[string]int{
	"Namespace": 0, "CustomResourceDefinition": 1, "ServiceAccount": 2, "ClusterRole": 2, "Role": 2,
	"ClusterRoleBinding": 3, "RoleBinding": 3, "ConfigMap": 3, "Secret": 3, "PersistentVolumeClaim": 3,
}

func orderOf(kind string) int {
	if o, ok := applyOrder[kind]; ok {
		return o
	}
	return 5
}

// Apply resolves every object's kind through discovery, creates missing
// namespaces, validates everything with a server-side dry run, and only then
// applies (server-side apply, field manager devcluster). If the dry run
// fails nothing but namespaces was written; a failure during the real apply
// names what had been applied before it.
func (a *Applier) Apply(ctx context.Context, objs []Object, o ApplyOptions) ([]Applied, error) {
	if o.DefaultNamespace == "" {
		o.DefaultNamespace = "default"
	}
	var items []Applied
	var problems []string
	for _, obj := range objs {
		gvk := obj.Obj.GroupVersionKind()
		m, err := a.Mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s (%s): unknown kind %s: %v", obj.Where(), obj.Describe(), gvk, err))
			continue
		}
		namespaced := m.Scope.Name() == meta.RESTScopeNameNamespace
		if namespaced && obj.Obj.GetNamespace() == "" {
			obj.Obj.SetNamespace(o.DefaultNamespace)
		}
		if !namespaced {
			obj.Obj.SetNamespace("")
		}
		rewriteImages(obj.Obj, o.ImageRewrites)
		items = append(items, Applied{Object: obj, GVR: m.Resource, Namespaced: namespaced})
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("cannot apply:\n  %s", strings.Join(problems, "\n  "))
	}
	stampConfigHashes(items)
	sort.SliceStable(items, func(i, j int) bool { return orderOf(items[i].Obj.GetKind()) < orderOf(items[j].Obj.GetKind()) })

	// Namespaces first, for real: a dry run of a namespaced object needs its
	// namespace to exist.
	nsGVR := schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}
	declared := map[string]bool{}
	for _, it := range items {
		if it.Obj.GetKind() == "Namespace" && it.GVR.Group == "" {
			declared[it.Obj.GetName()] = true
		}
	}
	needed := map[string]bool{}
	for _, it := range items {
		if it.Namespaced {
			needed[it.Obj.GetNamespace()] = true
		}
	}
	var created []string
	absent := map[string]bool{}
	for ns := range needed {
		if _, err := a.Dynamic.Resource(nsGVR).Get(ctx, ns, metav1.GetOptions{}); err == nil {
			continue
		}
		if o.DryRunOnly {
			// Writes nothing: objects in a namespace that does not exist
			// yet cannot be dry-run.
			absent[ns] = true
			continue
		}
		if declared[ns] {
			continue
		}
		u := &unstructured.Unstructured{}
		u.SetAPIVersion("v1")
		u.SetKind("Namespace")
		u.SetName(ns)
		if _, err := a.Dynamic.Resource(nsGVR).Apply(ctx, ns, u, metav1.ApplyOptions{FieldManager: FieldManager, Force: true}); err != nil {
			return nil, fmt.Errorf("creating namespace %s: %w", ns, err)
		}
		created = append(created, ns)
	}
	for _, it := range items {
		if it.Obj.GetKind() == "Namespace" && it.GVR.Group == "" && !o.DryRunOnly {
			if _, err := a.resource(it).Apply(ctx, it.Obj.GetName(), it.Obj, it.applyOptions(false)); err != nil {
				return nil, errors.New(it.applyError(err))
			}
		}
	}

	for _, it := range items {
		if it.Namespaced && absent[it.Obj.GetNamespace()] {
			if o.Progress != nil {
				o.Progress("not validated (namespace " + it.Obj.GetNamespace() + " does not exist yet): " + it.Describe())
			}
			continue
		}
		if _, err := a.resource(it).Apply(ctx, it.Obj.GetName(), it.Obj, it.applyOptions(true)); err != nil {
			problems = append(problems, it.applyError(err))
		}
	}
	if len(problems) > 0 {
		msg := "the server rejected the manifests; nothing was applied"
		if len(created) > 0 {
			sort.Strings(created)
			msg += " (namespaces created: " + strings.Join(created, ", ") + ")"
		}
		return nil, fmt.Errorf("%s:\n  %s", msg, strings.Join(problems, "\n  "))
	}
	if o.DryRunOnly {
		return items, nil
	}
	var done []string
	for _, it := range items {
		if _, err := a.resource(it).Apply(ctx, it.Obj.GetName(), it.Obj, it.applyOptions(false)); err != nil {
			return nil, fmt.Errorf("%s (already applied: %s)", it.applyError(err), orNone(done))
		}
		done = append(done, it.Describe())
		if o.Progress != nil {
			o.Progress("applied " + it.Describe())
		}
	}
	return items, nil
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "nothing"
	}
	return strings.Join(s, ", ")
}

func (a *Applier) resource(it Applied) dynamic.ResourceInterface {
	if it.Namespaced {
		return a.Dynamic.Resource(it.GVR).Namespace(it.Obj.GetNamespace())
	}
	return a.Dynamic.Resource(it.GVR)
}

// podSpecPath is where each workload kind keeps its pod spec.
var podSpecPath = map[string][]string{
	"Pod":         {"spec"},
	"Deployment":  {"spec", "template", "spec"},
	"StatefulSet": {"spec", "template", "spec"},
	"DaemonSet":   {"spec", "template", "spec"},
	"ReplicaSet":  {"spec", "template", "spec"},
	"Job":         {"spec", "template", "spec"},
	"CronJob":     {"spec", "jobTemplate", "spec", "template", "spec"},
}

// rewriteImages replaces image prefixes in every container of a workload.
func rewriteImages(u *unstructured.Unstructured, rewrites map[string]string) {
	path, ok := podSpecPath[u.GetKind()]
	if !ok || len(rewrites) == 0 {
		return
	}
	for _, field := range []string{"containers", "initContainers", "ephemeralContainers"} {
		cs, found, _ := unstructured.NestedSlice(u.Object, append(append([]string(nil), path...), field)...)
		if !found {
			continue
		}
		for i := range cs {
			c, ok := cs[i].(map[string]any)
			if !ok {
				continue
			}
			img, _ := c["image"].(string)
			for from, to := range rewrites {
				if strings.HasPrefix(img, from) {
					c["image"] = to + strings.TrimPrefix(img, from)
					break
				}
			}
		}
		_ = unstructured.SetNestedSlice(u.Object, cs, append(append([]string(nil), path...), field)...)
	}
}

// stampConfigHashes sets ConfigHashAnnotation on every workload template
// that references a ConfigMap of the same apply, over the digests of those
// ConfigMaps.
func stampConfigHashes(items []Applied) {
	digests := map[string]string{} // namespace/name → digest
	for _, it := range items {
		if it.Obj.GetKind() == "ConfigMap" && it.GVR.Group == "" {
			var cm corev1.ConfigMap
			if runtime.DefaultUnstructuredConverter.FromUnstructured(it.Obj.Object, &cm) == nil {
				digests[it.Obj.GetNamespace()+"/"+it.Obj.GetName()] = ConfigMapDigest(cm.Data, cm.BinaryData)
			}
		}
	}
	if len(digests) == 0 {
		return
	}
	for _, it := range items {
		path, ok := podSpecPath[it.Obj.GetKind()]
		if !ok || it.Obj.GetKind() == "Pod" {
			continue
		}
		raw, found, _ := unstructured.NestedMap(it.Obj.Object, path...)
		if !found {
			continue
		}
		var spec corev1.PodSpec
		if runtime.DefaultUnstructuredConverter.FromUnstructured(raw, &spec) != nil {
			continue
		}
		mine := map[string]string{}
		for _, n := range ReferencedConfigMaps(&spec) {
			if d, ok := digests[it.Obj.GetNamespace()+"/"+n]; ok {
				mine[n] = d
			}
		}
		if len(mine) == 0 {
			continue
		}
		tmplMeta := append(append([]string(nil), path[:len(path)-1]...), "metadata", "annotations")
		ann, _, _ := unstructured.NestedStringMap(it.Obj.Object, tmplMeta...)
		if ann == nil {
			ann = map[string]string{}
		}
		ann[ConfigHashAnnotation] = ConfigHash(mine)
		_ = unstructured.SetNestedStringMap(it.Obj.Object, ann, tmplMeta...)
	}
}
