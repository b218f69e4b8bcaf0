package bootstrap

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"github.com/devcluster/devcluster/kube"
	"github.com/devcluster/devcluster/manifests"
)

var webW = kube.Workload{Kind: "Deployment", Namespace: "apps", Name: "web"}

// webTemplate is web's template as read: nginx (mounting web-config) and a
// sidecar, an init container, the config hash over data.
func webTemplate(nginx string, configHash string) *kube.Template {
	d := web()
	d.Spec.Template.Spec.Containers[0].Image = nginx
	d.Spec.Template.Spec.InitContainers = []corev1.Container{{Name: "migrate", Image: "example.com/migrate:v1"}}
	if configHash != "" {
		d.Spec.Template.Annotations = map[string]string{kube.ConfigHashAnnotation: configHash}
	}
	return &kube.Template{Workload: webW, Spec: d.Spec.Template, UID: "uid-web", Revision: "3"}
}

func hashOf(cms ...*corev1.ConfigMap) string {
	d := map[string]string{}
	for _, cm := range cms {
		d[cm.Name] = kube.ConfigMapDigest(cm.Data, cm.BinaryData)
	}
	return kube.ConfigHash(d)
}

func cmIn(name, data string) *corev1.ConfigMap {
	return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "apps"}, Data: map[string]string{"nginx.conf": data}}
}

// manifest decodes YAML as an object of the manifests, resolved as the
// Applier would (namespace apps, its resource).
func manifest(t *testing.T, y string) kube.Applied {
	t.Helper()
	objs, err := kube.DecodeManifests("app.yaml", []byte(y))
	if err != nil || len(objs) != 1 {
		t.Fatalf("%v (%d objects)", err, len(objs))
	}
	o := objs[0]
	if o.Obj.GetNamespace() == "" {
		o.Obj.SetNamespace("apps")
	}
	gvk := o.Obj.GroupVersionKind()
	return kube.Applied{Object: o, Namespaced: true, GVR: schema.GroupVersionResource{Group: gvk.Group, Version: gvk.Version, Resource: strings.ToLower(gvk.Kind) + "s"}}
}

// asObject is a typed object as the dynamic client returns it.
func asObject(t *testing.T, o runtime.Object, gvk schema.GroupVersionKind) *unstructured.Unstructured {
	t.Helper()
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(o)
	if err != nil {
		t.Fatal(err)
	}
	u := &unstructured.Unstructured{Object: m}
	u.SetGroupVersionKind(gvk)
	return u
}

var deploymentGVK = schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}

func deploymentWith(tmpl *kube.Template) *appsv1.Deployment {
	d := web()
	d.UID, d.Spec.Template = tmpl.UID, tmpl.Spec
	return d
}

const webManifest = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      containers: [{name: nginx, image: %s}]
`

// The plan is decided from the snapshot and the inputs alone.
func TestPlan(t *testing.T) {
	t.Parallel()
	v1 := cmIn("web-config", "v1")
	v2 := cmIn("web-config", "v2")
	current := webTemplate("example.com/web:v1", hashOf(v1))
	type want struct {
		changed   bool
		cms       map[string]string              // name → action
		patches   map[string]kube.TemplateChange // workload → change
		manifests []string                       // objects applied
		workloads map[string]bool                // workload → changed
		problem   string
	}
	for _, c := range []struct {
		name string
		snap func() *deploySnapshot
		in   deployInputs
		want want
	}{{
		name: "the same image and configuration change nothing",
		snap: func() *deploySnapshot { return snapshotOf(current, v1) },
		in:   deployInputs{workloads: []kube.Workload{webW}, configMaps: []*corev1.ConfigMap{cmIn("web-config", "v1")}, images: images1("nginx=example.com/web:v1")},
		want: want{cms: map[string]string{"web-config": "unchanged"}, workloads: map[string]bool{"web": false}},
	}, {
		name: "a new image is one patch",
		snap: func() *deploySnapshot { return snapshotOf(current, v1) },
		in:   deployInputs{workloads: []kube.Workload{webW}, images: images1("nginx=example.com/web:v2")},
		want: want{changed: true, patches: map[string]kube.TemplateChange{"web": {Images: map[string]string{"nginx": "example.com/web:v2"}}}, workloads: map[string]bool{"web": true}},
	}, {
		name: "a configuration-only change rolls the pods",
		snap: func() *deploySnapshot { return snapshotOf(current, v1) },
		in:   deployInputs{workloads: []kube.Workload{webW}, configMaps: []*corev1.ConfigMap{v2}},
		want: want{changed: true, cms: map[string]string{"web-config": "updated"}, patches: map[string]kube.TemplateChange{"web": {ConfigHash: hashOf(v2)}},
			workloads: map[string]bool{"web": true}},
	}, {
		name: "a ConfigMap the template references and that does not exist is created and hashed",
		snap: func() *deploySnapshot { return snapshotOf(webTemplate("example.com/web:v1", ""), nil) },
		in:   deployInputs{workloads: []kube.Workload{webW}, configMaps: []*corev1.ConfigMap{v1}},
		want: want{changed: true, cms: map[string]string{"web-config": "created"}, patches: map[string]kube.TemplateChange{"web": {ConfigHash: hashOf(v1)}},
			workloads: map[string]bool{"web": true}},
	}, {
		name: "*= sets every container, init containers too",
		snap: func() *deploySnapshot { return snapshotOf(current, v1) },
		in:   deployInputs{workloads: []kube.Workload{webW}, images: images1("*=example.com/all:v9")},
		want: want{changed: true, patches: map[string]kube.TemplateChange{"web": {Images: map[string]string{
			"nginx": "example.com/all:v9", "sidecar": "example.com/all:v9", "migrate": "example.com/all:v9"}}}, workloads: map[string]bool{"web": true}},
	}, {
		name: "localhost:<port>/ images take the KEP-1755 rewrite",
		snap: func() *deploySnapshot {
			s := snapshotOf(current, v1)
			s.rewrite = manifests.RegistryRewrite("localhost:5001", "192.168.49.1:5001")
			return s
		},
		in: deployInputs{workloads: []kube.Workload{webW}, images: images1("nginx=localhost:5001/web:v2")},
		want: want{changed: true, patches: map[string]kube.TemplateChange{"web": {Images: map[string]string{"nginx": "192.168.49.1:5001/web:v2"}}},
			workloads: map[string]bool{"web": true}},
	}, {
		name: "a container the workload lacks is bad input",
		snap: func() *deploySnapshot { return snapshotOf(current, v1) },
		in:   deployInputs{workloads: []kube.Workload{webW}, images: images1("nope=example.com/web:v2")},
		want: want{problem: `has no container "nope" (it has migrate, nginx, sidecar)`},
	}, {
		name: "a workload that does not exist is bad input",
		snap: func() *deploySnapshot { return snapshotOf(nil, v1) },
		in:   deployInputs{workloads: []kube.Workload{webW}},
		want: want{problem: "deployment/web not found in namespace apps"},
	}, {
		name: "a workload the manifests create is created and waited for",
		snap: func() *deploySnapshot {
			s := snapshotOf(nil, v1)
			s.addManifest(manifest(t, fmt.Sprintf(webManifest, "example.com/web:v1")), nil, nil)
			return s
		},
		in:   deployInputs{workloads: []kube.Workload{webW}},
		want: want{changed: true, manifests: []string{"Deployment apps/web"}, workloads: map[string]bool{"web": true}},
	}, {
		name: "a template change only the manifest delivers is a change",
		snap: func() *deploySnapshot {
			s := snapshotOf(current, v1)
			s.addManifest(manifest(t, fmt.Sprintf(webManifest, "example.com/web:v3")), asObject(t, deploymentWith(current), deploymentGVK),
				asObject(t, deploymentWith(webTemplate("example.com/web:v3", hashOf(v1))), deploymentGVK))
			return s
		},
		in:   deployInputs{workloads: []kube.Workload{webW}},
		want: want{changed: true, manifests: []string{"Deployment apps/web"}, workloads: map[string]bool{"web": true}},
	}, {
		name: "a manifest that changes nothing is not applied, though the dry run drops the hash it does not set",
		snap: func() *deploySnapshot {
			s := snapshotOf(current, v1)
			s.addManifest(manifest(t, fmt.Sprintf(webManifest, "example.com/web:v1")), asObject(t, deploymentWith(current), deploymentGVK),
				asObject(t, deploymentWith(webTemplate("example.com/web:v1", "")), deploymentGVK))
			return s
		},
		in:   deployInputs{workloads: []kube.Workload{webW}},
		want: want{workloads: map[string]bool{"web": false}},
	}, {
		name: "--image on a workload of the manifests goes into its apply",
		snap: func() *deploySnapshot {
			s := snapshotOf(current, v1)
			s.addManifest(manifest(t, fmt.Sprintf(webManifest, "example.com/web:v1")), asObject(t, deploymentWith(current), deploymentGVK),
				asObject(t, deploymentWith(current), deploymentGVK))
			return s
		},
		in:   deployInputs{workloads: []kube.Workload{webW}, images: images1("sidecar=example.com/sidecar:v5")},
		want: want{changed: true, manifests: []string{"Deployment apps/web"}, workloads: map[string]bool{"web": true}},
	}, {
		name: "a ConfigMap of the manifests counts in the hash as the dry run makes it",
		snap: func() *deploySnapshot {
			s := snapshotOf(current, v1)
			s.addManifest(manifest(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web-config}\ndata: {nginx.conf: v2}\n"),
				asObject(t, v1, schema.GroupVersionKind{Version: "v1", Kind: "ConfigMap"}), asObject(t, v2, schema.GroupVersionKind{Version: "v1", Kind: "ConfigMap"}))
			return s
		},
		in: deployInputs{workloads: []kube.Workload{webW}},
		want: want{changed: true, manifests: []string{"ConfigMap apps/web-config"}, patches: map[string]kube.TemplateChange{"web": {ConfigHash: hashOf(v2)}},
			workloads: map[string]bool{"web": true}},
	}, {
		name: "a ConfigMap given by --configmap and by a manifest is bad input",
		snap: func() *deploySnapshot {
			s := snapshotOf(current, v1)
			s.addManifest(manifest(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web-config}\ndata: {nginx.conf: v2}\n"), nil, nil)
			return s
		},
		in:   deployInputs{workloads: []kube.Workload{webW}, configMaps: []*corev1.ConfigMap{v2}},
		want: want{problem: "ConfigMap apps/web-config: given by --configmap and by app.yaml document 1"},
	}, {
		name: "an object twice in the manifests is bad input",
		snap: func() *deploySnapshot {
			s := snapshotOf(current, v1)
			s.addManifest(manifest(t, fmt.Sprintf(webManifest, "example.com/web:v1")), nil, nil)
			s.addManifest(manifest(t, fmt.Sprintf(webManifest, "example.com/web:v2")), nil, nil)
			return s
		},
		in:   deployInputs{workloads: []kube.Workload{webW}},
		want: want{problem: "Deployment apps/web is already in app.yaml document 1"},
	}} {
		t.Run(c.name, func(t *testing.T) {
			p, err := plan(c.snap(), &c.in)
			if c.want.problem != "" {
				if err == nil || !strings.Contains(err.Error(), c.want.problem) {
					t.Fatalf("error %v, want one saying %q", err, c.want.problem)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := want{changed: p.changed, workloads: map[string]bool{}}
			for _, cm := range p.configMaps {
				if got.cms == nil {
					got.cms = map[string]string{}
				}
				got.cms[cm.want.Name] = cm.action
			}
			for _, pt := range p.patches {
				if got.patches == nil {
					got.patches = map[string]kube.TemplateChange{}
				}
				got.patches[pt.before.Name] = pt.change
			}
			for _, o := range p.manifests {
				got.manifests = append(got.manifests, o.Describe())
			}
			for _, w := range p.workloads {
				got.workloads[w.Name] = w.changed
			}
			if d := cmp.Diff(c.want, got, cmp.AllowUnexported(want{})); d != "" {
				t.Errorf("plan (-want +got):\n%s", d)
			}
		})
	}
}

func images1(flags ...string) []imageFlag {
	var out []imageFlag
	for _, f := range flags {
		c, ref, _ := parseImageFlag(f)
		out = append(out, imageFlag{flag: f, container: c, ref: ref})
	}
	return out
}

// snapshotOf is a snapshot of web (nil: absent) and web-config (nil:
// absent).
func snapshotOf(t *kube.Template, cm *corev1.ConfigMap) *deploySnapshot {
	s := &deploySnapshot{templates: map[kube.Workload]*kube.Template{webW: t},
		configMaps: map[types.NamespacedName]*corev1.ConfigMap{{Namespace: "apps", Name: "web-config"}: cm},
		objects:    map[objectKey]*unstructured.Unstructured{}, predicted: map[objectKey]*unstructured.Unstructured{}}
	return s
}

// addManifest adds an object of the manifests: as it is (nil: absent) and
// as the dry run predicts it (nil: not validated).
func (s *deploySnapshot) addManifest(it kube.Applied, cur, predicted *unstructured.Unstructured) {
	s.manifests = append(s.manifests, it)
	s.objects[keyOf(it.Obj)] = cur
	s.predicted[keyOf(it.Obj)] = predicted
}
