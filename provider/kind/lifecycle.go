package kind

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/devcluster/devcluster/internal/problem"
	"github.com/devcluster/devcluster/internal/run"
	"github.com/devcluster/devcluster/provider"
)

// Create implements provider.Provider: `kind create cluster` with the
// generated configuration, waiting for the control plane, then the
// configuration is recorded on the control-plane node.
func (k *Kind) Create(ctx context.Context, want provider.Spec, p provider.Progress) error {
	dir, err := os.MkdirTemp("", "devcluster-kind-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	file := filepath.Join(dir, "kind.yaml")
	cfg := GenerateConfig(want)
	if err := os.WriteFile(file, cfg, 0o600); err != nil {
		return err
	}
	wait := "5m"
	if want.Wait > 0 {
		wait = want.Wait.String()
	}
	if _, err := k.kind(ctx, p, append([]string{"create", "cluster", "--name", want.Name, "--config", file, "--wait", wait}, k.kubeconfigArgs()...)...); err != nil {
		fix := "see kind's output above; `kind export logs --name " + want.Name + "` collects the nodes' logs"
		if strings.Contains(errorOutput(err), "already exist") {
			fix = "a kind cluster of that name was created meanwhile: run `devcluster up` again to see whose it is"
		}
		return problem.New(problem.Failed, fmt.Sprintf("creating kind cluster %q", want.Name), err, fix)
	}
	if err := k.CopyToNode(ctx, want.Name, controlPlane(want.Name), file, recordPath); err != nil {
		// Without its record the cluster would pass for someone else's,
		// which devcluster never deletes: it goes now, even when up was
		// interrupted (bounded).
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
		defer cancel()
		fix := "the cluster was deleted again; run `devcluster up` to retry"
		if derr := k.Delete(dctx, want.Name, p); derr != nil {
			err = errors.Join(err, derr)
			fix = "delete it with `kind delete cluster --name " + want.Name + "` and run `devcluster up` again"
		}
		return problem.New(problem.Failed, "recording the cluster's configuration on its node", err, fix)
	}
	return nil
}

// kubeconfigArgs are kind's --kubeconfig for the commands that write or
// delete the context (create, delete, export kubeconfig).
func (k *Kind) kubeconfigArgs() []string {
	if k.kubeconfig == "" {
		return nil
	}
	return []string{"--kubeconfig", k.kubeconfig}
}

func errorOutput(err error) string {
	var re *run.Error
	if errors.As(err, &re) {
		return re.Output()
	}
	return err.Error()
}

// Start implements provider.Resumable: kind has no command for it, so the
// node containers are started with docker.
func (k *Kind) Start(ctx context.Context, name string, p provider.Progress) error {
	return k.nodesDo(ctx, name, p, "start")
}

// Stop implements provider.Stoppable: kind has no command for it, so the
// node containers are stopped with docker (as kind's docs advise); Start
// starts them again.
func (k *Kind) Stop(ctx context.Context, name string, p provider.Progress) error {
	return k.nodesDo(ctx, name, p, "stop")
}

// Unpause implements provider.Resumable with `docker unpause`.
func (k *Kind) Unpause(ctx context.Context, name string, p provider.Progress) error {
	return k.nodesDo(ctx, name, p, "unpause")
}

func (k *Kind) nodesDo(ctx context.Context, name string, p provider.Progress, verb string) error {
	res, err := k.kind(ctx, nil, "get", "nodes", "--name", name)
	if err != nil {
		return problem.New(problem.Failed, "listing the nodes of kind cluster "+name, err, "")
	}
	nodes := run.Lines(res.Stdout)
	if p != nil {
		p(fmt.Sprintf("docker %s %s", verb, strings.Join(nodes, " ")))
	}
	if _, err := k.dockerRun(ctx, append([]string{verb}, nodes...)...); err != nil {
		fix := "run `devcluster up --recreate` if the node containers cannot be started"
		if verb == "stop" {
			fix = "run `docker stop` on the nodes `kind get nodes --name " + name + "` lists to see the problem"
		}
		return problem.New(problem.Failed, fmt.Sprintf("docker %s of the nodes of kind cluster %q", verb, name), err, fix)
	}
	return nil
}

// RepairKubeconfig implements provider.Provider: `kind export kubeconfig`.
func (k *Kind) RepairKubeconfig(ctx context.Context, name string) error {
	if _, err := k.kind(ctx, nil, append([]string{"export", "kubeconfig", "--name", name}, k.kubeconfigArgs()...)...); err != nil {
		return problem.New(problem.Failed, fmt.Sprintf("writing the kubeconfig context %q", Context(name)), err, "")
	}
	return nil
}

// Delete implements provider.Provider: `kind delete cluster` (which also
// removes its kubeconfig context).
func (k *Kind) Delete(ctx context.Context, name string, p provider.Progress) error {
	if _, err := k.kind(ctx, p, append([]string{"delete", "cluster", "--name", name}, k.kubeconfigArgs()...)...); err != nil {
		return problem.New(problem.Failed, fmt.Sprintf("deleting kind cluster %q", name), err, "run `kind delete cluster --name "+name+"` yourself to see the problem")
	}
	return nil
}
