package bootstrap

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/devcluster/devcluster/agent"
	"github.com/devcluster/devcluster/config"
	"github.com/devcluster/devcluster/internal/paths"
	"github.com/devcluster/devcluster/internal/problem"
	"github.com/devcluster/devcluster/kube"
	"github.com/devcluster/devcluster/loadbalancer"
	"github.com/devcluster/devcluster/provider"
	"github.com/devcluster/devcluster/registry"
)

// RegistryHelp is the help URL published in the KEP-1755 ConfigMap.
const RegistryHelp = "https://github.com/devcluster/devcluster#local-registry"

// RegistrySummary is the registry part of a Result.
type RegistrySummary struct {
	// Host is where the host pushes: localhost:<port>.
	Host string `json:"host"`
	// ClusterHost is where nodes pull from: <cluster address>:<port>.
	ClusterHost string   `json:"clusterHost"`
	Listen      []string `json:"listen"`
	DataDir     string   `json:"dataDir"`
	// SizeBytes and Repositories describe the stored content (status only).
	SizeBytes    int64         `json:"sizeBytes,omitempty"`
	Repositories *int          `json:"repositories,omitempty"`
	Agent        *agent.Status `json:"agent,omitempty"`
	// Mirrors are the pull-through mirrors the agent serves, and
	// MirrorStore where their store is (up only).
	Mirrors     []registry.Mirror `json:"mirrors,omitempty"`
	MirrorStore string            `json:"mirrorStore,omitempty"`
}

// clusterAddress decides the address nodes use to reach the host:
// the configured one, or the provider's (provider.Networked) for the
// cluster as it is, with the configured driver where the cluster does not
// say.
func clusterAddress(p provider.Provider, cfg *config.Config, c *provider.Cluster) (string, error) {
	if cfg.Registry.ClusterAddress != "" {
		return cfg.Registry.ClusterAddress, nil
	}
	n, ok := p.(provider.Networked)
	if !ok {
		if c.HostAddress != "" {
			return c.HostAddress, nil
		}
		return "", fmt.Errorf("provider %s does not know this host's address on the cluster's network: set registry.clusterAddress", p.Name())
	}
	seen := *c
	if seen.Driver == "" {
		seen.Driver = cfg.Driver
	}
	nw := n.Network(&seen)
	return nw.HostAddress, nw.HostAddressErr
}

// nodeIP is the primary node's address as the provider tells it
// (provider.Networked); "" for a provider without one node IP (existing).
func nodeIP(ctx context.Context, p provider.Provider, name string) (string, error) {
	if n, ok := p.(provider.Networked); ok {
		return n.IP(ctx, name)
	}
	return "", nil
}

// platformOf is the host's platform with the cluster's network as its
// provider tells it, for the LoadBalancer's reachability.
func platformOf(deps Deps, c *provider.Cluster) loadbalancer.Platform {
	platform := deps.Platform
	platform.Provider, platform.External = c.Provider, !deps.Provider.OwnsClusters()
	if n, ok := deps.Provider.(provider.Networked); ok {
		nw := n.Network(c)
		platform.Containers, platform.Nodes, platform.HostFix = nw.Containers, nw.What, nw.HostFix
	}
	return platform
}

// clusterSpec is what the provider creates the cluster from: the cluster
// settings, plus — for the docker and cri-o runtimes — the registry's
// cluster address as an insecure registry, which must be given at creation
// (registry.clusterAddress, else where the provider will put this host:
// provider.Networked). containerd is configured through hosts.toml on
// every up instead, so it needs no flag (and no drift check).
func clusterSpec(p provider.Provider, cfg *config.Config) provider.Spec {
	spec := provider.SpecOf(cfg)
	if !cfg.Registry.Enabled || cfg.ContainerRuntime == "containerd" {
		return spec
	}
	addr := cfg.Registry.ClusterAddress
	if n, ok := p.(provider.Networked); ok && addr == "" {
		addr = n.PlannedHostAddress(spec)
	}
	if addr == "" {
		return spec
	}
	host := net.JoinHostPort(addr, strconv.Itoa(cfg.Registry.Port))
	if !slices.Contains(spec.InsecureRegistries, host) {
		spec.InsecureRegistries = append(spec.InsecureRegistries, host)
	}
	return spec
}

// listenAddresses are the registry's bind addresses: configured, or
// loopback plus the cluster address when it belongs to this host.
func listenAddresses(cfg *config.Config, clusterAddr string, local func(string) bool) []string {
	port := strconv.Itoa(cfg.Registry.Port)
	ips := cfg.Registry.Listen
	if len(ips) == 0 {
		ips = []string{"127.0.0.1"}
		if ip := net.ParseIP(clusterAddr); ip != nil && !ip.IsLoopback() && local(clusterAddr) {
			ips = append(ips, clusterAddr)
		}
	}
	out := make([]string, 0, len(ips))
	for _, ip := range ips {
		out = append(out, net.JoinHostPort(ip, port))
	}
	return out
}

// LocalAddress reports whether ip is assigned to an interface of this host.
func LocalAddress(ip string) bool {
	want := net.ParseIP(ip)
	addrs, err := net.InterfaceAddrs()
	if err != nil || want == nil {
		return false
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.Equal(want) {
			return true
		}
	}
	return false
}

// hostsTOML is containerd's certs.d entry sending pulls to the registry
// over plain HTTP — the file minikube and kind nodes use.
func hostsTOML(server string) string {
	return fmt.Sprintf("server = \"http://%s\"\n\n[host.\"http://%s\"]\n  capabilities = [\"pull\", \"resolve\"]\n", server, server)
}

// mirrorHostsTOML is containerd's certs.d entry of a mirrored upstream:
// pulls go to the mirror first and, when it does not answer, to the
// upstream's remote itself (containerd tries the hosts in order, then the
// server).
func mirrorHostsTOML(remote, mirror string) string {
	return fmt.Sprintf("server = %q\n\n[host.\"http://%s\"]\n  capabilities = [\"pull\", \"resolve\"]\n", remote, mirror)
}

// certsDir is where containerd (config_path in minikube's and kind's
// containerd configuration) looks for per-registry hosts.toml files.
const certsDir = "/etc/containerd/certs.d"

// hostsTOMLPath is the hosts.toml of one registry name (host:port).
func hostsTOMLPath(name string) string { return path.Join(certsDir, name, "hosts.toml") }

// hostsFile is one registry name's hosts.toml.
type hostsFile struct{ name, content string }

// registryHostsFiles are the hosts.toml files sending pulls of each name to
// server over plain HTTP.
func registryHostsFiles(server string, names ...string) []hostsFile {
	out := make([]hostsFile, len(names))
	for i, n := range names {
		out[i] = hostsFile{n, hostsTOML(server)}
	}
	return out
}

// ensureHostsTOML makes every node's containerd configuration hold the
// files. It reads them first (one command per node) and writes only a node
// where they differ: the directories with mkdir -p, then each file copied
// with the provider (`minikube cp`, `docker cp`). No shell ever sees a
// file's content or an unquoted name. It returns the nodes written.
func ensureHostsTOML(ctx context.Context, p provider.NodeAccess, c *provider.Cluster, files []hostsFile) ([]string, error) {
	paths := make([]string, len(files))
	dirs := make([]string, len(files))
	var want strings.Builder
	for i, f := range files {
		paths[i], dirs[i] = hostsTOMLPath(f.name), path.Join(certsDir, f.name)
		want.WriteString(f.content)
	}
	var srcs map[string]string // content -> local file
	var written []string
	for _, node := range c.NodeNames {
		if have, err := p.RunOnNode(ctx, c.Name, node, append([]string{"cat"}, paths...)...); err == nil && string(have) == want.String() {
			continue
		}
		if srcs == nil {
			dir, err := os.MkdirTemp("", "devcluster-hosts-")
			if err != nil {
				return nil, err
			}
			defer os.RemoveAll(dir)
			srcs = map[string]string{}
			for _, f := range files {
				if _, ok := srcs[f.content]; ok {
					continue
				}
				src := filepath.Join(dir, fmt.Sprintf("hosts-%d.toml", len(srcs)))
				if err := os.WriteFile(src, []byte(f.content), 0o644); err != nil {
					return nil, err
				}
				// The mode minikube's docker-driver copy keeps as it is.
				if err := os.Chmod(src, 0o644); err != nil {
					return nil, err
				}
				srcs[f.content] = src
			}
		}
		if _, err := p.RunOnNode(ctx, c.Name, node, append([]string{"mkdir", "-p"}, dirs...)...); err != nil {
			return nil, err
		}
		for i, f := range files {
			if err := p.CopyToNode(ctx, c.Name, node, srcs[f.content], paths[i]); err != nil {
				return nil, err
			}
		}
		written = append(written, node)
	}
	return written, nil
}

// startAgent ensures the cluster's background agent runs with the wanted
// registry and LoadBalancer settings.
func startAgent(ctx context.Context, s *upState) (string, error) {
	dirs, err := s.deps.Dirs(s.cfg.Name)
	if err != nil {
		return "", problem.New(problem.Failed, "locating devcluster's data directory", err, "set HOME or XDG_DATA_HOME and XDG_STATE_HOME")
	}
	spec := agent.Spec{Name: s.cfg.Name, StateDir: dirs.State, Listen: []string{"127.0.0.1:0"}}
	var addr string
	if s.cfg.Registry.Enabled {
		if addr, err = clusterAddress(s.deps.Provider, s.cfg, s.cluster); err != nil {
			return "", problem.New(problem.Config, "choosing the registry's cluster address", err, "set registry.clusterAddress in devcluster.yaml")
		}
		spec.DataDir = RegistryDataDir(s.cfg, dirs)
		local := s.deps.LocalAddress
		if local == nil {
			local = LocalAddress
		}
		spec.Listen = listenAddresses(s.cfg, addr, local)
		if len(s.cfg.Registry.Mirrors) > 0 {
			if dirs.Mirrors == "" {
				return "", problem.New(problem.Failed, "locating the mirror store", errors.New("no cache directory"), "set HOME or XDG_CACHE_HOME, or turn the mirrors off with --no-mirrors")
			}
			spec.Mirrors = agent.MirrorSpec{Store: dirs.Mirrors, TTL: s.cfg.Registry.MirrorTTL}
			for _, m := range s.cfg.Registry.Mirrors {
				spec.Mirrors.Mirrors = append(spec.Mirrors.Mirrors, registry.Mirror{Upstream: m.Upstream, Remote: m.Remote})
			}
		}
	}
	switch {
	case s.cfg.LoadBalancer.Enabled:
		if spec.LB, err = loadBalancerSpec(ctx, s); err != nil {
			return "", err
		}
	default:
		// No LoadBalancer status, but Services that ask for a forward
		// (devcluster.dev/forward) get one while the agent runs.
		spec.LB = agent.LBSpec{Address: agent.AddressForward, Context: s.cluster.KubeContext, Kubeconfig: s.deps.Kubeconfig}
	}
	st, err := s.deps.Agent.Ensure(ctx, spec)
	if err != nil {
		return "", problem.New(problem.Failed, "starting the devcluster agent", err,
			"if a port is taken, pick another with registry.port (--registry-port) or set registry.listenAddresses; the agent's log is in "+dirs.State)
	}
	s.agent = st
	if st.Action != "reused" {
		s.did("agent " + st.Action)
	}
	parts := []string{}
	if s.cfg.Registry.Enabled {
		port := strconv.Itoa(s.cfg.Registry.Port)
		s.registry = &RegistrySummary{Host: "localhost:" + port, ClusterHost: net.JoinHostPort(addr, port),
			Listen: st.Listen, DataDir: spec.DataDir, Agent: st, Mirrors: spec.Mirrors.Mirrors}
		if len(spec.Mirrors.Mirrors) > 0 {
			s.registry.MirrorStore = spec.Mirrors.Store
		}
		clusterReachable := slices.Contains(st.Listen, net.JoinHostPort(addr, port)) || cfgListensAll(st.Listen, port)
		if !clusterReachable && net.ParseIP(addr) != nil && !net.ParseIP(addr).IsLoopback() && addr != "10.0.2.2" {
			s.deps.Report.Warn(fmt.Sprintf("the registry does not listen on %s, where the cluster pulls from (no such address on this host); "+
				"set registry.clusterAddress and registry.listenAddresses to an address both can use", net.JoinHostPort(addr, port)))
		}
		parts = append(parts, "registry on "+strings.Join(st.Listen, ", "))
		if ups := mirroredUpstreams(s.cfg); len(ups) > 0 {
			parts = append(parts, "mirrors of "+strings.Join(ups, ", "))
		}
	}
	switch {
	case spec.LB.Address == string(loadbalancer.AddressLocalhost):
		parts = append(parts, "LoadBalancer Services on 127.0.0.1 ("+s.lbChoice.Reason+")")
	case spec.LB.NodeIP != "":
		parts = append(parts, "LoadBalancer IP "+spec.LB.NodeIP)
	}
	return fmt.Sprintf("%s (pid %d): %s", st.Action, st.PID, strings.Join(parts, "; ")), nil
}

func cfgListensAll(listen []string, port string) bool {
	return slices.Contains(listen, "0.0.0.0:"+port) || slices.Contains(listen, "[::]:"+port)
}

func wireRegistry(ctx context.Context, s *upState) (string, error) {
	r := s.registry
	var done []string
	nodes, reachesNodes := s.deps.Provider.(provider.NodeAccess)
	if !reachesNodes {
		s.deps.Report.Warn(fmt.Sprintf("devcluster does not configure the nodes of a cluster it did not create: each node's runtime must pull from %s over plain HTTP "+
			"(for containerd, a %s like the one devcluster writes on its own clusters)", r.ClusterHost, hostsTOMLPath(r.ClusterHost)))
		if ups := mirroredUpstreams(s.cfg); len(ups) > 0 {
			s.deps.Report.Warn(fmt.Sprintf("the mirrors of %s are served on %s but not wired: devcluster cannot reach the nodes of a cluster it did not create "+
				"(for containerd, each upstream needs a %s with the mirror as its host; registry.mirrors: [] turns them off)",
				strings.Join(ups, ", "), r.ClusterHost, hostsTOMLPath("<upstream>")))
		}
	} else if s.cluster.ContainerRuntime == "containerd" {
		files := registryHostsFiles(r.ClusterHost, r.ClusterHost, r.Host)
		for _, m := range s.cfg.Registry.Mirrors {
			files = append(files, hostsFile{m.Upstream, mirrorHostsTOML(m.Remote, r.ClusterHost)})
		}
		written, err := ensureHostsTOML(ctx, nodes, s.cluster, files)
		if err != nil {
			return "", err
		}
		what := r.ClusterHost + " and " + r.Host
		if ups := mirroredUpstreams(s.cfg); len(ups) > 0 {
			what = r.ClusterHost + ", " + r.Host + " and the mirrors of " + strings.Join(ups, ", ")
		}
		if len(written) > 0 {
			s.did("hosts.toml written")
			done = append(done, fmt.Sprintf("hosts.toml for %s written on %d of %d node(s)", what, len(written), len(s.cluster.NodeNames)))
		} else {
			done = append(done, fmt.Sprintf("hosts.toml for %s in place on %d node(s)", what, len(s.cluster.NodeNames)))
		}
	} else if ups := mirroredUpstreams(s.cfg); len(ups) > 0 {
		s.deps.Report.Warn(fmt.Sprintf("the mirrors of %s are wired for containerd only; the %s runtime pulls from the upstreams directly",
			strings.Join(ups, ", "), s.cluster.ContainerRuntime))
	}
	if s.deps.Provider.OwnsClusters() && s.cluster.ContainerRuntime != "containerd" && !slices.Contains(s.cluster.InsecureRegistries, r.ClusterHost) {
		s.deps.Report.Warn(fmt.Sprintf("the %s runtime only pulls over plain HTTP from registries given at creation, and %s was not: "+
			"run `devcluster up --recreate`", s.cluster.ContainerRuntime, r.ClusterHost))
	}
	if !s.deps.Provider.OwnsClusters() {
		// Another tool's registry may be published there already.
		owner, err := kube.RegistryHostingOwner(ctx, s.clients.Kube)
		if err != nil {
			return "", problem.New(problem.Failed, "reading kube-public/local-registry-hosting", err, "")
		}
		if owner != "" && owner != kube.ManagedBy {
			s.deps.Report.Warn(fmt.Sprintf("kube-public/local-registry-hosting is managed by %s; left alone, so tools will not find devcluster's registry there", owner))
			return strings.Join(done, ", "), nil
		}
	}
	err := kube.ApplyLocalRegistryHosting(ctx, s.clients.Kube, kube.LocalRegistryHosting{
		Host: r.Host, HostFromContainerRuntime: r.ClusterHost, HostFromClusterNetwork: r.ClusterHost, Help: RegistryHelp,
	})
	if err != nil {
		return "", problem.New(problem.Failed, "publishing the registry to the cluster", err, "")
	}
	done = append(done, "kube-public/local-registry-hosting")
	return strings.Join(done, ", "), nil
}

// mirroredUpstreams are the upstreams the agent mirrors, in order.
func mirroredUpstreams(cfg *config.Config) []string {
	out := make([]string, len(cfg.Registry.Mirrors))
	for i, m := range cfg.Registry.Mirrors {
		out[i] = m.Upstream
	}
	return out
}

// RegistryDataDir is where the cluster's registry keeps its storage:
// registry.dataDir, or the default under the cluster's data directory.
func RegistryDataDir(cfg *config.Config, dirs paths.Dirs) string {
	if cfg.Registry.DataDir != "" {
		return cfg.Registry.DataDir
	}
	return dirs.RegistryData()
}

// loadBalancerSpec is the agent's LoadBalancer controller: loadBalancer.address
// resolved (auto by the platform and one probe of the node IP), with the
// node IP in node mode.
func loadBalancerSpec(ctx context.Context, s *upState) (agent.LBSpec, error) {
	lb := agent.LBSpec{Context: s.cluster.KubeContext, Kubeconfig: s.deps.Kubeconfig}
	want := loadbalancer.Address(s.cfg.LoadBalancer.Address)
	// The node IP from the profile is what `minikube ip` prints (it
	// reads the same saved config); ask minikube only if it is missing.
	ip, err := loadBalancerIP(ctx, s.deps.Provider, s.cfg, s.cluster, want != loadbalancer.AddressLocalhost)
	if err != nil {
		return lb, err
	}
	s.lbChoice = loadbalancer.ResolveAddress(ctx, want, platformOf(s.deps, s.cluster), ip, probePorts(s), s.deps.Probe)
	if s.lbChoice.Address == loadbalancer.AddressLocalhost {
		lb.Address = string(loadbalancer.AddressLocalhost)
		return lb, nil
	}
	lb.NodeIP = ip
	return lb, nil
}

// probePorts are the node's ports the probe dials: the API server's (the
// kubeconfig's when it names the node IP, else the provider's default:
// minikube 8443, kind 6443: provider.Network) and the kubelet's.
func probePorts(s *upState) []int {
	api := 8443
	if n, ok := s.deps.Provider.(provider.Networked); ok && n.Network(s.cluster).APIServerPort > 0 {
		api = n.Network(s.cluster).APIServerPort
	}
	if s.clients != nil && s.clients.Config != nil {
		if u, err := url.Parse(s.clients.Config.Host); err == nil && u.Hostname() == s.cluster.IP {
			if p, err := strconv.Atoi(u.Port()); err == nil && p > 0 {
				api = p
			}
		}
	}
	return []int{api, 10250}
}
