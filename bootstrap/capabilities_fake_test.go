package bootstrap

import (
	"context"
	"strings"
	"testing"

	"k8s.io/client-go/kubernetes/fake"

	"github.com/devcluster/devcluster/config"
	"github.com/devcluster/devcluster/internal/problem"
	"github.com/devcluster/devcluster/kube"
	"github.com/devcluster/devcluster/loadbalancer"
	"github.com/devcluster/devcluster/provider"
)

// coreOnly is a provider with the core interface and nothing else: what
// bootstrap does with it is what it does for any provider without a
// capability.
type coreOnly struct {
	owns  bool
	state provider.State
	calls []string
}

func (p *coreOnly) Name() string       { return "core" }
func (p *coreOnly) OwnsClusters() bool { return p.owns }
func (p *coreOnly) EnsureInstalled(context.Context) (string, error) {
	return "v1", nil
}
func (p *coreOnly) Get(_ context.Context, name string) (*provider.Cluster, error) {
	return &provider.Cluster{Name: name, Provider: "core", State: p.state, IP: "10.1.2.3", KubeContext: name, KubeconfigOK: true, InsecureRegistries: []string{}}, nil
}
func (p *coreOnly) Create(context.Context, provider.Spec, provider.Progress) error {
	p.calls = append(p.calls, "create")
	p.state = provider.Running
	return nil
}
func (p *coreOnly) Delete(context.Context, string, provider.Progress) error {
	p.calls = append(p.calls, "delete")
	return nil
}
func (p *coreOnly) RepairKubeconfig(context.Context, string) error { return nil }

func upStateOf(p provider.Provider) *upState {
	return &upState{deps: Deps{Provider: p, Report: &recorder{}}, cfg: &config.Config{Name: "dev", Registry: config.Registry{Port: 5000}}}
}

// A provider without Resumable cannot start a stopped cluster: up says so
// (exit 3) instead of calling what is not there.
func TestCoreOnlyProviderIsNotStarted(t *testing.T) {
	p := &coreOnly{owns: true, state: provider.Stopped}
	_, err := ensureCluster(context.Background(), upStateOf(p))
	if problem.KindOf(err) != problem.NotRunning || !strings.Contains(err.Error(), "provider core does not start clusters") {
		t.Errorf("ensureCluster = %v (kind %v)", err, problem.KindOf(err))
	}
	if len(p.calls) != 0 {
		t.Errorf("called %q", p.calls)
	}
}

// Without Comparer nothing drifts; without Describer up's line is the
// plain one; a created cluster is used.
func TestCoreOnlyProviderIsCreatedAndSummarised(t *testing.T) {
	p := &coreOnly{owns: true, state: provider.Absent}
	s := upStateOf(p)
	got, err := ensureCluster(context.Background(), s)
	if err != nil || got != "created (10.1.2.3, Kubernetes -)" || strings.Join(p.calls, ",") != "create" {
		t.Errorf("ensureCluster = %q, %v; calls %q", got, err, p.calls)
	}
	if diffs := diff(p, provider.Spec{Name: "dev", CPUs: config.CPUs{Count: 8}}, s.cluster); len(diffs) != 0 {
		t.Errorf("diff = %v, want none from a provider that compares nothing", diffs)
	}
}

// Without Networked there is no node IP, no rule for the registry's
// address (registry.clusterAddress is needed) and no container network;
// a provider that does not own its clusters makes auto mean node.
func TestCoreOnlyProviderNetwork(t *testing.T) {
	p := &coreOnly{owns: false, state: provider.Running}
	c, _ := p.Get(context.Background(), "dev")
	if ip, err := nodeIP(context.Background(), p, "dev"); ip != "" || err != nil {
		t.Errorf("nodeIP = %q, %v", ip, err)
	}
	cfg := &config.Config{}
	if _, err := clusterAddress(p, cfg, c); err == nil || !strings.Contains(err.Error(), "set registry.clusterAddress") {
		t.Errorf("clusterAddress = %v", err)
	}
	cfg.Registry.ClusterAddress = "10.0.0.1"
	if addr, err := clusterAddress(p, cfg, c); addr != "10.0.0.1" || err != nil {
		t.Errorf("clusterAddress = %q, %v", addr, err)
	}
	pl := platformOf(Deps{Provider: p, Platform: loadbalancer.Platform{GOOS: "darwin"}}, c)
	if pl.Containers || !pl.External || pl.Provider != "core" {
		t.Errorf("platformOf = %+v", pl)
	}
	if ch := loadbalancer.ResolveAddress(context.Background(), loadbalancer.AddressAuto, pl, "", nil, nil); ch.Address != loadbalancer.AddressNode || !strings.Contains(ch.Reason, "provider core") {
		t.Errorf("ResolveAddress = %+v", ch)
	}
}

// Without NodeAccess nothing is written on the nodes: up warns that they
// must trust the registry themselves.
func TestCoreOnlyProviderNodesAreLeftAlone(t *testing.T) {
	p := &coreOnly{owns: false, state: provider.Running}
	s := upStateOf(p)
	s.cluster, _ = p.Get(context.Background(), "dev")
	s.cluster.ContainerRuntime = "containerd"
	s.registry = &RegistrySummary{Host: "localhost:5000", ClusterHost: "10.0.0.1:5000"}
	s.clients = &kube.Clients{Kube: fake.NewClientset()}
	got, err := wireRegistry(context.Background(), s)
	if err != nil || got != "kube-public/local-registry-hosting" {
		t.Errorf("wireRegistry = %q, %v; want only the ConfigMap", got, err)
	}
	rec := s.deps.Report.(*recorder)
	if !strings.Contains(strings.Join(rec.lines, "\n"), "warn devcluster does not configure the nodes of a cluster it did not create") {
		t.Errorf("no warning about the nodes:\n%s", strings.Join(rec.lines, "\n"))
	}
}
