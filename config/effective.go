package config

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Effective is the configuration as a devcluster.yaml document with every
// setting written out, defaults included: what `config view` prints. It
// loads back (Decode, Complete) as the same configuration. Settings the
// provider refuses are left out (kind has no cpus; an existing cluster has
// no driver), and so are those whose default is decided later, where there
// is nothing to write: the LoadBalancer IP (the node's), the registry's
// listen addresses and data directory (see the caller), the release URLs.
func (c *Config) Effective() File {
	t, f := true, false
	boolp := func(b bool) *bool {
		if b {
			return &t
		}
		return &f
	}
	out := File{
		APIVersion: APIVersion, Kind: KindCluster,
		Name: c.Name, Provider: c.Provider, Context: c.Context,
		Workers: c.Workers,
		Wait:    shortDuration(c.Wait),
		Registry: RegistryFile{Enabled: boolp(c.Registry.Enabled), Port: c.Registry.Port, ClusterAddress: c.Registry.ClusterAddress,
			ListenAddresses: slices.Clone(c.Registry.Listen), DataDir: c.Registry.DataDir},
		LoadBalancer: LoadBalancerFile{Enabled: boolp(c.LoadBalancer.Enabled), IP: c.LoadBalancer.IP, Address: c.LoadBalancer.Address},
		Workloads: WorkloadsFile{Samples: boolp(c.Workloads.Samples), SampleBase: c.Workloads.SampleBase,
			Manifests: slices.Clone(c.Workloads.Manifests), Timeout: shortDuration(c.Workloads.Timeout)},
		Install:   InstallFile{MinikubeURL: c.Install.MinikubeURL, KindURL: c.Install.KindURL},
		Dashboard: DashboardFile{Image: c.Dashboard.Image},
	}
	// An empty list, not an absent one: absent means the default upstreams.
	out.Registry.Mirrors = []MirrorFile{}
	for _, m := range c.Registry.Mirrors {
		out.Registry.Mirrors = append(out.Registry.Mirrors, MirrorFile(m))
	}
	out.Registry.MirrorTTL = ttlText(c.Registry.MirrorTTL)
	if out.Registry.ClusterAddress == "" {
		out.Registry.ClusterAddress = "auto"
	}
	for _, m := range c.PortMappings {
		out.PortMappings = append(out.PortMappings, PortMappingFile(m))
	}
	if p, ok := LookupProvider(c.Provider); ok {
		p.effective(c, &out)
	}
	return out
}

// memoryText writes memory as people do: "4g" for whole GiB, else MB.
func memoryText(m Memory) string {
	switch {
	case m.Special != "":
		return m.Special
	case m.MB%1024 == 0:
		return fmt.Sprintf("%dg", m.MB/1024)
	}
	return fmt.Sprintf("%dmb", m.MB)
}

// runtimeText is the runtime as devcluster.yaml's docs name it (cri-o).
func runtimeText(r string) string {
	if r == "crio" {
		return "cri-o"
	}
	return r
}

// shortDuration is "5m", not time's "5m0s".
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// ttlText writes a mirror TTL as registry.mirrorTTL takes it: whole days
// as "7d", 0 as "0", anything else as a duration.
func ttlText(d time.Duration) string {
	switch {
	case d == 0:
		return "0"
	case d%(24*time.Hour) == 0:
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return shortDuration(d)
}
