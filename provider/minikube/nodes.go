package minikube

import (
	"bytes"
	"context"
	"fmt"

	"github.com/devcluster/devcluster/internal/problem"
	"github.com/devcluster/devcluster/internal/run"
)

// RunOnNode implements provider.NodeAccess with `minikube ssh`, which runs
// one command line through the node's shell as the docker user: every word
// is quoted with run.ShellQuote and the line is prefixed with sudo. Output
// lines of minikube's native ssh client end in CRLF; they are returned with
// LF.
func (m *Minikube) RunOnNode(ctx context.Context, name, node string, argv ...string) ([]byte, error) {
	args := []string{"ssh", "-p", name}
	if node != "" && node != name {
		args = append(args, "-n", node)
	}
	args = append(args, "--", "sudo "+run.ShellJoin(argv))
	res, err := m.run(ctx, nil, args...)
	if err != nil {
		return nil, problem.New(problem.Failed, fmt.Sprintf("running %s on node %s of cluster %q", argv[0], orNone(node), name), err,
			orGone(err, "check that `minikube ssh -p "+name+"` works"))
	}
	return bytes.ReplaceAll(res.Stdout, []byte("\r\n"), []byte("\n")), nil
}

// CopyToNode implements provider.NodeAccess with `minikube cp SRC
// [NODE:]DST` (scp as root for VM drivers, `docker cp` for the docker and
// podman drivers, which needs DST's directory to exist).
func (m *Minikube) CopyToNode(ctx context.Context, name, node, src, dst string) error {
	target := dst
	if node != "" && node != name {
		target = node + ":" + dst
	}
	if _, err := m.run(ctx, nil, "cp", "-p", name, src, target); err != nil {
		return problem.New(problem.Failed, fmt.Sprintf("copying %s to node %s of cluster %q", dst, orNone(node), name), err,
			"check that `minikube cp -p "+name+"` works")
	}
	return nil
}

// Logs implements provider.LogCollector with `minikube logs --file`.
func (m *Minikube) Logs(ctx context.Context, name, file string) error {
	if _, err := m.run(ctx, nil, "logs", "-p", name, "--file", file); err != nil {
		return fmt.Errorf("minikube logs: %w", err)
	}
	return nil
}
