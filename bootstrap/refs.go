package bootstrap

import (
	"github.com/devcluster/devcluster/internal/problem"
	"github.com/devcluster/devcluster/kube"
)

// KubeLoader builds Kubernetes clients for a kubeconfig context: the
// command line's seam for them (Deps.Kube).
type KubeLoader = kube.Loader

// KubeconfigLoader loads clients from a kubeconfig file ("" = client-go's
// rules: $KUBECONFIG, else ~/.kube/config).
func KubeconfigLoader(explicitPath string) KubeLoader { return kube.KubeconfigLoader(explicitPath) }

// ParseWorkloads parses workload references (deployment/web, sts/db,
// ds/agent) as command's arguments; one without a namespace is in
// namespace. Every bad reference is reported at once, as a usage problem.
func ParseWorkloads(command string, refs []string, namespace string) ([]kube.Workload, error) {
	var ws []kube.Workload
	var bad []string
	for _, ref := range refs {
		w, err := kube.ParseWorkload(ref, namespace)
		if err != nil {
			bad = append(bad, err.Error())
			continue
		}
		ws = append(ws, w)
	}
	if len(bad) > 0 {
		return nil, problem.New(problem.Usage, "", &problem.List{Subject: command, Problems: bad}, "run `devcluster "+command+" --help`")
	}
	return ws, nil
}
