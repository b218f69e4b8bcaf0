package kube

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/devcluster/devcluster/internal/fake/kubeapi"
)

func TestParseWorkload(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"deployment/web": "Deployment", "deploy/web": "Deployment", "deployments/web": "Deployment", "deployment.apps/web": "Deployment",
		"statefulset/web": "StatefulSet", "sts/web": "StatefulSet", "daemonset/web": "DaemonSet", "ds/web": "DaemonSet", "Deployment/web": "Deployment",
	} {
		w, err := ParseWorkload(in, "apps")
		if err != nil || w.Kind != want || w.Name != "web" || w.Namespace != "apps" {
			t.Errorf("ParseWorkload(%q) = %+v, %v", in, w, err)
		}
	}
	for _, in := range []string{"web", "pod/web", "deployment/", "deployment/Web_1", "deployment/a/b", "/web", "service/web"} {
		if _, err := ParseWorkload(in, "apps"); err == nil {
			t.Errorf("ParseWorkload(%q) accepted it", in)
		}
	}
}

// ConfigMaps from files follow kubectl create configmap --from-file: keys
// are file names, a directory gives its regular files, binary content goes
// to binaryData; every problem is reported at once.
func TestConfigMapFromFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	_ = os.WriteFile(filepath.Join(dir, "nginx.conf"), []byte("server {}\n"), 0o600)
	conf := filepath.Join(dir, "conf.d")
	_ = os.MkdirAll(filepath.Join(conf, "sub"), 0o700)
	_ = os.WriteFile(filepath.Join(conf, "a.conf"), []byte("a"), 0o600)
	_ = os.WriteFile(filepath.Join(conf, "logo.png"), []byte{0x89, 'P', 'N', 'G', 0xff, 0xfe}, 0o600)
	cm, err := ConfigMapFromFiles("web", "apps", []string{filepath.Join(dir, "nginx.conf"), conf})
	if err != nil {
		t.Fatal(err)
	}
	if cm.Data["nginx.conf"] != "server {}\n" || cm.Data["a.conf"] != "a" || len(cm.BinaryData["logo.png"]) != 6 || len(cm.Data) != 2 {
		t.Errorf("ConfigMap = %+v", cm)
	}
	_, err = ConfigMapFromFiles("Bad_Name", "apps", []string{filepath.Join(dir, "missing"), filepath.Join(dir, "nginx.conf"), filepath.Join(dir, "nginx.conf")})
	if err == nil {
		t.Fatal("bad inputs accepted")
	}
	for _, want := range []string{"invalid ConfigMap name", "missing: no such file", `key "nginx.conf" is already given`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

// The config hash covers every way a template uses a ConfigMap.
func TestReferencedConfigMaps(t *testing.T) {
	t.Parallel()
	spec := &corev1.PodSpec{
		Volumes: []corev1.Volume{
			{Name: "a", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "vol"}}}},
			{Name: "b", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
				{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "projected"}}}}}}},
		},
		InitContainers: []corev1.Container{{Name: "init", EnvFrom: []corev1.EnvFromSource{{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "envfrom"}}}}}},
		Containers: []corev1.Container{{Name: "app", Env: []corev1.EnvVar{{Name: "X", ValueFrom: &corev1.EnvVarSource{
			ConfigMapKeyRef: &corev1.ConfigMapKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "keyref"}, Key: "x"}}}}}},
	}
	if got := strings.Join(ReferencedConfigMaps(spec), ","); got != "envfrom,keyref,projected,vol" {
		t.Errorf("ReferencedConfigMaps = %s", got)
	}
	a := ConfigHash(map[string]string{"vol": ConfigMapDigest(map[string]string{"k": "v1"}, nil)})
	b := ConfigHash(map[string]string{"vol": ConfigMapDigest(map[string]string{"k": "v2"}, nil)})
	if a == b || a == "" || ConfigHash(nil) != "" {
		t.Errorf("ConfigHash: %q %q", a, b)
	}
}

// The 1 MiB limit is checked before a file is read: a huge (here sparse)
// file costs no memory, and the limit covers all of a ConfigMap's files
// together.
func TestConfigMapFromFilesChecksTheSizeFirst(t *testing.T) {
	dir := t.TempDir()
	huge := sparseFile(t, filepath.Join(dir, "huge.conf"), 768<<20)
	var err error
	if alloc := allocatedBy(func() { _, err = ConfigMapFromFiles("web", "apps", []string{huge}) }); alloc > 4<<20 {
		t.Errorf("refusing a 768 MiB file allocated %d MiB", alloc>>20)
	}
	if err == nil || !strings.Contains(err.Error(), "1 MiB") {
		t.Errorf("a 768 MiB file: %v", err)
	}

	// Two files under the limit each, over it together.
	a, b := filepath.Join(dir, "a.conf"), filepath.Join(dir, "b.conf")
	_ = os.WriteFile(a, make([]byte, 600<<10), 0o600)
	_ = os.WriteFile(b, make([]byte, 600<<10), 0o600)
	if _, err := ConfigMapFromFiles("web", "apps", []string{a, b}); err == nil || !strings.Contains(err.Error(), "1 MiB") {
		t.Errorf("two 600 KiB files: %v", err)
	}
	// A directory's files count together too.
	sub := filepath.Join(dir, "conf.d")
	_ = os.Mkdir(sub, 0o700)
	_ = os.WriteFile(filepath.Join(sub, "x"), make([]byte, 700<<10), 0o600)
	_ = os.WriteFile(filepath.Join(sub, "y"), make([]byte, 700<<10), 0o600)
	if _, err := ConfigMapFromFiles("web", "apps", []string{sub}); err == nil || !strings.Contains(err.Error(), "1 MiB") {
		t.Errorf("a directory of 1.4 MiB: %v", err)
	}
	// Just under the limit is accepted.
	ok := filepath.Join(dir, "ok.conf")
	_ = os.WriteFile(ok, make([]byte, corev1.MaxSecretSize-len("ok.conf")), 0o600)
	if _, err := ConfigMapFromFiles("web", "apps", []string{ok}); err != nil {
		t.Errorf("a file of exactly the limit: %v", err)
	}
}

// A change goes into a manifest's object with each container in its own
// list, whether the manifest lists it or not; a patch sets an init
// container's image without adding a container of that name.
func TestTemplateChangeInManifestAndPatch(t *testing.T) {
	t.Parallel()
	objs, err := DecodeManifests("web.yaml", []byte("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: apps}\n"+
		"spec:\n  template:\n    spec:\n      containers: [{name: nginx, image: nginx:1}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	live := corev1.PodSpec{InitContainers: []corev1.Container{{Name: "migrate", Image: "m:1"}},
		Containers: []corev1.Container{{Name: "nginx", Image: "nginx:1"}, {Name: "sidecar", Image: "s:1"}}}
	ch := TemplateChange{Images: map[string]string{"nginx": "nginx:2", "sidecar": "s:2", "migrate": "m:2"}, ConfigHash: "abc"}
	u := objs[0].Obj
	if err := ch.SetIn(u, &live); err != nil {
		t.Fatal(err)
	}
	tmpl, err := TemplateFromUnstructured(u)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(tmpl.Images(), " "); got != "migrate=m:2 nginx=nginx:2 sidecar=s:2" || tmpl.Spec.Annotations[ConfigHashAnnotation] != "abc" {
		t.Errorf("in the manifest: %s, annotations %v", got, tmpl.Spec.Annotations)
	}

	api := kubeapi.New(&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "apps"},
		Spec: appsv1.DeploymentSpec{Template: corev1.PodTemplateSpec{Spec: live}}})
	before, err := GetTemplate(context.Background(), api.Clientset, Workload{Kind: "Deployment", Namespace: "apps", Name: "web"})
	if err != nil {
		t.Fatal(err)
	}
	written, err := PatchTemplate(context.Background(), api.Clientset, before, ch, false)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(written.Images(), " "); got != "migrate=m:2 nginx=nginx:2 sidecar=s:2" || written.Spec.Annotations[ConfigHashAnnotation] != "abc" {
		t.Errorf("patched: %s, annotations %v", got, written.Spec.Annotations)
	}
}

// PodLogs bounds what it reads: the tail it asks for carries a byte limit.
func TestPodLogsAreBounded(t *testing.T) {
	k := fake.NewClientset()
	PodLogs(context.Background(), k, "apps", "web-1", "nginx", false, 20)
	var opts *corev1.PodLogOptions
	for _, a := range k.Actions() {
		if g, ok := a.(k8stesting.GenericAction); ok && a.GetSubresource() == "log" {
			opts, _ = g.GetValue().(*corev1.PodLogOptions)
		}
	}
	if opts == nil || opts.TailLines == nil || *opts.TailLines != 20 || opts.LimitBytes == nil || *opts.LimitBytes != 20*maxLogLineBytes {
		t.Fatalf("log request options = %+v", opts)
	}
}
