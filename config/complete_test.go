package config

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/devcluster/devcluster/internal/problem"
)

// Complete checks each part of the configuration on its own (the flags,
// the provider's settings, the nodes, the machine, the runtime, the
// registry, the LoadBalancer, the workloads, install and the dashboard),
// and still reports every problem of every part at once: the flags' first,
// then the file's in line order.
func TestCompleteReportsEveryPartAtOnce(t *testing.T) {
	doc := `apiVersion: devcluster.dev/v1alpha1
kind: Cluster
name: Bad_Name
context: other
workers: 1
portMappings:
  - containerPort: 0
driver: hyperdrive
cpus: "1"
memory: 1000mb
containerRuntime: rkt
kubernetesVersion: one.two
insecureRegistries: ["ftp://x:5000"]
extraStartArgs: ["--memory=8g"]
wait: forever
registry:
  port: 70000
  listenAddresses: [localhost]
loadBalancer:
  ip: not-an-ip
workloads:
  timeout: "0s"
install:
  kindURL: "ftp://mirror/kind"
dashboard:
  image: "NOT AN IMAGE"
`
	src, err := Decode("devcluster.yaml", []byte(doc))
	if src == nil {
		t.Fatal(err)
	}
	c, err := Complete(src, Overrides{Manifests: []string{""}, Samples: true, NoSamples: true})
	if err == nil {
		t.Fatalf("Complete = %+v, want every problem", c)
	}
	want := []string{
		"devcluster.yaml: 21 problems:",
		"  - --manifest: the path is empty",
		"  - --samples and --no-samples contradict each other; give one of them",
		`  - line 3: name: invalid name "Bad_Name": use letters, digits and dashes, at least 2 characters, starting and ending with a letter or digit`,
		`  - line 4: context: only for provider existing: minikube names its context after the cluster ("Bad_Name")`,
		"  - line 5: workers: only for provider kind",
		"  - line 6: portMappings: only for provider kind (minikube: `minikube service` or the LoadBalancer IP; existing: the cluster's own)",
		"  - line 7: portMappings[0].containerPort: invalid port 0: use 1-65535",
		`  - line 8: driver: unknown driver "hyperdrive"; minikube drivers are ` + strings.Join(Drivers, ", "),
		"  - line 9: cpus: requested cpu count 1 is less than the minimum allowed of 2",
		"  - line 10: memory: requested memory allocation 1000MiB is less than the usable minimum of 1800MB",
		`  - line 11: containerRuntime: invalid container runtime "rkt"; valid runtimes are containerd, docker, cri-o`,
		`  - line 12: kubernetesVersion: invalid kubernetesVersion "one.two": use v1.35.1, 1.35.1, 1.35, stable or latest`,
		`  - line 13: insecureRegistries[0]: invalid insecure registry "ftp://x:5000": use <ip>[:<port>], <hostname>[:<port>] or <network>/<netmask>`,
		`  - line 14: extraStartArgs[0]: extraStartArgs entry "--memory=8g": set the "memory" field instead, so drift is checked`,
		`  - line 15: wait: invalid duration "forever": use a positive duration such as 90s or 5m`,
		"  - line 17: registry.port: invalid port 70000: use 1-65535",
		`  - line 18: registry.listenAddresses[0]: invalid address "localhost": use an IP address of this host (no port)`,
		`  - line 20: loadBalancer.ip: invalid IP "not-an-ip"`,
		`  - line 22: workloads.timeout: invalid duration "0s": use a positive duration such as 5m`,
		`  - line 24: install.kindURL: invalid URL "ftp://mirror/kind": use an http:// or https:// URL`,
		`  - line 26: dashboard.image: invalid image reference "NOT AN IMAGE": use a registry reference such as ghcr.io/headlamp-k8s/headlamp:v0.45.0 or localhost:5001/headlamp:dev`,
	}
	if got := strings.Split(err.Error(), "\n"); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("Complete:\n%s\nwant:\n%s", err, strings.Join(want, "\n"))
	}
}

// A flag's value is named by its flag, a field set nowhere by its name,
// and the provider existing turns the registry and the LoadBalancer off
// unless asked for.
func TestCompleteNamesFlagsAndProviderDefaults(t *testing.T) {
	src, err := Decode("devcluster.yaml", []byte("apiVersion: devcluster.dev/v1alpha1\nkind: Cluster\nprovider: existing\ncontext: ci\nwait: 5m\n"))
	if src == nil {
		t.Fatal(err)
	}
	c, err := Complete(src, Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	if c.Registry.Enabled || c.LoadBalancer.Enabled || c.Registry.Mirrors != nil {
		t.Errorf("provider existing: registry %v (mirrors %v), LoadBalancer %v; want both off", c.Registry.Enabled, c.Registry.Mirrors, c.LoadBalancer.Enabled)
	}
	wait, cpus := "soon", "4"
	_, err = Complete(src, Overrides{Wait: &wait, CPUs: &cpus, LoadBalancer: true})
	for _, w := range []string{
		`--wait: invalid duration "soon"`,
		"--cpus: only for provider minikube: devcluster does not create or change an existing cluster",
		"  - loadBalancer.enabled: the LoadBalancer controller needs loadBalancer.ip with provider existing",
		"3 problems",
	} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("Complete with --wait soon --cpus 4 --lb: %v; want %q", err, w)
		}
	}
}

// The fix of a configuration error names the page that documents every
// field, and that page exists.
func TestCompleteFixNamesTheConfigurationPage(t *testing.T) {
	port := 70000
	_, err := Complete(nil, Overrides{RegistryPort: &port})
	checkFixNamesTheConfigurationPage(t, problem.FixOf(err))
	// A file that does not decode gets the same page.
	_, err = Decode("devcluster.yaml", []byte("apiVersion: ["))
	checkFixNamesTheConfigurationPage(t, problem.FixOf(err))
}

func checkFixNamesTheConfigurationPage(t *testing.T, fix string) {
	t.Helper()
	page := regexp.MustCompile(`docs/[a-z-]+\.md`).FindString(fix)
	if page == "" {
		t.Fatalf("fix %q names no page of docs/", fix)
	}
	b, err := os.ReadFile(filepath.Join("..", page))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "registry:\n  enabled: true") {
		t.Errorf("%s does not document the fields", page)
	}
}
