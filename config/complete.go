package config

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

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

// Complete merges overrides into the file (flags win), fills defaults, and
// validates the result, reporting every problem at once. src may be nil when
// no file is used.
func Complete(src *Source, o Overrides) (*Config, error) {
	if src == nil {
		src = &Source{File: File{APIVersion: APIVersion, Kind: KindCluster}}
	}
	f := src.File
	v := &configProblems{src: src, fromFlag: applyFlags(&f, o)}
	// What did not decode comes with the values' problems: one list.
	v.problems = append(v.problems, src.problems...)
	v.problems = append(v.problems, emptyFlags(o)...)
	v.problems = append(v.problems, applySwitches(&f, o)...)
	handSet := handSetFields(&f)
	providerDefaults(&f)
	SetDefaults(&f)

	add := v.add
	c := &Config{
		Name:     f.Name,
		Provider: f.Provider,
		Context:  f.Context,
		Driver:   f.Driver,
	}
	if err := ValidName(f.Name); err != nil {
		add("name", err)
	}
	checkProviderSettings(&f, handSet, add)
	completeNodes(c, &f, add)
	completeMachine(c, &f, add)
	completeRuntime(c, &f, add)
	c.Registry = completeRegistry(f.Registry, o, add)
	c.LoadBalancer = completeLoadBalancer(f.LoadBalancer, add)
	c.Workloads = completeWorkloads(f.Workloads, o, add)
	c.Install = completeInstall(f.Install, add)
	c.Dashboard = completeDashboard(f.Dashboard, add)
	if err := v.err(); err != nil {
		return nil, err
	}
	return c, nil
}

// configProblems collects the problems of one configuration, each named where
// its value came from: the flag that set it, else its line in the file,
// else the field.
type configProblems struct {
	src *Source
	// fromFlag are the fields a flag set (applyFlags).
	fromFlag map[string]bool
	problems []string
}

// add reports field's value as wrong for err. A field that did not decode
// is not reported again: its decoding problem is.
func (v *configProblems) add(field string, err error) {
	where := field
	switch {
	case v.fromFlag[strings.SplitN(field, "[", 2)[0]] && flagNames[strings.SplitN(field, "[", 2)[0]] != "":
		where = flagNames[strings.SplitN(field, "[", 2)[0]]
	case v.src.notDecoded(field):
		// Its decoding problem is reported; its default or zero
		// value says nothing.
		return
	case v.src.lineOf(field) > 0:
		where = fmt.Sprintf("line %d: %s", v.src.lineOf(field), field)
	}
	v.problems = append(v.problems, where+": "+err.Error())
}

// err is every problem as one configuration error, in line order, or nil.
func (v *configProblems) err() error {
	if len(v.problems) == 0 {
		return nil
	}
	subject := "configuration"
	if v.src.Path != "" {
		subject = v.src.Path
	}
	return problem.New(problem.Config, "", &problem.List{Subject: subject, Problems: byLine(v.problems)},
		"correct the values above; `devcluster up --help` and the configuration reference (docs/configuration.md) list the accepted forms")
}

// applyFlags puts the values the flags give over the file's and returns
// the fields they set.
func applyFlags(f *File, o Overrides) map[string]bool {
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
	return fromFlag
}

// emptyFlags are the problems of flags given with an empty value: a
// mistake (an unset shell variable), not a request for the default.
func emptyFlags(o Overrides) []string {
	var problems []string
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
	return problems
}

// applySwitches applies the flags that turn a part on or off (--registry,
// --no-registry, --no-mirrors, ...) and returns the problems of a part
// turned both on and off.
func applySwitches(f *File, o Overrides) []string {
	var problems []string
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
	return problems
}

// handSetFields are the cluster settings set by hand, before defaults fill
// them in: not every provider can honour them.
func handSetFields(f *File) map[string]bool {
	return map[string]bool{
		"cpus": f.CPUs != "", "memory": f.Memory != "", "driver": f.Driver != "",
		"containerRuntime": f.ContainerRuntime != "", "kubernetesVersion": f.KubernetesVersion != "",
		"insecureRegistries": len(f.InsecureRegistries) > 0, "extraStartArgs": len(f.ExtraStartArgs) > 0,
	}
}

// providerDefaults fills the defaults that depend on the provider, before
// SetDefaults fills the others.
func providerDefaults(f *File) {
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
}

// checkProviderSettings checks the provider's name and the settings it
// needs or cannot honour; handSet are the cluster settings set by hand.
func checkProviderSettings(f *File, handSet map[string]bool, add func(string, error)) {
	// refuse names each hand-set field of fields, in that order.
	refuse := func(why string, fields ...string) {
		for _, field := range fields {
			if handSet[field] {
				add(field, errors.New(why))
			}
		}
	}
	if info, known := LookupProvider(f.Provider); known {
		info.check(providerCheck{f: f, handSet: handSet, add: add, refuse: refuse})
	} else {
		add("provider", unknownProvider(f.Provider))
	}
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

// fullVersion is a Kubernetes version with its patch number.
var fullVersion = regexp.MustCompile(`^v[0-9]+\.[0-9]+\.[0-9]+$`)

// SetDefaults fills every unset field of f with its documented default.
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
