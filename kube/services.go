package kube

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// LoadBalancerServices lists every Service of type LoadBalancer, in every
// namespace.
func LoadBalancerServices(ctx context.Context, k kubernetes.Interface) ([]corev1.Service, error) {
	list, err := k.CoreV1().Services("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("listing Services: %w", err)
	}
	var out []corev1.Service
	for _, svc := range list.Items {
		if svc.Spec.Type == corev1.ServiceTypeLoadBalancer {
			out = append(out, svc)
		}
	}
	return out, nil
}
