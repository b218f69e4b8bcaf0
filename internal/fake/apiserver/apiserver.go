// Package apiserver gives the stand-ins (test-only fakes of minikube and
// docker) a client for the API server the test names in their environment:
// STANDIN_APISERVER (https URL), STANDIN_TOKEN (bearer token) and
// STANDIN_CA_FILE (its CA bundle; without it TLS is not verified).
package apiserver

import (
	"context"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// Client returns a client for the test's API server, or nil when the
// environment names none (unit tests).
func Client(get func(string) string) (kubernetes.Interface, error) {
	host := get("STANDIN_APISERVER")
	if host == "" {
		return nil, nil
	}
	cfg := &rest.Config{Host: host, BearerToken: get("STANDIN_TOKEN")}
	if ca := get("STANDIN_CA_FILE"); ca != "" {
		cfg.TLSClientConfig.CAFile = ca
	} else {
		cfg.TLSClientConfig.Insecure = true
	}
	return kubernetes.NewForConfig(cfg)
}

// WipeWorkloads deletes every namespace but Kubernetes' own: what a deleted
// cluster's workloads become when the test's control plane and a real node
// outlive the cluster the stand-ins pretend to delete.
func WipeWorkloads(ctx context.Context, k kubernetes.Interface) error {
	nss, err := k.CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	keep := map[string]bool{"kube-system": true, "kube-public": true, "kube-node-lease": true, "default": true}
	for _, ns := range nss.Items {
		if !keep[ns.Name] {
			if err := k.CoreV1().Namespaces().Delete(ctx, ns.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
				return err
			}
		}
	}
	return nil
}
