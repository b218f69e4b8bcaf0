package minikube

import (
	"fmt"
	"strconv"

	"github.com/devcluster/devcluster/internal/fake/apiserver"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// client returns a client for the test's API server, or nil when the test
// gave no API server (unit tests).
func (s *invocation) client() (kubernetes.Interface, error) {
	return apiserver.Client(s.env.get)
}

// registerNode creates the Node object minikube's kubelet would register:
// named after the profile, with the profile's IP and resources. kwok (which
// manages all nodes in the end-to-end tier) makes it Ready.
func (s *invocation) registerNode(cc *clusterConfig) error {
	k, err := s.client()
	if err != nil || k == nil {
		return err
	}
	ip := cc.Nodes[0].IP
	capacity := corev1.ResourceList{
		corev1.ResourceCPU:    resource.MustParse(strconv.Itoa(max(cc.CPUs, 2))),
		corev1.ResourceMemory: resource.MustParse(fmt.Sprintf("%dMi", max(cc.Memory, 2048))),
		corev1.ResourcePods:   resource.MustParse("110"),
	}
	n := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name: cc.Name,
			Labels: map[string]string{
				"kubernetes.io/hostname":                cc.Name,
				"kubernetes.io/os":                      "linux",
				"minikube.k8s.io/name":                  cc.Name,
				"minikube.k8s.io/primary":               "true",
				"node-role.kubernetes.io/control-plane": "",
				"type":                                  "kwok",
			},
			Annotations: map[string]string{"kwok.x-k8s.io/node": "fake"},
		},
		Status: corev1.NodeStatus{
			Capacity:    capacity,
			Allocatable: capacity,
			Addresses: []corev1.NodeAddress{
				{Type: corev1.NodeInternalIP, Address: ip},
				{Type: corev1.NodeHostName, Address: cc.Name},
			},
		},
	}
	if s.env.get("STANDIN_REAL_NODE") != "" {
		// A real kubelet registers itself.
		return nil
	}
	_, err = k.CoreV1().Nodes().Create(s.ctx, n, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		return nil
	}
	return err
}

func (s *invocation) unregisterNode(name string) error {
	k, err := s.client()
	if err != nil || k == nil {
		return err
	}
	err = k.CoreV1().Nodes().Delete(s.ctx, name, metav1.DeleteOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}

// wipeWorkloads emulates the end of a deleted cluster's workloads on a real
// node (STANDIN_REAL_NODE): a real `minikube delete` destroys the machine, so
// nothing the user deployed keeps running. The control plane is shared with
// the test, so user namespaces are deleted and the test can check that the
// node's containers are gone.
func (s *invocation) wipeWorkloads() error {
	if s.env.get("STANDIN_REAL_NODE") == "" {
		return nil
	}
	k, err := s.client()
	if err != nil || k == nil {
		return err
	}
	return apiserver.WipeWorkloads(s.ctx, k)
}
