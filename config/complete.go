package config

import (
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/devcluster/devcluster/internal/problem"
)

// Overrides are values given on the command line. A nil pointer or nil slice
// means "not given"; a given value replaces the file's.
type Overrides struct {
	Name              *string
	Provider          *string
	Context           *string
	CPUs              *string
	Memory            *string
	Driver            *string
	ContainerRuntime  *string
	KubernetesVersion *string
	InsecureRegistry  []string
	ExtraStartArgs    []string
	Wait              *string
	RegistryPort      *int
	// LBAddress is --lb-address.
	LBAddress      *string
	NoRegistry     bool
	NoMirrors      bool
	NoLoadBalancer bool
	NoSamples      bool
	// Registry, LoadBalancer and Samples turn on what the file (or the
	// provider's default) turns off: --registry, --lb, --samples.
	Registry     bool
	LoadBalancer bool
	Samples      bool
	// Manifests are added to the file's (paths relative to the working
	// directory, already absolute here).
	Manifests []string
	// BaseDir resolves relative paths in the file (its directory).
	BaseDir string
	// Home expands a leading ~ in registry.dataDir.
	Home string
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

// Complete merges overrides into the file (flags win), fills defaults, and
// validates the result, reporting every problem at once. src may be nil when
// no file is used.
func Complete(src *Source, o Overrides) (*Config, error) {
	if src == nil {
		src = &Source{File: File{APIVersion: APIVersion, Kind: KindCluster}}
	}
	f := src.File
	fromFlag := map[string]bool{}
	set := func(field string, dst *string, v *string) {
		if v != nil {
			*dst = *v
			fromFlag[field] = true
		}
	}
	set("name", &f.Name, o.Name)
	set("provider", &f.Provider, o.Provider)
	set("context", &f.Context, o.Context)
	set("cpus", &f.CPUs, o.CPUs)
	set("memory", &f.Memory, o.Memory)
	set("driver", &f.Driver, o.Driver)
	set("containerRuntime", &f.ContainerRuntime, o.ContainerRuntime)
	set("kubernetesVersion", &f.KubernetesVersion, o.KubernetesVersion)
	set("wait", &f.Wait, o.Wait)
	set("loadBalancer.address", &f.LoadBalancer.Address, o.LBAddress)
	if o.InsecureRegistry != nil {
		f.InsecureRegistries = o.InsecureRegistry
		fromFlag["insecureRegistries"] = true
	}
	if o.ExtraStartArgs != nil {
		f.ExtraStartArgs = o.ExtraStartArgs
		fromFlag["extraStartArgs"] = true
	}
	if o.RegistryPort != nil {
		f.Registry.Port = *o.RegistryPort
		fromFlag["registry.port"] = true
	}
	// A flag given with an empty value is a mistake (an unset shell
	// variable), not a request for the default.
	var problems []string
	// What did not decode comes with the values' problems: one list.
	problems = append(problems, src.problems...)
	for _, field := range []string{"name", "provider", "context", "cpus", "memory", "driver", "containerRuntime", "kubernetesVersion", "wait", "loadBalancer.address"} {
		if v := map[string]*string{"name": o.Name, "provider": o.Provider, "context": o.Context, "cpus": o.CPUs, "memory": o.Memory, "driver": o.Driver,
			"containerRuntime": o.ContainerRuntime, "kubernetesVersion": o.KubernetesVersion, "wait": o.Wait, "loadBalancer.address": o.LBAddress}[field]; v != nil && strings.TrimSpace(*v) == "" {
			problems = append(problems, flagNames[field]+": the value is empty; leave the flag out for the default")
		}
	}
	if o.RegistryPort != nil && *o.RegistryPort == 0 {
		problems = append(problems, "--registry-port: 0 is not a port; leave the flag out for the default (5001)")
	}
	for _, m := range o.Manifests {
		if m == "" {
			problems = append(problems, "--manifest: the path is empty")
		}
	}
	on := true
	for _, t := range []struct {
		on, off bool
		field   **bool
		flags   string
	}{
		{o.Registry, o.NoRegistry, &f.Registry.Enabled, "--registry and --no-registry"},
		{o.LoadBalancer, o.NoLoadBalancer, &f.LoadBalancer.Enabled, "--lb and --no-lb"},
		{o.Samples, o.NoSamples, &f.Workloads.Samples, "--samples and --no-samples"},
	} {
		if t.on && t.off {
			problems = append(problems, t.flags+" contradict each other; give one of them")
		} else if t.on {
			*t.field = &on
		}
	}
	if o.NoRegistry {
		off := false
		f.Registry.Enabled = &off
	}
	if o.NoMirrors {
		f.Registry.Mirrors = []MirrorFile{}
	}
	if o.NoLoadBalancer {
		off := false
		f.LoadBalancer.Enabled = &off
	}
	if o.NoSamples {
		off := false
		f.Workloads.Samples = &off
	}
	// Cluster settings set by hand, before defaults fill them in: not
	// every provider can honour them.
	handSet := map[string]bool{
		"cpus": f.CPUs != "", "memory": f.Memory != "", "driver": f.Driver != "",
		"containerRuntime": f.ContainerRuntime != "", "kubernetesVersion": f.KubernetesVersion != "",
		"insecureRegistries": len(f.InsecureRegistries) > 0, "extraStartArgs": len(f.ExtraStartArgs) > 0,
	}
	if p, ok := LookupProvider(f.Provider); ok && !p.Owned {
		// A real cluster usually cannot reach this host, and has its own
		// LoadBalancer implementation.
		off := false
		if f.Registry.Enabled == nil {
			f.Registry.Enabled = &off
		}
		if f.LoadBalancer.Enabled == nil {
			f.LoadBalancer.Enabled = &off
		}
	}
	SetDefaults(&f)

	add := func(field string, err error) {
		where := field
		switch {
		case fromFlag[strings.SplitN(field, "[", 2)[0]] && flagNames[strings.SplitN(field, "[", 2)[0]] != "":
			where = flagNames[strings.SplitN(field, "[", 2)[0]]
		case src.notDecoded(field):
			// Its decoding problem is reported; its default or zero
			// value says nothing.
			return
		case src.lineOf(field) > 0:
			where = fmt.Sprintf("line %d: %s", src.lineOf(field), field)
		}
		problems = append(problems, where+": "+err.Error())
	}

	c := &Config{
		Name:     f.Name,
		Provider: f.Provider,
		Context:  f.Context,
		Driver:   f.Driver,
	}
	if err := ValidName(f.Name); err != nil {
		add("name", err)
	}
	// refuse names each hand-set field of fields, in that order.
	refuse := func(why string, fields ...string) {
		for _, field := range fields {
			if handSet[field] {
				add(field, errors.New(why))
			}
		}
	}
	info, known := LookupProvider(f.Provider)
	if known {
		info.check(providerCheck{f: &f, handSet: handSet, add: add, refuse: refuse})
	} else {
		add("provider", unknownProvider(f.Provider))
	}
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

	c.Registry = Registry{Enabled: *f.Registry.Enabled, Port: f.Registry.Port, DataDir: f.Registry.DataDir}
	switch d := f.Registry.DataDir; {
	case (d == "~" || strings.HasPrefix(d, "~/")) && o.Home != "":
		c.Registry.DataDir = filepath.Join(o.Home, strings.TrimPrefix(d, "~"))
	case d != "" && !filepath.IsAbs(d) && o.BaseDir != "":
		// Relative to the file, like manifests.
		c.Registry.DataDir = filepath.Join(o.BaseDir, d)
	}
	if p := f.Registry.Port; p < 1 || p > 65535 {
		add("registry.port", fmt.Errorf("invalid port %d: use 1-65535", p))
	}
	if a := f.Registry.ClusterAddress; a != "auto" {
		if err := ValidHost(a); err != nil {
			add("registry.clusterAddress", fmt.Errorf("%w; or auto", err))
		} else {
			c.Registry.ClusterAddress = a
		}
	}
	for i, a := range f.Registry.ListenAddresses {
		if net.ParseIP(a) == nil {
			add(fmt.Sprintf("registry.listenAddresses[%d]", i), fmt.Errorf("invalid address %q: use an IP address of this host (no port)", a))
		}
	}
	c.Registry.Listen = slices.Clone(f.Registry.ListenAddresses)
	c.Registry.Mirrors, c.Registry.MirrorTTL = completeMirrors(f.Registry, add)
	if !c.Registry.Enabled {
		// The agent's registry serves them.
		c.Registry.Mirrors = nil
	}
	c.LoadBalancer = LoadBalancer{Enabled: *f.LoadBalancer.Enabled, IP: f.LoadBalancer.IP, Address: f.LoadBalancer.Address}
	if a := f.LoadBalancer.IP; a != "" && net.ParseIP(a) == nil {
		add("loadBalancer.ip", fmt.Errorf("invalid IP %q", a))
	}
	if a := f.LoadBalancer.Address; strings.TrimSpace(a) != "" && !slices.Contains(LBAddresses, a) {
		add("loadBalancer.address", fmt.Errorf("unknown address %q; use %s", a, strings.Join(LBAddresses, ", ")))
	}
	if f.LoadBalancer.Address == LBAddressLocalhost && f.LoadBalancer.IP != "" {
		add("loadBalancer.ip", errors.New("only with loadBalancer.address node or auto: in localhost mode the Services get 127.0.0.1"))
	}
	c.Workloads = Workloads{Samples: *f.Workloads.Samples, SampleBase: f.Workloads.SampleBase}
	if err := validSampleBase(f.Workloads.SampleBase, o.BaseDir); err != nil {
		add("workloads.sampleBase", err)
	}
	for i, m := range f.Workloads.Manifests {
		if m == "" {
			add(fmt.Sprintf("workloads.manifests[%d]", i), fmt.Errorf("empty path"))
			continue
		}
		if !filepath.IsAbs(m) && o.BaseDir != "" {
			m = filepath.Join(o.BaseDir, m)
		}
		c.Workloads.Manifests = append(c.Workloads.Manifests, m)
	}
	for _, m := range o.Manifests {
		if m != "" {
			c.Workloads.Manifests = append(c.Workloads.Manifests, m)
		}
	}
	if d, err := time.ParseDuration(f.Workloads.Timeout); err != nil || d <= 0 {
		add("workloads.timeout", fmt.Errorf("invalid duration %q: use a positive duration such as 5m", f.Workloads.Timeout))
	} else {
		c.Workloads.Timeout = d
	}

	c.Install = Install{MinikubeURL: f.Install.MinikubeURL, KindURL: f.Install.KindURL}
	for _, u := range []struct{ field, url string }{{"install.minikubeURL", f.Install.MinikubeURL}, {"install.kindURL", f.Install.KindURL}} {
		if err := ValidDownloadURL(u.url); u.url != "" && err != nil {
			add(u.field, err)
		}
	}

	c.Dashboard = Dashboard{Image: f.Dashboard.Image}
	if err := validImage(f.Dashboard.Image); f.Dashboard.Image != "" && err != nil {
		add("dashboard.image", err)
	}

	if len(problems) > 0 {
		subject := "configuration"
		if src.Path != "" {
			subject = src.Path
		}
		return nil, problem.New(problem.Config, "", &problem.List{Subject: subject, Problems: byLine(problems)},
			"correct the values above; `devcluster up --help` and the README's config reference list the accepted forms")
	}
	return c, nil
}

// notDecoded reports whether field, or a field it belongs to, did not
// decode (see Decode).
func (s *Source) notDecoded(field string) bool {
	for _, f := range s.failed {
		if field == f || strings.HasPrefix(field, f+".") || strings.HasPrefix(field, f+"[") {
			return true
		}
	}
	return false
}

// lineOf is the line of field, else of the nearest field it belongs to
// (portMappings[0] for portMappings[0].containerPort when that key is
// absent), else 0.
func (s *Source) lineOf(field string) int {
	for f := field; f != ""; {
		if l := s.Line(f); l > 0 {
			return l
		}
		i := strings.LastIndexAny(f, ".[")
		if i < 0 {
			break
		}
		f = f[:i]
	}
	return 0
}

// byLine orders problems by the line they name, those of flags (no line)
// first, keeping the order of problems on the same line.
func byLine(problems []string) []string {
	line := func(p string) int {
		if m := lineRE.FindStringSubmatch(p); m != nil {
			n, _ := strconv.Atoi(m[1])
			return n
		}
		return 0
	}
	out := slices.Clone(problems)
	slices.SortStableFunc(out, func(a, b string) int { return line(a) - line(b) })
	return out
}

// flagNames are the `up` flags that override each field.
var flagNames = map[string]string{
	"name": "--name", "provider": "--provider", "context": "--context", "cpus": "--cpus", "memory": "--memory", "driver": "--driver",
	"containerRuntime": "--container-runtime", "kubernetesVersion": "--kubernetes-version",
	"insecureRegistries": "--insecure-registry", "extraStartArgs": "--start-arg", "wait": "--wait",
	"registry.port": "--registry-port", "loadBalancer.address": "--lb-address",
}

// SetDefaults fills every unset field of f with its documented default.
// fullVersion is a Kubernetes version with its patch number.
var fullVersion = regexp.MustCompile(`^v[0-9]+\.[0-9]+\.[0-9]+$`)

func SetDefaults(f *File) {
	if f.APIVersion == "" {
		f.APIVersion = APIVersion
	}
	if f.Kind == "" {
		f.Kind = KindCluster
	}
	if f.Name == "" {
		f.Name = DefaultName
	}
	if f.Provider == "" {
		f.Provider = DefaultProvider
	}
	if f.CPUs == "" {
		f.CPUs = DefaultCPUs
	}
	if f.Memory == "" {
		f.Memory = DefaultMemory
	}
	if f.ContainerRuntime == "" {
		f.ContainerRuntime = DefaultContainerRuntime
	}
	if f.Wait == "" {
		f.Wait = DefaultWait.String()
	}
	if f.Registry.Enabled == nil {
		on := true
		f.Registry.Enabled = &on
	}
	if f.Registry.Port == 0 {
		f.Registry.Port = DefaultRegistryPort
	}
	if f.Registry.ClusterAddress == "" {
		f.Registry.ClusterAddress = "auto"
	}
	if f.Registry.Mirrors == nil {
		for _, u := range DefaultMirrors {
			f.Registry.Mirrors = append(f.Registry.Mirrors, MirrorFile{Upstream: u})
		}
	}
	if f.Registry.MirrorTTL == "" {
		f.Registry.MirrorTTL = "7d"
	}
	if f.LoadBalancer.Enabled == nil {
		on := true
		f.LoadBalancer.Enabled = &on
	}
	if f.LoadBalancer.Address == "" {
		f.LoadBalancer.Address = LBAddressAuto
	}
	if f.Workloads.Samples == nil {
		on := true
		f.Workloads.Samples = &on
	}
	if f.Workloads.SampleBase == "" {
		f.Workloads.SampleBase = DefaultSampleBase
	}
	if f.Workloads.Timeout == "" {
		f.Workloads.Timeout = DefaultWait.String()
	}
}
