package kube

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"

	"github.com/devcluster/devcluster/manifests"
)

// What Apply does to the workloads' pod templates: the images rewritten
// for the cluster's local registry, and the config hash.

// ReadImageRewrite is the rewrite of the cluster's KEP-1755 ConfigMap
// (kube-public/local-registry-hosting): its host's images to its
// hostFromContainerRuntime. Without the ConfigMap it rewrites nothing.
func ReadImageRewrite(ctx context.Context, k kubernetes.Interface) (manifests.ImageRewrite, error) {
	h, err := ReadLocalRegistryHosting(ctx, k)
	if err != nil || h == nil {
		return manifests.ImageRewrite{}, err
	}
	return manifests.RegistryRewrite(h.Host, h.HostFromContainerRuntime), nil
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

// rewriteImages rewrites the images of every container of a workload.
func rewriteImages(u *unstructured.Unstructured, rw manifests.ImageRewrite) {
	path, ok := podSpecPath[u.GetKind()]
	if !ok {
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
			if img, ok := c["image"].(string); ok {
				c["image"] = rw.Image(img)
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
