package harness

import (
	"context"
	"fmt"
	"os/exec"
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
