package bootstrap

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/devcluster/devcluster/config"
	"github.com/devcluster/devcluster/internal/testutil"
	"github.com/devcluster/devcluster/kube"
	"github.com/devcluster/devcluster/loadbalancer"
	"github.com/devcluster/devcluster/manifests"
	"github.com/devcluster/devcluster/provider/existing"
)

// forwardBy makes a Service and has manager set its forward annotation,
// as `service` (ServiceFieldManager) or `kubectl annotate` do.
func forwardBy(ctx context.Context, k *kube.Clients, name, manager string) error {
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "apps", Annotations: map[string]string{"team": "payments"}},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 80}}}}
	if err := create(ctx, k, svc); err != nil {
		return err
	}
	body := `{"metadata":{"annotations":{"` + loadbalancer.ForwardAnnotation + `":"true"}}}`
	_, err := k.Kube.CoreV1().Services("apps").Patch(ctx, name, types.StrategicMergePatchType, []byte(body), metav1.PatchOptions{FieldManager: manager})
	return err
}

// down on a cluster devcluster did not create removes the dashboard it
// installed — its namespace and its ClusterRoleBinding, each only with
// devcluster's label — and withdraws the forwards `service` asked for, but
// not one someone else set.
func TestDownOnExistingRemovesTheDashboardAndTheForwards(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name        string
		crbLabelled bool
		wantRemoved []string
		wantLeft    []string
	}{
		{"all devcluster's", true,
			[]string{"the forward of Service apps/asked", "namespace " + manifests.DashboardNamespace, "ClusterRoleBinding " + manifests.DashboardClusterRoleBinding},
			nil},
		{"a binding of the same name someone else made", false,
			[]string{"the forward of Service apps/asked", "namespace " + manifests.DashboardNamespace},
			[]string{"ClusterRoleBinding " + manifests.DashboardClusterRoleBinding + " (not created by devcluster)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			f.deps.Provider = existing.New("staging", existing.WithKubeconfig(testutil.Kubeconfig(t, "staging")))
			ctx := context.Background()
			k, _ := f.deps.Kube("staging")
			crb := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: manifests.DashboardClusterRoleBinding},
				RoleRef: rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "cluster-admin"}}
			if tc.crbLabelled {
				crb.Labels = map[string]string{kube.ManagedByLabel: kube.ManagedBy}
			}
			for _, err := range []error{
				create(ctx, k, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: manifests.DashboardNamespace, Labels: map[string]string{kube.ManagedByLabel: kube.ManagedBy}}}),
				create(ctx, k, crb),
				forwardBy(ctx, k, "asked", kube.ServiceFieldManager),
				forwardBy(ctx, k, "by-hand", "kubectl-annotate"),
			} {
				if err != nil {
					t.Fatal(err)
				}
			}
			cfg := f.cfg(func(file *config.File) { file.Provider, file.Context = "existing", "staging" })
			down, err := Down(ctx, f.deps, cfg, DownOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(down.Removed, tc.wantRemoved) || !slices.Equal(down.Left, tc.wantLeft) {
				t.Errorf("removed %q, left %q; want %q, %q", down.Removed, down.Left, tc.wantRemoved, tc.wantLeft)
			}
			if _, err := k.Kube.CoreV1().Namespaces().Get(ctx, manifests.DashboardNamespace, metav1.GetOptions{}); err == nil {
				t.Error("the dashboard's namespace is still there")
			}
			_, err = k.Kube.RbacV1().ClusterRoleBindings().Get(ctx, crb.Name, metav1.GetOptions{})
			if tc.crbLabelled == (err == nil) {
				t.Errorf("ClusterRoleBinding: %v (labelled %v)", err, tc.crbLabelled)
			}
			asked, _ := k.Kube.CoreV1().Services("apps").Get(ctx, "asked", metav1.GetOptions{})
			byHand, _ := k.Kube.CoreV1().Services("apps").Get(ctx, "by-hand", metav1.GetOptions{})
			if loadbalancer.WantsForward(asked) || asked.Annotations["team"] != "payments" {
				t.Errorf("the forward service asked for is not withdrawn (or more went): %v", asked.Annotations)
			}
			if !loadbalancer.WantsForward(byHand) {
				t.Errorf("a forward someone else set was withdrawn: %v", byHand.Annotations)
			}
		})
	}
}

// create makes obj with the fixture's typed client.
func create(ctx context.Context, k *kube.Clients, obj any) error {
	var err error
	switch o := obj.(type) {
	case *corev1.Namespace:
		_, err = k.Kube.CoreV1().Namespaces().Create(ctx, o, metav1.CreateOptions{})
	case *rbacv1.ClusterRoleBinding:
		_, err = k.Kube.RbacV1().ClusterRoleBindings().Create(ctx, o, metav1.CreateOptions{})
	case *corev1.Service:
		_, err = k.Kube.CoreV1().Services(o.Namespace).Create(ctx, o, metav1.CreateOptions{})
	}
	return err
}

// A namespace-scoped user may not list Services in every namespace: down
// says the forwards are left and still removes the rest.
func TestDownOnExistingWithoutClusterWideServiceList(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.deps.Provider = existing.New("staging", existing.WithKubeconfig(testutil.Kubeconfig(t, "staging")))
	ctx := context.Background()
	k, _ := f.deps.Kube("staging")
	k.Kube.(*fake.Clientset).PrependReactor("list", "services", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if a.GetNamespace() == "" {
			return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: "services"}, "", errors.New("cluster scope"))
		}
		return false, nil, nil
	})
	if err := create(ctx, k, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: manifests.DashboardNamespace, Labels: map[string]string{kube.ManagedByLabel: kube.ManagedBy}}}); err != nil {
		t.Fatal(err)
	}
	cfg := f.cfg(func(file *config.File) { file.Provider, file.Context = "existing", "staging" })
	down, err := Down(ctx, f.deps, cfg, DownOptions{})
	if err != nil {
		t.Fatalf("down: %v", err)
	}
	if !slices.Contains(down.Removed, "namespace "+manifests.DashboardNamespace) || len(down.Left) != 1 || !strings.Contains(down.Left[0], "forbidden") {
		t.Errorf("removed %q, left %q", down.Removed, down.Left)
	}
}
