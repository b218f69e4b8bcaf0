package minikube

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/devcluster/devcluster/config"
	"github.com/devcluster/devcluster/provider"
)

// driverAliases maps minikube's driver aliases to the names it saves.
var driverAliases = map[string]string{"kvm": "kvm2", "qemu": "qemu2", "generic": "ssh", "native": "none"}

func canonicalDriver(d string) string {
	if a, ok := driverAliases[d]; ok {
		return a
	}
	return d
}

// Diff implements provider.Comparer. It reports the settings that minikube
// would not apply when starting the existing profile again.
func (m *Minikube) Diff(want provider.Spec, have *provider.Cluster) []provider.Difference {
	var out []provider.Difference
	recreate := "minikube keeps the saved value for an existing cluster"
	switch {
	case want.CPUs.Special == "no-limit" && have.CPUs != 0:
		out = append(out, provider.Difference{Field: "cpus", Existing: strconv.Itoa(have.CPUs), Desired: "no-limit", Note: recreate})
	case want.CPUs.Special == "" && want.CPUs.Count != have.CPUs:
		out = append(out, provider.Difference{Field: "cpus", Existing: strconv.Itoa(have.CPUs), Desired: strconv.Itoa(want.CPUs.Count), Note: recreate})
	}
	switch {
	case want.Memory.Special == "no-limit" && have.MemoryMB != 0:
		out = append(out, provider.Difference{Field: "memory", Existing: fmt.Sprintf("%d MB", have.MemoryMB), Desired: "no-limit", Note: recreate})
	case want.Memory.Special == "" && want.Memory.MB != have.MemoryMB:
		out = append(out, provider.Difference{Field: "memory", Existing: fmt.Sprintf("%d MB", have.MemoryMB), Desired: fmt.Sprintf("%d MB", want.Memory.MB), Note: recreate})
	}
	if want.Driver != "" && canonicalDriver(want.Driver) != canonicalDriver(have.Driver) {
		out = append(out, provider.Difference{Field: "driver", Existing: have.Driver, Desired: want.Driver,
			Note: "minikube refuses another driver for an existing cluster"})
	}
	if want.ContainerRuntime != "" && config.NormalizeRuntime(want.ContainerRuntime) != config.NormalizeRuntime(have.ContainerRuntime) {
		out = append(out, provider.Difference{Field: "containerRuntime", Existing: orNone(have.ContainerRuntime), Desired: want.ContainerRuntime,
			Note: "switching the runtime of an existing node loses its images and the registry wiring"})
	}
	if d, ok := versionDiff(want.KubernetesVersion, have.KubernetesVersion); ok {
		out = append(out, d)
	}
	var missing []string
	for _, r := range want.InsecureRegistries {
		if !containsRegistry(have.InsecureRegistries, r) {
			missing = append(missing, r)
		}
	}
	if len(missing) > 0 {
		out = append(out, provider.Difference{Field: "insecureRegistries",
			Existing: "[" + strings.Join(have.InsecureRegistries, ", ") + "]",
			Desired:  "[" + strings.Join(want.InsecureRegistries, ", ") + "]",
			Note:     "missing " + strings.Join(missing, ", ") + "; minikube applies --insecure-registry only when a cluster is created"})
	}
	return out
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func containsRegistry(list []string, r string) bool {
	strip := func(s string) string { return strings.TrimPrefix(strings.TrimPrefix(s, "http://"), "https://") }
	for _, l := range list {
		if strip(l) == strip(r) {
			return true
		}
	}
	return false
}

var minor = regexp.MustCompile(`^v\d+\.\d+$`)

// versionDiff compares a requested Kubernetes version with the running one.
// "stable"/"latest" and an empty request never differ; "v1.35" matches any
// v1.35.x.
func versionDiff(want, have string) (provider.Difference, bool) {
	switch want {
	case "", "stable", "latest", "newest":
		return provider.Difference{}, false
	}
	if minor.MatchString(want) {
		if strings.HasPrefix(have, want+".") || have == want {
			return provider.Difference{}, false
		}
	} else if want == have {
		return provider.Difference{}, false
	}
	d := provider.Difference{Field: "kubernetesVersion", Existing: orNone(have), Desired: want}
	if provider.CompareVersions(want, have) > 0 {
		d.Note = "minikube can upgrade in place: minikube start -p <name> --kubernetes-version=" + want
	} else {
		d.Note = "minikube cannot downgrade an existing cluster"
	}
	return d, true
}
