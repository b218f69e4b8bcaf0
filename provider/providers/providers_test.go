package providers

import (
	"slices"
	"strings"
	"testing"

	"github.com/devcluster/devcluster/config"
	"github.com/devcluster/devcluster/internal/run/runtest"
	"github.com/devcluster/devcluster/provider"
)

// capabilities lists the optional interfaces p implements.
func capabilities(p provider.Provider) []string {
	var out []string
	for name, ok := range map[string]bool{
		"Resumable":    is[provider.Resumable](p),
		"Stoppable":    is[provider.Stoppable](p),
		"Comparer":     is[provider.Comparer](p),
		"NodeAccess":   is[provider.NodeAccess](p),
		"LogCollector": is[provider.LogCollector](p),
		"Networked":    is[provider.Networked](p),
		"Describer":    is[provider.Describer](p),
		"Installable":  is[provider.Installable](p),
	} {
		if ok {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

func is[T any](p provider.Provider) bool {
	_, ok := p.(T)
	return ok
}

// Every name of config's registry has a provider of that name, which owns
// its clusters as the registry says, and can do what it really can: the
// providers that create clusters everything, existing only describe them.
func TestRegistry(t *testing.T) {
	t.Parallel()
	all := []string{"Comparer", "Describer", "Installable", "LogCollector", "Networked", "NodeAccess", "Resumable", "Stoppable"}
	want := map[string][]string{"minikube": all, "kind": all, "existing": {"Describer"}}
	for _, name := range config.ProviderNames() {
		p, err := New(name, Options{Runner: &runtest.Fake{}, Context: "ctx"})
		if err != nil {
			t.Fatalf("New(%q): %v", name, err)
		}
		info, _ := config.LookupProvider(name)
		if p.Name() != name || p.OwnsClusters() != info.Owned {
			t.Errorf("New(%q) = %s, owns %v; the registry says owned %v", name, p.Name(), p.OwnsClusters(), info.Owned)
		}
		if got := capabilities(p); !slices.Equal(got, want[name]) {
			t.Errorf("%s implements %q, want %q", name, got, want[name])
		}
	}
	if len(constructors) != len(config.ProviderNames()) {
		t.Errorf("%d constructors for %d names", len(constructors), len(config.ProviderNames()))
	}
	if _, err := New("k3d", Options{}); err == nil || !strings.Contains(err.Error(), "supported: minikube, kind, existing") {
		t.Errorf("New(k3d) = %v", err)
	}
}

// The binary of each tool is asked for by the tool's name.
func TestOptionsBinary(t *testing.T) {
	t.Parallel()
	var asked []string
	o := Options{Runner: &runtest.Fake{}, Binary: func(tool string) string { asked = append(asked, tool); return "/opt/" + tool }}
	for _, name := range config.ProviderNames() {
		if _, err := New(name, o); err != nil {
			t.Fatal(err)
		}
	}
	if !slices.Equal(asked, []string{"minikube", "kind"}) {
		t.Errorf("asked for %q", asked)
	}
}

// status's rows come from the provider that made the cluster.
func TestRows(t *testing.T) {
	t.Parallel()
	text := func(rows []provider.Row) string {
		var b strings.Builder
		for _, r := range rows {
			b.WriteString(r.Key + "=" + r.Value + "\n")
		}
		return b.String()
	}
	for _, tc := range []struct {
		name    string
		c       provider.Cluster
		version string
		want    string
	}{
		{"minikube", provider.Cluster{Provider: "minikube", State: provider.Running, IP: "192.168.49.2", KubernetesVersion: "v1.37.2", CPUs: 2, MemoryMB: 4096, Driver: "docker", ContainerRuntime: "containerd"}, "",
			"IP=192.168.49.2\nKUBERNETES=v1.37.2\nRESOURCES=2 CPUs, 4096 MB, driver docker, runtime containerd\n"},
		{"minikube, no limits, insecure registries", provider.Cluster{Provider: "minikube", State: provider.Stopped, InsecureRegistries: []string{"192.168.49.1:5000"}}, "",
			"IP=-\nKUBERNETES=-\nRESOURCES=no CPU limit, no memory limit, driver -, runtime -\nINSECURE REGISTRIES=192.168.49.1:5000\n"},
		{"minikube invalid", provider.Cluster{Provider: "minikube", State: provider.Invalid}, "", ""},
		{"kind", provider.Cluster{Provider: "kind", State: provider.Running, IP: "172.18.0.2", KubernetesVersion: "v1.37.0", NodeNames: []string{"dev-control-plane", "dev-worker"},
			Record: &provider.Record{PortMappings: []config.PortMapping{{ContainerPort: 30080, HostPort: 8080, Protocol: "TCP"}}}}, "v1.37.0",
			"IP=172.18.0.2\nKUBERNETES=v1.37.0\nNODES=dev-control-plane, dev-worker\nPORTS=:8080->30080/TCP\n"},
		{"kind absent", provider.Cluster{Provider: "kind", State: provider.Absent}, "", ""},
		{"kind, not devcluster's (no record)", provider.Cluster{Provider: "kind", State: provider.Running, IP: "172.18.0.3", NodeNames: []string{"x-control-plane"}}, "",
			"IP=172.18.0.3\nKUBERNETES=-\nNODES=x-control-plane\n"},
		{"existing", provider.Cluster{Provider: "existing", State: provider.Running}, "v1.36.1", "KUBERNETES=v1.36.1\n"},
		{"existing, no answer", provider.Cluster{Provider: "existing", State: provider.Invalid}, "", ""},
		{"unknown", provider.Cluster{Provider: "k3d", State: provider.Running}, "v1", ""},
	} {
		if got := text(Rows(&tc.c, tc.version)); got != tc.want {
			t.Errorf("%s: rows\n%s\nwant\n%s", tc.name, got, tc.want)
		}
	}
}
