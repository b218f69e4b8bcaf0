package config

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"time"
)

// completeNodes checks and completes the nodes' shape: kind's workers and
// port mappings.
func completeNodes(c *Config, f *File, add func(string, error)) {
	info, _ := LookupProvider(f.Provider)
	if f.Workers != 0 && !info.Workers {
		add("workers", fmt.Errorf("only for provider kind"))
	}
	if f.Workers < 0 || f.Workers > 20 {
		add("workers", fmt.Errorf("invalid number of workers %d: use 0-20", f.Workers))
	}
	c.Workers = f.Workers
	if len(f.PortMappings) > 0 && !info.PortMappings {
		add("portMappings", errors.New("only for provider kind (minikube: `minikube service` or the LoadBalancer IP; existing: the cluster's own)"))
	}
	c.PortMappings = completePortMappings(f.PortMappings, add)
}

// completeMachine checks and completes minikube's machine: the driver, the
// CPUs and the memory (no-limit only with the docker and podman drivers).
func completeMachine(c *Config, f *File, add func(string, error)) {
	if f.Driver != "" && !slices.Contains(Drivers, f.Driver) {
		add("driver", fmt.Errorf("unknown driver %q; minikube drivers are %s", f.Driver, strings.Join(Drivers, ", ")))
	}
	kic := f.Driver == "" || kicDrivers[f.Driver]

	if cpus, err := ParseCPUs(f.CPUs); err != nil {
		add("cpus", err)
	} else {
		switch {
		case cpus.Special == "" && cpus.Count < MinCPUs:
			add("cpus", fmt.Errorf("requested cpu count %d is less than the minimum allowed of %d", cpus.Count, MinCPUs))
		case cpus.Special == "no-limit" && !kic:
			add("cpus", fmt.Errorf("the %q driver does not support cpus: no-limit (docker and podman only)", f.Driver))
		}
		c.CPUs = cpus
	}
	if mem, err := ParseMemory(f.Memory); err != nil {
		add("memory", err)
	} else {
		switch {
		case mem.Special == "" && mem.MB < MinMemoryMB:
			add("memory", fmt.Errorf("requested memory allocation %dMiB is less than the usable minimum of %dMB", mem.MB, MinMemoryMB))
		case mem.Special == "no-limit" && !kic:
			add("memory", fmt.Errorf("the %q driver does not support memory: no-limit (docker and podman only)", f.Driver))
		}
		c.Memory = mem
	}
}

// completeRuntime checks and completes what the cluster runs and how it is
// started: the container runtime, the Kubernetes version, the insecure
// registries, the extra start arguments and the readiness wait.
func completeRuntime(c *Config, f *File, add func(string, error)) {
	if !slices.Contains(Runtimes, f.ContainerRuntime) {
		add("containerRuntime", fmt.Errorf("invalid container runtime %q; valid runtimes are containerd, docker, cri-o", f.ContainerRuntime))
	}
	c.ContainerRuntime = NormalizeRuntime(f.ContainerRuntime)
	if v, err := NormalizeKubernetesVersion(f.KubernetesVersion); err != nil {
		add("kubernetesVersion", err)
	} else {
		c.KubernetesVersion = v
	}
	for i, r := range f.InsecureRegistries {
		if err := ValidInsecureRegistry(r); err != nil {
			add(fmt.Sprintf("insecureRegistries[%d]", i), err)
		}
	}
	c.InsecureRegistries = slices.Clone(f.InsecureRegistries)
	for i, a := range f.ExtraStartArgs {
		if err := checkExtraArg(a); err != nil {
			add(fmt.Sprintf("extraStartArgs[%d]", i), err)
		}
	}
	c.ExtraStartArgs = slices.Clone(f.ExtraStartArgs)
	if d, err := time.ParseDuration(f.Wait); err != nil || d <= 0 {
		add("wait", fmt.Errorf("invalid duration %q: use a positive duration such as 90s or 5m", f.Wait))
	} else {
		c.Wait = d
	}
}

// completePortMappings fills the defaults of portMappings and checks them.
func completePortMappings(in []PortMappingFile, add func(string, error)) []PortMapping {
	var out []PortMapping
	seen := map[string]int{}
	for i, m := range in {
		field := fmt.Sprintf("portMappings[%d]", i)
		pm := PortMapping{ContainerPort: m.ContainerPort, HostPort: m.HostPort, ListenAddress: m.ListenAddress, Protocol: strings.ToUpper(m.Protocol)}
		if pm.HostPort == 0 {
			pm.HostPort = pm.ContainerPort
		}
		if pm.ListenAddress == "" {
			pm.ListenAddress = "127.0.0.1"
		}
		if pm.Protocol == "" {
			pm.Protocol = "TCP"
		}
		ok := true
		if m.ContainerPort < 1 || m.ContainerPort > 65535 {
			add(field+".containerPort", fmt.Errorf("invalid port %d: use 1-65535", m.ContainerPort))
			ok = false
		}
		if m.HostPort < 0 || m.HostPort > 65535 {
			add(field+".hostPort", fmt.Errorf("invalid port %d: use 1-65535, or leave it out for containerPort", m.HostPort))
			ok = false
		}
		if net.ParseIP(pm.ListenAddress) == nil {
			add(field+".listenAddress", fmt.Errorf("invalid address %q: use an IP address of this host", m.ListenAddress))
			ok = false
		}
		if !slices.Contains([]string{"TCP", "UDP", "SCTP"}, pm.Protocol) {
			add(field+".protocol", fmt.Errorf("invalid protocol %q: use TCP, UDP or SCTP", m.Protocol))
			ok = false
		}
		if !ok {
			continue
		}
		key := fmt.Sprintf("%s/%d/%s", pm.ListenAddress, pm.HostPort, pm.Protocol)
		if j, dup := seen[key]; dup {
			add(field+".hostPort", fmt.Errorf("%s is mapped twice (also portMappings[%d])", pm, j))
			continue
		}
		seen[key] = i
		out = append(out, pm)
	}
	return out
}
