package bootstrap

import (
	"context"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/devcluster/devcluster/config"
	"github.com/devcluster/devcluster/internal/problem"
	"github.com/devcluster/devcluster/internal/testutil"
	"github.com/devcluster/devcluster/kube"
	"github.com/devcluster/devcluster/manifests"
	"github.com/devcluster/devcluster/provider"
	"github.com/devcluster/devcluster/provider/existing"
)

// A cluster devcluster did not create: up runs no provider command, checks
// the cluster through the context, and leaves another tool's registry
// ConfigMap alone; down removes only what carries devcluster's label and
// deletes no cluster.
func TestExistingClusterIsNeverChanged(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.deps.Provider = existing.New("staging", existing.WithKubeconfig(testutil.Kubeconfig(t, "staging")))
	ctx := context.Background()
	k, _ := f.deps.Kube("staging")
	foreign := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: kube.LocalRegistryHostingName, Namespace: kube.LocalRegistryHostingNamespace,
		Labels: map[string]string{kube.ManagedByLabel: "ctlptl"}}, Data: map[string]string{"localRegistryHosting.v1": "host: localhost:5000\n"}}
	if _, err := k.Kube.CoreV1().ConfigMaps(foreign.Namespace).Create(ctx, foreign, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	userNS := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: manifests.SampleNamespace}}
	if _, err := k.Kube.CoreV1().Namespaces().Create(ctx, userNS, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	on := true
	cfg := f.cfg(func(file *config.File) {
		file.Provider, file.Context = "existing", "staging"
		file.Registry.Enabled, file.Registry.ClusterAddress = &on, "10.1.2.3"
	})
	res, err := Up(ctx, f.deps, cfg, UpOptions{})
	if err != nil {
		t.Fatalf("up: %v", err)
	}
	if res.Cluster.State != provider.Running || res.Cluster.KubeContext != "staging" || res.Kubernetes == nil || !res.Kubernetes.Ready {
		t.Errorf("up result: %+v, %+v", res.Cluster, res.Kubernetes)
	}
	if calls := f.runner.Calls(); len(calls) != 0 {
		t.Errorf("up ran provider commands on an existing cluster: %v", calls)
	}
	cm, _ := k.Kube.CoreV1().ConfigMaps(foreign.Namespace).Get(ctx, foreign.Name, metav1.GetOptions{})
	if cm.Labels[kube.ManagedByLabel] != "ctlptl" || !strings.Contains(cm.Data["localRegistryHosting.v1"], "localhost:5000") {
		t.Errorf("another tool's registry ConfigMap was changed: %+v", cm)
	}
	warned := func(s string) bool {
		return slices.ContainsFunc(f.rec.lines, func(l string) bool { return strings.HasPrefix(l, "warn ") && strings.Contains(l, s) })
	}
	if !warned("managed by ctlptl") || !warned("does not configure the nodes") {
		t.Errorf("report: %v", f.rec.lines)
	}

	// down: the foreign ConfigMap and the unlabelled namespace stay; a
	// namespace devcluster made goes.
	if err := k.Kube.CoreV1().Namespaces().Delete(ctx, manifests.SampleNamespace, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	ours := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: manifests.SampleNamespace, Labels: map[string]string{kube.ManagedByLabel: kube.ManagedBy}}}
	if _, err := k.Kube.CoreV1().Namespaces().Create(ctx, ours, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	down, err := Down(ctx, f.deps, cfg, DownOptions{})
	if err != nil {
		t.Fatalf("down: %v", err)
	}
	if down.Deleted || !slices.Equal(down.Removed, []string{"namespace " + manifests.SampleNamespace}) || len(down.Left) != 1 {
		t.Errorf("down: %+v", down)
	}
	if _, err := k.Kube.CoreV1().ConfigMaps(foreign.Namespace).Get(ctx, foreign.Name, metav1.GetOptions{}); err != nil {
		t.Errorf("down removed another tool's ConfigMap: %v", err)
	}
	if _, err := k.Kube.CoreV1().Nodes().Get(ctx, "dev", metav1.GetOptions{}); err != nil {
		t.Errorf("the cluster's node is gone: %v", err)
	}
	if calls := f.runner.Calls(); len(calls) != 0 {
		t.Errorf("down ran provider commands on an existing cluster: %v", calls)
	}
}

// A context the kubeconfig lacks: status says Absent with the context
// named (exit 3 and advice for a cluster devcluster did not create, from
// StatusError); up refuses it as configuration to mend, before anything.
func TestMissingContextOfAnExistingCluster(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.deps.Provider = existing.New("nope", existing.WithKubeconfig(testutil.Kubeconfig(t, "staging")))
	cfg := f.cfg(func(file *config.File) { file.Provider, file.Context = "existing", "nope" })
	ctx := context.Background()
	st, err := Status(ctx, f.deps, cfg)
	if err != nil || st.Cluster.State != provider.Absent || st.Cluster.KubeconfigOK || st.Kubernetes != nil {
		t.Fatalf("status: %+v %+v, %v", st.Cluster, st.Kubernetes, err)
	}
	verdict := StatusError(st)
	if problem.KindOf(verdict) != problem.NotRunning || !strings.Contains(verdict.Error(), `no context "nope"`) ||
		!strings.Contains(problem.FixOf(verdict), "kubectl config get-contexts") || strings.Contains(problem.FixOf(verdict), "devcluster up") {
		t.Errorf("status verdict: %v (fix %q)", verdict, problem.FixOf(verdict))
	}
	_, err = Up(ctx, f.deps, cfg, UpOptions{})
	if problem.KindOf(err) != problem.Config || !strings.Contains(err.Error(), `no context "nope"`) {
		t.Errorf("up: %v (kind %v)", err, problem.KindOf(err))
	}
	// --recreate of a context that is there deletes nothing either.
	f.deps.Provider = existing.New("staging", existing.WithKubeconfig(testutil.Kubeconfig(t, "staging")))
	cfg = f.cfg(func(file *config.File) { file.Provider, file.Context = "existing", "staging" })
	_, err = Up(ctx, f.deps, cfg, UpOptions{Recreate: true})
	if problem.KindOf(err) != problem.Usage || !strings.Contains(err.Error(), "cannot delete the cluster of context \"staging\"") {
		t.Errorf("up --recreate: %v", err)
	}
}
