package kube

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

func controlled(uid types.UID) []metav1.OwnerReference {
	yes := true
	return []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "x", UID: uid, Controller: &yes}}
}

func refuse(k *fake.Clientset, verb, resource string) {
	k.PrependReactor(verb, resource, func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, errors.New(resource + " are not for you")
	})
}

// The workloads of every kind are listed; a kind that cannot be listed is
// an error of its own and the others are listed still.
func TestListWorkloads(t *testing.T) {
	ctx := context.Background()
	k := fake.NewClientset(
		&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "apps"}},
		&appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: "apps"}},
		&appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Name: "agent", Namespace: "kube-system"}},
	)
	ws, errs := ListWorkloads(ctx, k, "")
	want := []Workload{{"Deployment", "apps", "web"}, {"StatefulSet", "apps", "db"}, {"DaemonSet", "kube-system", "agent"}}
	if d := cmp.Diff(want, ws); d != "" || len(errs) > 0 {
		t.Errorf("every namespace (-want +got):\n%s%v", d, errs)
	}
	if ws, _ := ListWorkloads(ctx, k, "kube-system"); len(ws) != 1 || ws[0].Name != "agent" {
		t.Errorf("one namespace: %v", ws)
	}
	refuse(k, "list", "statefulsets")
	ws, errs = ListWorkloads(ctx, k, "")
	if len(ws) != 2 || len(errs) != 1 || errs[0].Error() != "listing StatefulSets: statefulsets are not for you" {
		t.Errorf("with StatefulSets refused: %v, %v", ws, errs)
	}
}

func TestIsManagedNamespace(t *testing.T) {
	ctx := context.Background()
	k := fake.NewClientset(
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "ours", Labels: map[string]string{ManagedByLabel: ManagedBy}}},
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "theirs", Labels: map[string]string{ManagedByLabel: "helm"}}},
	)
	for ns, want := range map[string]bool{"ours": true, "theirs": false, "absent": false} {
		if got, err := IsManagedNamespace(ctx, k, ns); got != want || err != nil {
			t.Errorf("%s: %v, %v; want %v", ns, got, err, want)
		}
	}
	refuse(k, "get", "namespaces")
	if _, err := IsManagedNamespace(ctx, k, "ours"); err == nil {
		t.Error("a refused read is no error")
	}
}

// A workload's tree holds the ReplicaSets and pods it controls, not those
// of another owner that share its labels; a part that cannot be listed
// leaves the tree read so far and is named.
func TestReadWorkloadTree(t *testing.T) {
	ctx := context.Background()
	labels := map[string]string{"app": "web"}
	web := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "apps", UID: "web-uid"},
		Spec: appsv1.DeploymentSpec{Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}}}}
	yes := true
	rs := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: "web-1", Namespace: "apps", UID: "rs-uid", Labels: labels,
		OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "Deployment", Name: "web", UID: "web-uid", Controller: &yes}}}}
	strayRS := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: "copy-1", Namespace: "apps", UID: "copy-uid", Labels: labels}}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web-1-a", Namespace: "apps", Labels: labels, OwnerReferences: controlled("rs-uid")}}
	stray := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "copy-1-a", Namespace: "apps", Labels: labels, OwnerReferences: controlled("copy-uid")}}
	db := &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: "apps", UID: "db-uid"},
		Spec: appsv1.StatefulSetSpec{Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "db"}}}}}
	dbPod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "db-0", Namespace: "apps", Labels: map[string]string{"app": "db"},
		OwnerReferences: []metav1.OwnerReference{{Kind: "StatefulSet", Name: "db", UID: "db-uid", Controller: &yes}}}}
	k := fake.NewClientset(web, rs, strayRS, pod, stray, db, dbPod)

	tree, err := ReadWorkloadTree(ctx, k, Workload{"Deployment", "apps", "web"})
	if err != nil {
		t.Fatal(err)
	}
	if tree.Object.(*appsv1.Deployment).UID != "web-uid" || len(tree.ReplicaSets.Items) != 1 || tree.ReplicaSets.Items[0].Name != "web-1" ||
		len(tree.Pods.Items) != 1 || tree.Pods.Items[0].Name != "web-1-a" {
		t.Errorf("the Deployment's tree: %+v", tree)
	}
	tree, err = ReadWorkloadTree(ctx, k, Workload{"StatefulSet", "apps", "db"})
	if err != nil || tree.ReplicaSets != nil || len(tree.Pods.Items) != 1 || tree.Pods.Items[0].Name != "db-0" {
		t.Errorf("the StatefulSet's tree: %+v, %v", tree, err)
	}

	for _, tc := range []struct {
		w       Workload
		refuse  string
		wantErr string
		partial bool
	}{
		{Workload{"Deployment", "apps", "gone"}, "", `deployments.apps "gone" not found`, false},
		{Workload{"Job", "apps", "once"}, "", "kind Job is not a workload", false},
		{Workload{"Deployment", "apps", "web"}, "replicasets", "ReplicaSets of Deployment apps/web: replicasets are not for you", true},
		{Workload{"StatefulSet", "apps", "db"}, "pods", "pods of StatefulSet apps/db: pods are not for you", true},
	} {
		k := fake.NewClientset(web, rs, pod, db, dbPod)
		if tc.refuse != "" {
			refuse(k, "list", tc.refuse)
		}
		tree, err := ReadWorkloadTree(ctx, k, tc.w)
		if err == nil || err.Error() != tc.wantErr {
			t.Errorf("%s: error %v, want %q", tc.w, err, tc.wantErr)
		}
		if (tree != nil) != tc.partial || (tree != nil && (tree.Object == nil || tree.Pods != nil)) {
			t.Errorf("%s: tree %+v", tc.w, tree)
		}
	}
}

func TestListNodesAndEvents(t *testing.T) {
	ctx := context.Background()
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"},
		Status: corev1.NodeStatus{Images: []corev1.ContainerImage{{Names: []string{"team/secret-project:1"}}}}}
	ev := func(name, kind, about string) *corev1.Event {
		return &corev1.Event{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "apps"},
			InvolvedObject: corev1.ObjectReference{Kind: kind, Name: about}}
	}
	k := fake.NewClientset(node, ev("e1", "Pod", "web-1-a"), ev("e2", "Pod", "other"), ev("e3", "Deployment", "web"))
	for _, images := range []bool{true, false} {
		nodes, err := ListNodes(ctx, k, images)
		if err != nil || len(nodes.Items) != 1 || (len(nodes.Items[0].Status.Images) > 0) != images {
			t.Errorf("nodes with images %v: %+v, %v", images, nodes, err)
		}
	}
	all, err := ListEvents(ctx, k, "apps", nil)
	if err != nil || len(all.Items) != 3 {
		t.Errorf("every event: %v, %v", all, err)
	}
	some, err := ListEvents(ctx, k, "apps", func(kind, name string) bool { return kind+"/"+name != "Pod/other" })
	var names []string
	for _, e := range some.Items {
		names = append(names, e.Name)
	}
	if err != nil || strings.Join(names, ",") != "e1,e3" {
		t.Errorf("the events kept: %v, %v", names, err)
	}
	refuse(k, "list", "events")
	refuse(k, "list", "nodes")
	if _, err := ListEvents(ctx, k, "apps", nil); err == nil {
		t.Error("refused events: no error")
	}
	if _, err := ListNodes(ctx, k, true); err == nil {
		t.Error("refused nodes: no error")
	}
}
