package kube

import (
	"context"
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
