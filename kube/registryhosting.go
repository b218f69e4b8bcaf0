package kube

import (
	"context"
	"errors"
	"fmt"

	"gopkg.in/yaml.v3"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	"k8s.io/client-go/kubernetes"
)

// FieldManager is the server-side apply field manager of everything
// devcluster writes.
const FieldManager = "devcluster"

// KEP-1755 names (kubernetes/enhancements, sig-cluster-lifecycle 1755).
const (
	LocalRegistryHostingNamespace = "kube-public"
	LocalRegistryHostingName      = "local-registry-hosting"
	LocalRegistryHostingKey       = "localRegistryHosting.v1"
)

// LocalRegistryHosting is localRegistryHosting.v1: how tools such as Tilt
// and Skaffold find the cluster's local registry.
type LocalRegistryHosting struct {
	// Host is where the host pushes (localhost:<port>).
	Host string `yaml:"host"`
	// HostFromContainerRuntime is what image: fields use.
	HostFromContainerRuntime string `yaml:"hostFromContainerRuntime,omitempty"`
	// HostFromClusterNetwork is what in-cluster pushers use.
	HostFromClusterNetwork string `yaml:"hostFromClusterNetwork,omitempty"`
	// Help is a URL tools show when the registry is missing or failing.
	Help string `yaml:"help,omitempty"`
}

// ApplyLocalRegistryHosting writes kube-public/local-registry-hosting with
// server-side apply, owned by the devcluster field manager.
func ApplyLocalRegistryHosting(ctx context.Context, k kubernetes.Interface, h LocalRegistryHosting) error {
	data, err := yaml.Marshal(h)
	if err != nil {
		return err
	}
	cm := corev1ac.ConfigMap(LocalRegistryHostingName, LocalRegistryHostingNamespace).
		WithLabels(map[string]string{ManagedByLabel: ManagedBy}).
		WithData(map[string]string{LocalRegistryHostingKey: string(data)})
	_, err = k.CoreV1().ConfigMaps(LocalRegistryHostingNamespace).Apply(ctx, cm,
		metav1.ApplyOptions{FieldManager: FieldManager, Force: true})
	if err != nil {
		return fmt.Errorf("applying %s/%s: %w", LocalRegistryHostingNamespace, LocalRegistryHostingName, err)
	}
	return nil
}

// ErrInvalidRegistryHosting is the error of a KEP-1755 ConfigMap whose
// localRegistryHosting.v1 is not YAML (another tool's, or a broken one).
var ErrInvalidRegistryHosting = errors.New("not a valid " + LocalRegistryHostingKey)

// ReadLocalRegistryHosting reads the cluster's KEP-1755 ConfigMap; nil
// without an error when the cluster publishes no local registry. A value
// that cannot be parsed is an error wrapping ErrInvalidRegistryHosting.
func ReadLocalRegistryHosting(ctx context.Context, k kubernetes.Interface) (*LocalRegistryHosting, error) {
	cm, err := k.CoreV1().ConfigMaps(LocalRegistryHostingNamespace).Get(ctx, LocalRegistryHostingName, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var h LocalRegistryHosting
	if err := yaml.Unmarshal([]byte(cm.Data[LocalRegistryHostingKey]), &h); err != nil {
		return nil, fmt.Errorf("%s/%s: %w: %w", LocalRegistryHostingNamespace, LocalRegistryHostingName, ErrInvalidRegistryHosting, err)
	}
	return &h, nil
}
