//go:build linux

package harness

import (
	"context"
	"fmt"
	"os/exec"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Ctr runs the node's ctr in the node's namespaces (its network, and its
// mount namespace, where /etc/containerd is the node's) against the node's
// containerd, in the k8s.io namespace the kubelet uses.
func (n *RealNode) Ctr(ctx context.Context, args ...string) (string, error) {
	argv := append(n.ExecPrefix(), append([]string{n.bins.Ctr, "--address", n.Socket, "-n", "k8s.io"}, args...)...)
	out, err := exec.CommandContext(ctx, argv[0], argv[1:]...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("ctr %v: %w\n%s", args, err, out)
	}
	return string(out), nil
}

// Reregister restarts the node's kubelet, so it registers the node again,
// and kube-proxy, which follows its Node object, and waits until the node
// is Ready: a `devcluster down` (the stand-in's minikube delete)
// unregisters it, and neither notices by itself.
func (n *RealNode) Reregister(ctx context.Context, cp *ControlPlane) error {
	for i, p := range n.procs {
		if p.Name != "kubelet" && p.Name != "kube-proxy" {
			continue
		}
		args := p.cmd.Args[1:]
		p.Stop(10 * time.Second)
		np, err := startProcess(n.Dir, p.Name, p.cmd.Args[0], args, p.cmd.Env)
		if err != nil {
			return err
		}
		n.procs[i] = np
	}
	client, err := cp.Client()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	for {
		node, err := client.CoreV1().Nodes().Get(ctx, n.Name, metav1.GetOptions{})
		if err == nil {
			for _, c := range node.Status.Conditions {
				if c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue {
					return nil
				}
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the node %s did not register again: %w", n.Name, ctx.Err())
		case <-time.After(500 * time.Millisecond):
		}
	}
}
