package kubeapi

import (
	"context"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
)

func deployment(image string) *appsv1.Deployment {
	return &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "apps"},
		Spec: appsv1.DeploymentSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "nginx", Image: image}}}}}}
}

// The rules the client-go fakes leave out, each as the API server applies it.
func TestTheAPIServersRules(t *testing.T) {
	ctx := context.Background()
	s := New(deployment("nginx:1"))
	k := s.Clientset
	d, err := k.AppsV1().Deployments("apps").Get(ctx, "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if d.UID == "" || d.ResourceVersion == "" || d.Generation != 1 {
		t.Fatalf("stored without uid, resourceVersion or generation: %+v", d.ObjectMeta)
	}
	rv1 := d.ResourceVersion

	// An update with a stale resourceVersion is a conflict.
	d.Spec.Template.Spec.Containers[0].Image = "nginx:2"
	if _, err := k.AppsV1().Deployments("apps").Update(ctx, d, metav1.UpdateOptions{FieldManager: "a"}); err != nil {
		t.Fatal(err)
	}
	if _, err := k.AppsV1().Deployments("apps").Update(ctx, d, metav1.UpdateOptions{FieldManager: "a"}); !apierrors.IsConflict(err) {
		t.Errorf("an update with resourceVersion %s after another update: %v, want a conflict", rv1, err)
	}
	d, _ = k.AppsV1().Deployments("apps").Get(ctx, "web", metav1.GetOptions{})
	if d.Generation != 2 || d.ResourceVersion == rv1 {
		t.Errorf("a spec change: generation %d, resourceVersion %s (was %s)", d.Generation, d.ResourceVersion, rv1)
	}

	// A status write does not change the generation; a main-resource
	// write does not change the status.
	d.Status.ObservedGeneration = 2
	if d, err = k.AppsV1().Deployments("apps").UpdateStatus(ctx, d, metav1.UpdateOptions{}); err != nil || d.Generation != 2 {
		t.Fatalf("status update: %v, generation %d", err, d.Generation)
	}
	d.Status.ObservedGeneration = 7
	d.Spec.Template.Spec.Containers[0].Image = "nginx:3"
	if d, err = k.AppsV1().Deployments("apps").Update(ctx, d, metav1.UpdateOptions{}); err != nil || d.Status.ObservedGeneration != 2 {
		t.Fatalf("update: %v, observedGeneration %d", err, d.Status.ObservedGeneration)
	}

	// A dry run writes nothing.
	rv := d.ResourceVersion
	out, err := k.AppsV1().Deployments("apps").Patch(ctx, "web", types.StrategicMergePatchType,
		[]byte(`{"spec":{"template":{"spec":{"containers":[{"name":"nginx","image":"nginx:dry"}]}}}}`), metav1.PatchOptions{DryRun: []string{metav1.DryRunAll}})
	if err != nil || out.Spec.Template.Spec.Containers[0].Image != "nginx:dry" {
		t.Fatalf("dry-run patch: %v", err)
	}
	if d, _ = k.AppsV1().Deployments("apps").Get(ctx, "web", metav1.GetOptions{}); d.ResourceVersion != rv || d.Spec.Template.Spec.Containers[0].Image != "nginx:3" {
		t.Errorf("a dry run wrote: %s, %s", d.ResourceVersion, d.Spec.Template.Spec.Containers[0].Image)
	}

	// Delete preconditions.
	wrong := types.UID("other")
	if err := k.AppsV1().Deployments("apps").Delete(ctx, "web", metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &wrong}}); !apierrors.IsConflict(err) {
		t.Errorf("delete with another UID: %v", err)
	}
	stale := rv1
	if err := k.AppsV1().Deployments("apps").Delete(ctx, "web", metav1.DeleteOptions{Preconditions: &metav1.Preconditions{ResourceVersion: &stale}}); !apierrors.IsConflict(err) {
		t.Errorf("delete with a stale resourceVersion: %v", err)
	}
	if err := k.AppsV1().Deployments("apps").Delete(ctx, "web", metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &d.UID, ResourceVersion: &d.ResourceVersion}}); err != nil {
		t.Errorf("delete with the right preconditions: %v", err)
	}
}

// Server-side apply keeps managers apart, and the dynamic client sees the
// typed client's objects.
func TestApplyAndTheDynamicClient(t *testing.T) {
	ctx := context.Background()
	s := New()
	k := s.Clientset
	if _, err := k.CoreV1().ConfigMaps("apps").Apply(ctx, corev1ac.ConfigMap("cfg", "apps").WithData(map[string]string{"a": "1"}),
		metav1.ApplyOptions{FieldManager: "one"}); err != nil {
		t.Fatal(err)
	}
	_, err := k.CoreV1().ConfigMaps("apps").Apply(ctx, corev1ac.ConfigMap("cfg", "apps").WithData(map[string]string{"a": "2"}), metav1.ApplyOptions{FieldManager: "two"})
	if !apierrors.IsConflict(err) {
		t.Errorf("a second manager's apply of the same key: %v, want a conflict", err)
	}
	cmGVR := schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
	u, err := s.Dynamic.Resource(cmGVR).Namespace("apps").Get(ctx, "cfg", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if v, _, _ := unstructured.NestedString(u.Object, "data", "a"); v != "1" || u.GetKind() != "ConfigMap" {
		t.Errorf("through the dynamic client: %v", u.Object)
	}
	obj := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "new", "namespace": "apps"},
		"data": map[string]any{"k": "v"}}}
	if _, err := s.Dynamic.Resource(cmGVR).Namespace("apps").Apply(ctx, "new", obj, metav1.ApplyOptions{FieldManager: "one", DryRun: []string{metav1.DryRunAll}}); err != nil {
		t.Fatal(err)
	}
	if _, err := k.CoreV1().ConfigMaps("apps").Get(ctx, "new", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("a dry-run apply created the object: %v", err)
	}
	if _, err := s.Dynamic.Resource(cmGVR).Namespace("apps").Apply(ctx, "new", obj, metav1.ApplyOptions{FieldManager: "one"}); err != nil {
		t.Fatal(err)
	}
	cm, err := k.CoreV1().ConfigMaps("apps").Get(ctx, "new", metav1.GetOptions{})
	if err != nil || cm.Data["k"] != "v" || len(cm.ManagedFields) != 1 || cm.ManagedFields[0].Manager != "one" {
		t.Errorf("applied through the dynamic client: %v, %+v", err, cm)
	}
}

// Lists and watches honour field selectors, as the API server does.
func TestFieldSelectors(t *testing.T) {
	ctx := context.Background()
	other := deployment("x")
	other.Name = "other"
	s := New(deployment("nginx:1"), other)
	sel := fields.OneTermEqualSelector("metadata.name", "web").String()
	l, err := s.Clientset.AppsV1().Deployments("apps").List(ctx, metav1.ListOptions{FieldSelector: sel})
	if err != nil || len(l.Items) != 1 || l.Items[0].Name != "web" {
		t.Fatalf("list by name: %v, %d items", err, len(l.Items))
	}
	w, err := s.Clientset.AppsV1().Deployments("apps").Watch(ctx, metav1.ListOptions{FieldSelector: sel})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	o, _ := s.Clientset.AppsV1().Deployments("apps").Get(ctx, "other", metav1.GetOptions{})
	o.Spec.Template.Spec.Containers[0].Image = "y"
	_, _ = s.Clientset.AppsV1().Deployments("apps").Update(ctx, o, metav1.UpdateOptions{})
	d, _ := s.Clientset.AppsV1().Deployments("apps").Get(ctx, "web", metav1.GetOptions{})
	d.Spec.Template.Spec.Containers[0].Image = "nginx:2"
	_, _ = s.Clientset.AppsV1().Deployments("apps").Update(ctx, d, metav1.UpdateOptions{})
	select {
	case ev := <-w.ResultChan():
		if got := ev.Object.(*appsv1.Deployment).Name; got != "web" {
			t.Errorf("the watch of web saw %s", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no event")
	}
}

// An apply of the status subresource records its field manager as the
// owner of the fields it set, and changes nothing but the status.
func TestStatusApplyRecordsItsManager(t *testing.T) {
	ctx := context.Background()
	s := New(&corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "apps"},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, Ports: []corev1.ServicePort{{Port: 80}}}})
	svc, err := s.Clientset.CoreV1().Services("apps").ApplyStatus(ctx, corev1ac.Service("web", "apps").
		WithStatus(corev1ac.ServiceStatus().WithLoadBalancer(corev1ac.LoadBalancerStatus().
			WithIngress(corev1ac.LoadBalancerIngress().WithIP("10.0.0.1")))), metav1.ApplyOptions{FieldManager: "lb"})
	if err != nil {
		t.Fatal(err)
	}
	if len(svc.Status.LoadBalancer.Ingress) != 1 || svc.Spec.Type != corev1.ServiceTypeLoadBalancer {
		t.Fatalf("after the status apply: %+v", svc)
	}
	var owner *metav1.ManagedFieldsEntry
	for i, m := range svc.ManagedFields {
		if m.Manager == "lb" {
			owner = &svc.ManagedFields[i]
		}
	}
	if owner == nil || owner.Subresource != "status" || owner.Operation != metav1.ManagedFieldsOperationApply ||
		owner.FieldsV1 == nil || !strings.Contains(owner.FieldsV1.GetRawString(), `"f:ingress"`) {
		t.Errorf("managed fields %+v", svc.ManagedFields)
	}
}
