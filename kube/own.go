package kube

import (
	"context"
	"encoding/json"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// ManagedByLabel marks what devcluster created in a cluster (with the
// value ManagedBy), so that on a cluster it did not create it removes only
// its own objects.
const (
	ManagedByLabel = "app.kubernetes.io/managed-by"
	ManagedBy      = "devcluster"
)

// RegistryHostingOwner says who manages kube-public/local-registry-hosting:
// "" when it does not exist, else its managed-by label ("unlabelled" when it
// has none).
func RegistryHostingOwner(ctx context.Context, k kubernetes.Interface) (string, error) {
	cm, err := k.CoreV1().ConfigMaps(LocalRegistryHostingNamespace).Get(ctx, LocalRegistryHostingName, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return "", nil
	case err != nil:
		return "", err
	}
	if v := cm.Labels[ManagedByLabel]; v != "" {
		return v, nil
	}
	return "unlabelled", nil
}

// RemoveOwn deletes the objects devcluster creates in a cluster —
// kube-public/local-registry-hosting and the given namespaces — when they
// carry devcluster's managed-by label, and leaves everything else. It
// returns what it removed and what it left, with the reason.
func RemoveOwn(ctx context.Context, k kubernetes.Interface, namespaces []string) (removed, left []string, err error) {
	what := LocalRegistryHostingNamespace + "/" + LocalRegistryHostingName
	switch owner, err := RegistryHostingOwner(ctx, k); {
	case err != nil:
		return removed, left, fmt.Errorf("reading %s: %w", what, err)
	case owner == ManagedBy:
		if err := k.CoreV1().ConfigMaps(LocalRegistryHostingNamespace).Delete(ctx, LocalRegistryHostingName, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			return removed, left, fmt.Errorf("deleting ConfigMap %s: %w", what, err)
		}
		removed = append(removed, "ConfigMap "+what)
	case owner != "":
		left = append(left, fmt.Sprintf("ConfigMap %s (managed by %s)", what, owner))
	}
	for _, ns := range namespaces {
		n, err := k.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			continue
		case err != nil:
			return removed, left, fmt.Errorf("reading namespace %s: %w", ns, err)
		case n.Labels[ManagedByLabel] != ManagedBy:
			left = append(left, fmt.Sprintf("namespace %s (not created by devcluster)", ns))
			continue
		}
		if err := k.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			return removed, left, fmt.Errorf("deleting namespace %s: %w", ns, err)
		}
		removed = append(removed, "namespace "+ns)
	}
	return removed, left, nil
}

// RemoveOwnClusterRoleBindings deletes the named ClusterRoleBindings that
// carry devcluster's managed-by label, and leaves the others (another
// tool's of the same name), with the reason.
func RemoveOwnClusterRoleBindings(ctx context.Context, k kubernetes.Interface, names []string) (removed, left []string, err error) {
	for _, name := range names {
		crb, err := k.RbacV1().ClusterRoleBindings().Get(ctx, name, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			continue
		case err != nil:
			return removed, left, fmt.Errorf("reading ClusterRoleBinding %s: %w", name, err)
		case crb.Labels[ManagedByLabel] != ManagedBy:
			left = append(left, fmt.Sprintf("ClusterRoleBinding %s (not created by devcluster)", name))
			continue
		}
		uid := crb.UID
		if err := k.RbacV1().ClusterRoleBindings().Delete(ctx, name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}}); err != nil && !apierrors.IsNotFound(err) {
			return removed, left, fmt.Errorf("deleting ClusterRoleBinding %s: %w", name, err)
		}
		removed = append(removed, "ClusterRoleBinding "+name)
	}
	return removed, left, nil
}

// WithdrawServiceAnnotations removes annotation key from every Service on
// which ServiceFieldManager set it (the forwards `service` asked for), and
// leaves it where anyone else did; it returns the Services it changed.
func WithdrawServiceAnnotations(ctx context.Context, k kubernetes.Interface, key string) ([]string, error) {
	list, err := k.CoreV1().Services("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("listing Services: %w", err)
	}
	var out []string
	for i := range list.Items {
		svc := &list.Items[i]
		if _, ok := svc.Annotations[key]; !ok || !ownsAnnotation(svc.ManagedFields, ServiceFieldManager, key) {
			continue
		}
		if _, err := SetServiceAnnotation(ctx, k, svc, key, nil); err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
			return out, err
		}
		out = append(out, svc.Namespace+"/"+svc.Name)
	}
	return out, nil
}

// ownsAnnotation reports whether manager owns metadata.annotations[key].
func ownsAnnotation(mfs []metav1.ManagedFieldsEntry, manager, key string) bool {
	for _, mf := range mfs {
		if mf.Manager != manager || mf.FieldsV1 == nil {
			continue
		}
		var f struct {
			Metadata struct {
				Annotations map[string]any `json:"f:annotations"`
			} `json:"f:metadata"`
		}
		if json.Unmarshal(mf.FieldsV1.GetRawBytes(), &f) == nil {
			if _, ok := f.Metadata.Annotations["f:"+key]; ok {
				return true
			}
		}
	}
	return false
}
