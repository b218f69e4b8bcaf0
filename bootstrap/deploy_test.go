package bootstrap

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	k8stesting "k8s.io/client-go/testing"

	"github.com/devcluster/devcluster/internal/fake/kubeapi"
	"github.com/devcluster/devcluster/internal/problem"
	"github.com/devcluster/devcluster/kube"
)

// deployFixture is a cluster for Deploy: the fake API server, a stand-in
// for the Deployment controller, and files in a directory of its own.
type deployFixture struct {
	t    *testing.T
	api  *kubeapi.Server
	deps Deps
	rec  *recorder
	dir  string
	// onBroken is called once per generation the controller sees with an
	// image containing "broken", before it reports the rollout failed: what
	// someone else does while the rollout fails.
	onBroken func(d *appsv1.Deployment)
}

func newDeployFixture(t *testing.T, objs ...runtime.Object) *deployFixture {
	t.Helper()
	f := &deployFixture{t: t, api: kubeapi.New(objs...), rec: &recorder{}, dir: t.TempDir()}
	f.deps = Deps{Report: f.rec, Kube: func(ctx string) (*kube.Clients, error) {
		return &kube.Clients{Kube: f.api.Clientset, Dynamic: f.api.Dynamic, Mapper: f.api.Mapper, Context: "test"}, nil
	}}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); f.controller(ctx) }()
	t.Cleanup(func() { cancel(); wg.Wait() })
	return f
}

// controller plays the Deployment controller: each new generation is
// observed and rolled out, unless a container's image says "broken", when
// the progress deadline is reported exceeded.
func (f *deployFixture) controller(ctx context.Context) {
	k := f.api.Clientset
	w, err := k.AppsV1().Deployments("").Watch(ctx, metav1.ListOptions{})
	if err != nil {
		f.t.Error(err)
		return
	}
	defer w.Stop()
	for {
		var ev watch.Event
		select {
		case <-ctx.Done():
			return
		case ev = <-w.ResultChan():
		}
		d, ok := ev.Object.(*appsv1.Deployment)
		if !ok || ev.Type == watch.Deleted || d.Generation <= d.Status.ObservedGeneration {
			continue
		}
		broken := false
		for _, c := range d.Spec.Template.Spec.Containers {
			broken = broken || strings.Contains(c.Image, "broken")
		}
		if broken && f.onBroken != nil {
			f.onBroken(d.DeepCopy())
		}
		for range 20 {
			cur, err := k.AppsV1().Deployments(d.Namespace).Get(ctx, d.Name, metav1.GetOptions{})
			if err != nil || cur.Generation != d.Generation {
				break // gone, or changed again: the next event says
			}
			n := int32(1)
			if cur.Spec.Replicas != nil {
				n = *cur.Spec.Replicas
			}
			cur.Status = appsv1.DeploymentStatus{ObservedGeneration: cur.Generation, Replicas: n, UpdatedReplicas: n, ReadyReplicas: n, AvailableReplicas: n}
			if broken {
				cur.Status.AvailableReplicas, cur.Status.ReadyReplicas = 0, 0
				cur.Status.Conditions = []appsv1.DeploymentCondition{{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionFalse,
					Reason: "ProgressDeadlineExceeded", Message: `ReplicaSet "` + cur.Name + `-x" has timed out progressing.`}}
			}
			if _, err := k.AppsV1().Deployments(d.Namespace).UpdateStatus(ctx, cur, metav1.UpdateOptions{}); !apierrors.IsConflict(err) {
				break
			}
		}
	}
}

func (f *deployFixture) file(name, content string) string {
	f.t.Helper()
	p := filepath.Join(f.dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		f.t.Fatal(err)
	}
	return p
}

func (f *deployFixture) deploy(o DeployOptions) (*DeployResult, error) {
	f.t.Helper()
	if o.Timeout == 0 {
		o.Timeout = 20 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return Deploy(ctx, f.deps, o)
}

func (f *deployFixture) deployment(name string) *appsv1.Deployment {
	f.t.Helper()
	d, err := f.api.Clientset.AppsV1().Deployments("apps").Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		f.t.Fatal(err)
	}
	return d
}

// configMap returns a ConfigMap's data, nil when it does not exist.
func (f *deployFixture) configMap(name string) map[string]string {
	f.t.Helper()
	cm, err := f.api.Clientset.CoreV1().ConfigMaps("apps").Get(context.Background(), name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		f.t.Fatal(err)
	}
	return cm.Data
}

func images(d *appsv1.Deployment) map[string]string {
	out := map[string]string{}
	for _, c := range d.Spec.Template.Spec.Containers {
		out[c.Name] = c.Image
	}
	return out
}

// web is a rolled-out Deployment apps/web with an nginx container that
// mounts ConfigMap web-config, and a sidecar.
func web() *appsv1.Deployment {
	one := int32(1)
	return &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "apps"},
		Spec: appsv1.DeploymentSpec{Replicas: &one, Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
				Spec: corev1.PodSpec{Containers: []corev1.Container{
					{Name: "nginx", Image: "example.com/web:v1", VolumeMounts: []corev1.VolumeMount{{Name: "conf", MountPath: "/etc/nginx/conf.d"}}},
					{Name: "sidecar", Image: "example.com/sidecar:v1"}},
					Volumes: []corev1.Volume{{Name: "conf", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
						LocalObjectReference: corev1.LocalObjectReference{Name: "web-config"}}}}}}}},
		Status: appsv1.DeploymentStatus{ObservedGeneration: 1, Replicas: 1, UpdatedReplicas: 1, ReadyReplicas: 1, AvailableReplicas: 1}}
}

func webConfig(data string) *corev1.ConfigMap {
	return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "web-config", Namespace: "apps"}, Data: map[string]string{"nginx.conf": data}}
}

const serviceYAML = `apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80}]
`

// apiManifest is a Deployment api whose pod spec is spec (indented for it).
func apiManifest(spec string) string {
	return `apiVersion: apps/v1
kind: Deployment
metadata: {name: api}
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      ` + spec + "\n"
}

// With --manifest, --configmap and --rollback-on-failure, a failed rollout
// puts the ConfigMap's data back and deletes the ConfigMap the deploy
// created: the snapshot the rollback uses is the one taken before any
// write, not one read again after the manifests were applied.
func TestDeployRollbackWithManifestsRestoresTheConfigMaps(t *testing.T) {
	f := newDeployFixture(t, web(), webConfig("v1"))
	res, err := f.deploy(DeployOptions{Namespace: "apps", Workloads: []string{"deployment/web"}, Rollback: true,
		ConfigMaps: []ConfigMapFiles{{Name: "web-config", Paths: []string{f.file("nginx.conf", "v2, broken")}},
			{Name: "extra-config", Paths: []string{f.file("extra.conf", "new")}}},
		Images:    []string{"nginx=example.com/broken:v2"},
		Manifests: []string{f.file("svc.yaml", serviceYAML)}})
	if err == nil || problem.KindOf(err) != problem.Failed {
		t.Fatalf("a failing rollout: %v", err)
	}
	if got := f.configMap("web-config")["nginx.conf"]; got != "v1" {
		t.Errorf("web-config after the rollback: %q, want the v1 it had", got)
	}
	if got := f.configMap("extra-config"); got != nil {
		t.Errorf("the ConfigMap the deploy created is still there: %v", got)
	}
	if got := images(f.deployment("web"))["nginx"]; got != "example.com/web:v1" {
		t.Errorf("nginx after the rollback: %s", got)
	}
	if !res.RolledBack {
		t.Errorf("not reported rolled back: %+v", res)
	}
}

// A colleague's change to the sidecar's image, made while the rollout
// fails, survives the rollback and is reported; the ConfigMap, which
// nobody else changed, is restored.
func TestDeployRollbackLeavesOtherPeoplesChanges(t *testing.T) {
	f := newDeployFixture(t, web(), webConfig("v1"))
	f.onBroken = func(d *appsv1.Deployment) {
		patch := `{"spec":{"template":{"spec":{"containers":[{"name":"sidecar","image":"example.com/sidecar:v2"}]}}}}`
		if _, err := f.api.Clientset.AppsV1().Deployments("apps").Patch(context.Background(), "web", types.StrategicMergePatchType,
			[]byte(patch), metav1.PatchOptions{FieldManager: "colleague"}); err != nil {
			t.Error(err)
		}
		f.onBroken = nil
	}
	res, err := f.deploy(DeployOptions{Namespace: "apps", Workloads: []string{"deployment/web"}, Rollback: true,
		ConfigMaps: []ConfigMapFiles{{Name: "web-config", Paths: []string{f.file("nginx.conf", "v2")}}},
		Images:     []string{"nginx=example.com/broken:v2"}})
	if err == nil {
		t.Fatal("a failing rollout succeeded")
	}
	got := images(f.deployment("web"))
	if got["sidecar"] != "example.com/sidecar:v2" {
		t.Errorf("the colleague's sidecar image was reverted: %v", got)
	}
	for _, want := range []string{"Deployment apps/web", "changed since", "sidecar", "colleague"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not say %q:\n%v", want, err)
		}
	}
	if f.configMap("web-config")["nginx.conf"] != "v1" {
		t.Errorf("web-config not restored: %v", f.configMap("web-config"))
	}
	if res.RolledBack {
		t.Errorf("reported rolled back although web was left: %+v", res)
	}
}

// A write that fails after the ConfigMaps were written is rolled back
// like a failed rollout: mounted pods must not pick up the new
// configuration with no rollout.
func TestDeployRollsBackAWriteThatFailsHalfway(t *testing.T) {
	f := newDeployFixture(t, web(), webConfig("v1"))
	f.api.Clientset.PrependReactor("patch", "deployments", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if len(a.(k8stesting.PatchActionImpl).PatchOptions.DryRun) == 0 {
			return true, nil, apierrors.NewInternalError(errors.New("etcdserver: request timed out"))
		}
		return false, nil, nil
	})
	res, err := f.deploy(DeployOptions{Namespace: "apps", Workloads: []string{"deployment/web"}, Rollback: true,
		ConfigMaps: []ConfigMapFiles{{Name: "web-config", Paths: []string{f.file("nginx.conf", "v2")}}},
		Images:     []string{"nginx=example.com/web:v2"}})
	if err == nil {
		t.Fatal("a failed write succeeded")
	}
	if got := f.configMap("web-config")["nginx.conf"]; got != "v1" {
		t.Errorf("web-config after the failed write: %q, want v1 restored", got)
	}
	for _, want := range []string{"etcdserver: request timed out", "ConfigMap apps/web-config"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not say %q:\n%v", want, err)
		}
	}
	if res == nil || !res.RolledBack {
		t.Errorf("not reported rolled back: %+v", res)
	}
}

// The KEP-1755 ConfigMap's localhost:<port>/ images are rewritten for
// deploy --manifest as for up and --image.
func TestDeployManifestRewritesLocalRegistryImages(t *testing.T) {
	lrh := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: kube.LocalRegistryHostingName, Namespace: kube.LocalRegistryHostingNamespace},
		Data: map[string]string{kube.LocalRegistryHostingKey: "host: localhost:5001\nhostFromContainerRuntime: 192.168.49.1:5001\n"}}
	f := newDeployFixture(t, lrh, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "apps"}})
	manifest := apiManifest(`initContainers: [{name: migrate, image: "127.0.0.1:5001/api-migrate:1"}]
      containers: [{name: api, image: "localhost:5001/api:1"}, {name: proxy, image: "docker.io/library/nginx:1"}]`)
	if _, err := f.deploy(DeployOptions{Namespace: "apps", Workloads: []string{"deployment/api"}, Manifests: []string{f.file("api.yaml", manifest)},
		Images: []string{"proxy=localhost:5001/proxy:2"}}); err != nil {
		t.Fatal(err)
	}
	d := f.deployment("api")
	got := images(d)
	if got["api"] != "192.168.49.1:5001/api:1" || got["proxy"] != "192.168.49.1:5001/proxy:2" || d.Spec.Template.Spec.InitContainers[0].Image != "192.168.49.1:5001/api-migrate:1" {
		t.Errorf("images not rewritten: %v, init %s", got, d.Spec.Template.Spec.InitContainers[0].Image)
	}
}

// A template change that only the manifest delivers is a change: it is
// waited for, and a broken one fails the deploy.
func TestDeployWaitsForAManifestOnlyTemplateChange(t *testing.T) {
	f := newDeployFixture(t, web(), webConfig("v1"))
	manifest := `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      containers: [{name: nginx, image: "example.com/broken:v3"}]
`
	res, err := f.deploy(DeployOptions{Namespace: "apps", Workloads: []string{"deployment/web"}, Manifests: []string{f.file("web.yaml", manifest)}})
	if err == nil {
		t.Fatalf("a manifest that breaks the rollout: no error; result %+v", res)
	}
	if !res.Changed {
		t.Errorf("a manifest-only template change is reported unchanged: %+v", res)
	}
}

// writes counts the writes the clients sent (dry runs left out).
func (f *deployFixture) writes() int {
	n := 0
	for _, fk := range []*k8stesting.Fake{&f.api.Clientset.Fake, &f.api.Dynamic.Fake} {
		for _, a := range fk.Actions() {
			switch a := a.(type) {
			case k8stesting.CreateActionImpl:
				n += map[bool]int{true: 0, false: 1}[len(a.CreateOptions.DryRun) > 0]
			case k8stesting.UpdateActionImpl:
				n += map[bool]int{true: 0, false: 1}[len(a.UpdateOptions.DryRun) > 0 || a.GetSubresource() == "status"]
			case k8stesting.PatchActionImpl:
				n += map[bool]int{true: 0, false: 1}[len(a.PatchOptions.DryRun) > 0 || a.GetSubresource() == "status"]
			case k8stesting.DeleteActionImpl:
				n++
			}
		}
	}
	return n
}

func (f *deployFixture) resetActions() {
	f.api.Clientset.ClearActions()
	f.api.Dynamic.ClearActions()
}

// A deploy that changes nothing writes nothing and waits for nothing; a
// dry run writes nothing either.
func TestDeployUnchangedAndDryRunWriteNothing(t *testing.T) {
	f := newDeployFixture(t, web(), webConfig("v1"), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "apps"}})
	o := DeployOptions{Namespace: "apps", Workloads: []string{"deployment/web"},
		ConfigMaps: []ConfigMapFiles{{Name: "web-config", Paths: []string{f.file("nginx.conf", "v2")}}},
		Images:     []string{"nginx=example.com/web:v2"}, Manifests: []string{f.file("svc.yaml", serviceYAML)}}
	if _, err := f.deploy(o); err != nil {
		t.Fatal(err)
	}
	f.resetActions()
	res, err := f.deploy(o)
	if err != nil || res.Changed || f.writes() != 0 {
		t.Errorf("the same deploy again: %v, changed %v, %d writes", err, res.Changed, f.writes())
	}
	if len(res.Workloads) != 1 || res.Workloads[0].Message != "unchanged" || !res.Workloads[0].Ready {
		t.Errorf("workloads: %+v", res.Workloads)
	}
	f.resetActions()
	o.DryRun, o.Images = true, []string{"nginx=example.com/web:v3"}
	if res, err := f.deploy(o); err != nil || !res.Changed || f.writes() != 0 {
		t.Errorf("--dry-run: %v, changed %v, %d writes", err, res.Changed, f.writes())
	}
	if got := images(f.deployment("web"))["nginx"]; got != "example.com/web:v2" {
		t.Errorf("--dry-run wrote the image: %s", got)
	}
}

// The rollback writes with the resourceVersion it read: a conflict (the
// controller wrote meanwhile) is read again, checked again and retried.
func TestDeployRollbackRetriesAConflict(t *testing.T) {
	f := newDeployFixture(t, web(), webConfig("v1"))
	conflicts := 0
	f.api.Clientset.PrependReactor("update", "deployments", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if a.GetSubresource() == "" && conflicts == 0 {
			conflicts++
			return true, nil, apierrors.NewConflict(appsv1.Resource("deployments"), "web", errors.New("the object has been modified"))
		}
		return false, nil, nil
	})
	res, err := f.deploy(DeployOptions{Namespace: "apps", Workloads: []string{"deployment/web"}, Rollback: true, Images: []string{"nginx=example.com/broken:v2"}})
	if err == nil || !res.RolledBack || conflicts != 1 {
		t.Fatalf("%v; rolled back %v after %d conflict(s)", err, res.RolledBack, conflicts)
	}
	if got := images(f.deployment("web"))["nginx"]; got != "example.com/web:v1" {
		t.Errorf("nginx after the rollback: %s", got)
	}
}

// A ConfigMap someone else changed during the failing rollout is left as
// it is and reported; the template, which nobody else touched, is
// restored.
func TestDeployRollbackLeavesAConfigMapChangedSince(t *testing.T) {
	f := newDeployFixture(t, web(), webConfig("v1"))
	f.onBroken = func(*appsv1.Deployment) {
		cm, _ := f.api.Clientset.CoreV1().ConfigMaps("apps").Get(context.Background(), "web-config", metav1.GetOptions{})
		cm.Data["nginx.conf"] = "hotfix"
		if _, err := f.api.Clientset.CoreV1().ConfigMaps("apps").Update(context.Background(), cm, metav1.UpdateOptions{FieldManager: "oncall"}); err != nil {
			t.Error(err)
		}
		f.onBroken = nil
	}
	res, err := f.deploy(DeployOptions{Namespace: "apps", Workloads: []string{"deployment/web"}, Rollback: true,
		ConfigMaps: []ConfigMapFiles{{Name: "web-config", Paths: []string{f.file("nginx.conf", "v2")}}}, Images: []string{"nginx=example.com/broken:v2"}})
	if err == nil {
		t.Fatal("a failing rollout succeeded")
	}
	if got := f.configMap("web-config")["nginx.conf"]; got != "hotfix" {
		t.Errorf("the on-call engineer's hotfix was overwritten: %q", got)
	}
	for _, want := range []string{"ConfigMap apps/web-config changed since the deploy wrote it: data.nginx.conf (by oncall)"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not say %q:\n%v", want, err)
		}
	}
	if got := images(f.deployment("web"))["nginx"]; got != "example.com/web:v1" {
		t.Errorf("nginx after the rollback: %s", got)
	}
	if res.Rollback == nil || len(res.Rollback.Refused) != 1 || !slices.Contains(res.Rollback.Restored, "Deployment apps/web") {
		t.Errorf("rollback: %+v", res.Rollback)
	}
}

// A workload the manifests created is deleted by the rollback, as the
// ConfigMaps it created are; the Service is left, and said so.
func TestDeployRollbackDeletesWhatTheManifestsCreated(t *testing.T) {
	f := newDeployFixture(t, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "apps"}})
	manifest := apiManifest(`containers: [{name: api, image: "example.com/broken:v1"}]`) + `---
apiVersion: v1
kind: ConfigMap
metadata: {name: api-config}
data: {a: b}
---
` + serviceYAML
	res, err := f.deploy(DeployOptions{Namespace: "apps", Workloads: []string{"deployment/api"}, Rollback: true, Manifests: []string{f.file("api.yaml", manifest)}})
	if err == nil {
		t.Fatal("a failing rollout succeeded")
	}
	if _, err := f.api.Clientset.AppsV1().Deployments("apps").Get(context.Background(), "api", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("the Deployment the deploy created: %v", err)
	}
	if f.configMap("api-config") != nil {
		t.Error("the ConfigMap the deploy created is still there")
	}
	if res.Rollback == nil || !slices.Equal(res.Rollback.Deleted, []string{"Deployment apps/api", "ConfigMap apps/api-config"}) ||
		!slices.Equal(res.Rollback.Left, []string{"Service apps/web created"}) || !res.RolledBack {
		t.Errorf("rollback: %+v", res.Rollback)
	}
}

func (f *deployFixture) deployCtx(ctx context.Context, o DeployOptions) (*DeployResult, error) {
	f.t.Helper()
	if o.Timeout == 0 {
		o.Timeout = 20 * time.Second
	}
	return Deploy(ctx, f.deps, o)
}

// beforeTemplatePatch runs do once, just before the deploy's template
// patch (not its dry run) reaches the API server: what someone else does
// between the snapshot and the write. do writes through the dynamic
// client (the typed one is busy with the patch).
func (f *deployFixture) beforeTemplatePatch(do func(ctx context.Context) error) {
	done := false
	f.api.Clientset.PrependReactor("patch", "deployments", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if !done && len(a.(k8stesting.PatchActionImpl).PatchOptions.DryRun) == 0 {
			done = true
			if err := do(context.Background()); err != nil {
				f.t.Error(err)
			}
		}
		return false, nil, nil
	})
}

var deploymentsGVR = appsv1.SchemeGroupVersion.WithResource("deployments")

// A colleague's `kubectl set image` on the same container, made between
// the snapshot and the template patch, is not overwritten: the patch
// carries the resourceVersion read, the conflict finds the template
// changed, and the deploy fails as a write that failed, rolled back and
// saying what changed and who changed it.
func TestDeployRefusesATemplateChangedSinceTheSnapshot(t *testing.T) {
	f := newDeployFixture(t, web(), webConfig("v1"))
	f.beforeTemplatePatch(func(ctx context.Context) error {
		patch := `{"spec":{"template":{"spec":{"containers":[{"name":"nginx","image":"example.com/web:hotfix"}]}}}}`
		_, err := f.api.Dynamic.Resource(deploymentsGVR).Namespace("apps").Patch(ctx, "web", types.StrategicMergePatchType, []byte(patch),
			metav1.PatchOptions{FieldManager: "colleague"})
		return err
	})
	res, err := f.deploy(DeployOptions{Namespace: "apps", Workloads: []string{"deployment/web"}, Rollback: true,
		ConfigMaps: []ConfigMapFiles{{Name: "web-config", Paths: []string{f.file("nginx.conf", "v2")}}},
		Images:     []string{"nginx=example.com/web:v2"}})
	if err == nil {
		t.Fatal("a patch over a template changed since the snapshot succeeded")
	}
	if got := images(f.deployment("web"))["nginx"]; got != "example.com/web:hotfix" {
		t.Errorf("the colleague's image was overwritten: nginx is %s", got)
	}
	for _, want := range []string{"Deployment apps/web changed since the deploy read it", "containers[name=nginx].image", "colleague"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not say %q:\n%v", want, err)
		}
	}
	if got := f.configMap("web-config")["nginx.conf"]; got != "v1" {
		t.Errorf("web-config after the refused patch: %q, want v1 restored", got)
	}
	if !slices.Equal(res.Written, []string{"ConfigMap apps/web-config updated"}) || !res.RolledBack {
		t.Errorf("written %v, rolled back %v", res.Written, res.RolledBack)
	}
}

// A write between the snapshot and the patch that leaves the template as
// it was (the controller's status, an annotation) bumps the
// resourceVersion: the patch is sent again under the new one and the
// deploy succeeds, the other writes kept.
func TestDeployRetriesAPatchAfterAChangeOutsideTheTemplate(t *testing.T) {
	f := newDeployFixture(t, web(), webConfig("v1"))
	f.beforeTemplatePatch(func(ctx context.Context) error {
		d := f.api.Dynamic.Resource(deploymentsGVR).Namespace("apps")
		if _, err := d.Patch(ctx, "web", types.StrategicMergePatchType, []byte(`{"metadata":{"annotations":{"team":"web"}}}`),
			metav1.PatchOptions{FieldManager: "colleague"}); err != nil {
			return err
		}
		_, err := d.Patch(ctx, "web", types.StrategicMergePatchType, []byte(`{"status":{"observedGeneration":1,"readyReplicas":1}}`),
			metav1.PatchOptions{FieldManager: "kube-controller-manager"}, "status")
		return err
	})
	if _, err := f.deploy(DeployOptions{Namespace: "apps", Workloads: []string{"deployment/web"}, Images: []string{"nginx=example.com/web:v2"}}); err != nil {
		t.Fatal(err)
	}
	d := f.deployment("web")
	if got := images(d)["nginx"]; got != "example.com/web:v2" || d.Annotations["team"] != "web" {
		t.Errorf("nginx %s, annotations %v", got, d.Annotations)
	}
}

// interruptAfterConfigMapWrite cancels the deploy (Ctrl-C, a CI cancel) once
// its first ConfigMap write has reached the API server.
func interruptAfterConfigMapWrite(f *deployFixture, cancel context.CancelFunc) {
	for _, verb := range []string{"create", "update"} {
		f.api.Clientset.PrependReactor(verb, "configmaps", func(a k8stesting.Action) (bool, runtime.Object, error) {
			dry := false
			switch a := a.(type) {
			case k8stesting.CreateActionImpl:
				dry = len(a.CreateOptions.DryRun) > 0
			case k8stesting.UpdateActionImpl:
				dry = len(a.UpdateOptions.DryRun) > 0
			}
			if !dry {
				cancel() // the fake makes the write all the same, as a server that got it
			}
			return false, nil, nil
		})
	}
}

// An interrupt between the ConfigMap writes and the template patches,
// with --rollback-on-failure, undoes the writes made (the new
// configuration must not stay mounted with no rollout), says so, and is
// still an interrupt (exit 130).
func TestDeployRollsBackAnInterruptedDeploy(t *testing.T) {
	f := newDeployFixture(t, web(), webConfig("v1"))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	interruptAfterConfigMapWrite(f, cancel)
	res, err := f.deployCtx(ctx, DeployOptions{Namespace: "apps", Workloads: []string{"deployment/web"}, Rollback: true,
		ConfigMaps: []ConfigMapFiles{{Name: "web-config", Paths: []string{f.file("nginx.conf", "v2")}}},
		Images:     []string{"nginx=example.com/web:v2"}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("an interrupted deploy: %v, want an interrupt", err)
	}
	if got := f.configMap("web-config")["nginx.conf"]; got != "v1" {
		t.Errorf("web-config after the interrupt: %q, want v1 restored", got)
	}
	if got := images(f.deployment("web"))["nginx"]; got != "example.com/web:v1" {
		t.Errorf("nginx after the interrupt: %s, want v1", got)
	}
	if res.Rollback == nil || !slices.Equal(res.Rollback.Restored, []string{"ConfigMap apps/web-config"}) {
		t.Errorf("rollback: %+v", res.Rollback)
	}
	if !strings.Contains(err.Error(), "undone (--rollback-on-failure): ConfigMap apps/web-config updated") {
		t.Errorf("the error does not say the writes were undone:\n%v", err)
	}
}

// Without --rollback-on-failure an interrupt after a write says what was
// written, as a failed write does.
func TestDeployInterruptedSaysWhatWasWritten(t *testing.T) {
	f := newDeployFixture(t, web(), webConfig("v1"))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	interruptAfterConfigMapWrite(f, cancel)
	res, err := f.deployCtx(ctx, DeployOptions{Namespace: "apps", Workloads: []string{"deployment/web"},
		ConfigMaps: []ConfigMapFiles{{Name: "web-config", Paths: []string{f.file("nginx.conf", "v2")}}},
		Images:     []string{"nginx=example.com/web:v2"}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("an interrupted deploy: %v, want an interrupt", err)
	}
	var pe *problem.Error
	if !errors.As(err, &pe) || !strings.Contains(pe.Fix, "--rollback-on-failure") {
		t.Errorf("the error does not advise --rollback-on-failure: %#v", pe)
	}
	if problem.LeftOf(err) == nil {
		t.Errorf("the error is not marked as what the interrupt left behind, so the command line would say only \"interrupted\"")
	}
	for _, want := range []string{"written before it, and not undone: ConfigMap apps/web-config updated"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not say %q:\n%v", want, err)
		}
	}
	if !slices.Equal(res.Written, []string{"ConfigMap apps/web-config updated"}) || res.Rollback != nil {
		t.Errorf("written %v, rollback %+v", res.Written, res.Rollback)
	}
}

// A KEP-1755 ConfigMap deploy may not read (a CI service account limited
// to its namespace) or cannot parse (another tool's) means no rewrite, and
// a warning that says why; the deploy goes on. Any other error stops it.
func TestDeployWithoutAReadableLocalRegistryHosting(t *testing.T) {
	bad := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: kube.LocalRegistryHostingName, Namespace: kube.LocalRegistryHostingNamespace},
		Data: map[string]string{kube.LocalRegistryHostingKey: "host: [localhost:5001\n"}}
	for _, tc := range []struct {
		name string
		objs []runtime.Object
		err  error
		warn string
	}{
		{name: "forbidden", err: apierrors.NewForbidden(corev1.Resource("configmaps"), kube.LocalRegistryHostingName,
			errors.New(`User "system:serviceaccount:ci:deployer" cannot get resource "configmaps" in the namespace "kube-public"`)), warn: "forbidden"},
		{name: "unparsable", objs: []runtime.Object{bad}, warn: "yaml"},
		{name: "unreachable", err: errors.New("dial tcp 127.0.0.1:6443: connect: connection refused")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newDeployFixture(t, append(tc.objs, web(), webConfig("v1"))...)
			if tc.err != nil {
				f.api.Clientset.PrependReactor("get", "configmaps", func(a k8stesting.Action) (bool, runtime.Object, error) {
					if a.GetNamespace() == kube.LocalRegistryHostingNamespace {
						return true, nil, tc.err
					}
					return false, nil, nil
				})
			}
			_, err := f.deploy(DeployOptions{Namespace: "apps", Workloads: []string{"deployment/web"}, Images: []string{"nginx=example.com/web:v2"}})
			if tc.warn == "" {
				if err == nil || !strings.Contains(err.Error(), "connection refused") {
					t.Fatalf("an unreachable API server: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			warned := slices.ContainsFunc(f.rec.lines, func(l string) bool {
				return strings.HasPrefix(l, "warn ") && strings.Contains(l, kube.LocalRegistryHostingName) && strings.Contains(strings.ToLower(l), tc.warn)
			})
			if !warned {
				t.Errorf("no warning naming why: %q", f.rec.lines)
			}
			if got := images(f.deployment("web"))["nginx"]; got != "example.com/web:v2" {
				t.Errorf("nginx: %s", got)
			}
		})
	}
}
