package kind

import (
	"context"
	"fmt"
	"os"

	"github.com/devcluster/devcluster/internal/problem"
	"github.com/devcluster/devcluster/internal/run"
)

// RunOnNode implements provider.NodeAccess with `docker exec NODE argv…`
// (no shell: the words are passed as they are).
func (k *Kind) RunOnNode(ctx context.Context, name, node string, argv ...string) ([]byte, error) {
	if node == "" || node == name {
		node = controlPlane(name)
	}
	res, err := k.dockerRun(ctx, append([]string{"exec", node}, argv...)...)
	if err != nil {
		return nil, problem.New(problem.Failed, fmt.Sprintf("running %s on node %s of kind cluster %q", argv[0], node, name), err, "")
	}
	return res.Stdout, nil
}

// CopyToNode implements provider.NodeAccess with `docker exec -i NODE cp
// /dev/stdin DST`, as kind writes files on its nodes.
func (k *Kind) CopyToNode(ctx context.Context, name, node, src, dst string) error {
	if node == "" || node == name {
		node = controlPlane(name)
	}
	f, err := os.Open(src)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := k.runner.Run(ctx, run.Cmd{Name: k.docker, Args: []string{"exec", "-i", node, "cp", "/dev/stdin", dst}, Stdin: f}); err != nil {
		return problem.New(problem.Failed, fmt.Sprintf("copying %s to node %s of kind cluster %q", dst, node, name), err, "")
	}
	return nil
}

// Logs implements provider.LogCollector: the control-plane node's container
// log into file.
func (k *Kind) Logs(ctx context.Context, name, file string) error {
	res, err := k.dockerRun(ctx, "logs", controlPlane(name))
	if err != nil {
		return fmt.Errorf("docker logs %s: %w", controlPlane(name), err)
	}
	return os.WriteFile(file, append(res.Stdout, res.Stderr...), 0o600)
}
