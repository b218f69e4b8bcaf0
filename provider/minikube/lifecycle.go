package minikube

import (
	"context"
	"fmt"
	"strconv"

	"github.com/devcluster/devcluster/config"
	"github.com/devcluster/devcluster/internal/problem"
	"github.com/devcluster/devcluster/provider"
)

// StartArgs returns the `minikube start` arguments for a new cluster.
func StartArgs(want provider.Spec) []string {
	args := []string{"start", "-p", want.Name,
		"--cpus=" + want.CPUs.String(),
		"--memory=" + memoryFlag(want.Memory),
		"--container-runtime=" + want.ContainerRuntime,
	}
	if want.Driver != "" {
		args = append(args, "--driver="+want.Driver)
	}
	if want.KubernetesVersion != "" {
		args = append(args, "--kubernetes-version="+want.KubernetesVersion)
	}
	for _, r := range want.InsecureRegistries {
		args = append(args, "--insecure-registry="+r)
	}
	// --interactive=false: never prompt (CI has no one to answer).
	args = append(args, "--interactive=false", "--output=json")
	return append(args, want.ExtraStartArgs...)
}

func memoryFlag(m config.Memory) string {
	if m.Special != "" {
		return m.Special
	}
	return strconv.Itoa(m.MB) + "mb"
}

// Create implements provider.Provider.
func (m *Minikube) Create(ctx context.Context, want provider.Spec, p provider.Progress) error {
	res, err := m.run(ctx, p, StartArgs(want)...)
	if err != nil {
		return startError(fmt.Sprintf("creating minikube cluster %q", want.Name), want.Name, res, err)
	}
	return nil
}

// Start implements provider.Resumable: a plain `start -p NAME` resumes a
// stopped profile with its saved settings.
func (m *Minikube) Start(ctx context.Context, name string, p provider.Progress) error {
	res, err := m.run(ctx, p, "start", "-p", name, "--interactive=false", "--output=json")
	if err != nil {
		return startError(fmt.Sprintf("starting minikube cluster %q", name), name, res, err)
	}
	return nil
}

// Stop implements provider.Stoppable: `minikube stop -p NAME` keeps the
// profile and its disk; `minikube start` (Start) resumes it.
func (m *Minikube) Stop(ctx context.Context, name string, p provider.Progress) error {
	if _, err := m.run(ctx, p, "stop", "-p", name); err != nil {
		return problem.New(problem.Failed, fmt.Sprintf("stopping minikube cluster %q", name), err,
			orGone(err, "run `minikube stop -p "+name+"` to see the problem"))
	}
	return nil
}

// Unpause implements provider.Resumable.
func (m *Minikube) Unpause(ctx context.Context, name string, p provider.Progress) error {
	if _, err := m.run(ctx, p, "unpause", "-p", name); err != nil {
		return problem.New(problem.Failed, fmt.Sprintf("unpausing minikube cluster %q", name), err,
			orGone(err, "run `minikube unpause -p "+name+"` to see the problem"))
	}
	return nil
}

// RepairKubeconfig implements provider.Provider.
func (m *Minikube) RepairKubeconfig(ctx context.Context, name string) error {
	if _, err := m.run(ctx, nil, "update-context", "-p", name); err != nil {
		return problem.New(problem.Failed, fmt.Sprintf("updating the kubeconfig context %q", name), err, orGone(err, ""))
	}
	return nil
}

// Delete implements provider.Provider.
func (m *Minikube) Delete(ctx context.Context, name string, p provider.Progress) error {
	if _, err := m.run(ctx, p, "delete", "-p", name); err != nil {
		return problem.New(problem.Failed, fmt.Sprintf("deleting minikube cluster %q", name), err,
			"run `minikube delete -p "+name+"` yourself to see the problem")
	}
	return nil
}
