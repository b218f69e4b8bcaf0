package standin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"text/template"
	"time"
)

type invocation struct {
	ctx     context.Context
	env     Env
	profile string
}

var profileNameRE = regexp.MustCompile(`^(([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9\-]*[a-zA-Z0-9])\.)*([A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9\-]*[A-Za-z0-9])$`)

// commands maps command words to flags and handlers.
type command struct {
	flags []flagSpec
	run   func(s *invocation, p *parsed) int
}

var commands = map[string]command{
	"version":        {flags: []flagSpec{{long: "output", short: "o", kind: stringFlag}, {long: "short", kind: boolFlag}, {long: "components", kind: boolFlag}}, run: (*invocation).version},
	"start":          {flags: startFlags, run: (*invocation).start},
	"status":         {flags: []flagSpec{{long: "output", short: "o", kind: stringFlag}, {long: "format", short: "f", kind: stringFlag}, {long: "layout", short: "l", kind: stringFlag}, {long: "node", short: "n", kind: stringFlag}, {long: "watch", short: "w", kind: stringFlag}}, run: (*invocation).status},
	"ip":             {flags: []flagSpec{{long: "node", short: "n", kind: stringFlag}}, run: (*invocation).ip},
	"profile list":   {flags: []flagSpec{{long: "output", short: "o", kind: stringFlag}, {long: "light", short: "l", kind: boolFlag}, {long: "detailed", short: "d", kind: boolFlag}}, run: (*invocation).profileList},
	"stop":           {flags: []flagSpec{{long: "all", kind: boolFlag}, {long: "keep-context-active", kind: boolFlag}, {long: "output", short: "o", kind: stringFlag}}, run: (*invocation).stop},
	"pause":          {flags: []flagSpec{{long: "all-namespaces", short: "A", kind: boolFlag}, {long: "output", short: "o", kind: stringFlag}}, run: (*invocation).pause},
	"unpause":        {flags: []flagSpec{{long: "all-namespaces", short: "A", kind: boolFlag}, {long: "output", short: "o", kind: stringFlag}}, run: (*invocation).unpause},
	"delete":         {flags: []flagSpec{{long: "all", kind: boolFlag}, {long: "purge", kind: boolFlag}, {long: "output", short: "o", kind: stringFlag}}, run: (*invocation).delete},
	"update-context": {run: (*invocation).updateContext},
	"cp":             {run: (*invocation).cp},
	"ssh":            {flags: []flagSpec{{long: "node", short: "n", kind: stringFlag}, {long: "native-ssh", kind: stringFlag}}, run: (*invocation).ssh},
	"kubectl":        {flags: []flagSpec{{long: "ssh", kind: boolFlag}}, run: (*invocation).kubectl},
}

var startFlags = []flagSpec{
	{long: "cpus", kind: stringFlag}, {long: "memory", short: "m", kind: stringFlag},
	{long: "driver", short: "d", kind: stringFlag}, {long: "vm-driver", kind: stringFlag},
	{long: "kubernetes-version", kind: stringFlag}, {long: "container-runtime", short: "c", kind: stringFlag},
	{long: "insecure-registry", kind: sliceFlag}, {long: "registry-mirror", kind: sliceFlag},
	{long: "nodes", short: "n", kind: stringFlag}, {long: "wait", kind: sliceFlag}, {long: "wait-timeout", kind: stringFlag},
	{long: "addons", kind: sliceFlag}, {long: "output", short: "o", kind: stringFlag}, {long: "dry-run", kind: boolFlag},
	{long: "keep-context", kind: boolFlag}, {long: "embed-certs", kind: boolFlag}, {long: "force", kind: boolFlag},
	{long: "delete-on-failure", kind: boolFlag}, {long: "apiserver-port", kind: stringFlag}, {long: "extra-config", kind: sliceFlag},
	{long: "disk-size", kind: stringFlag}, {long: "cni", kind: stringFlag}, {long: "namespace", kind: stringFlag},
	{long: "network", kind: stringFlag}, {long: "subnet", kind: stringFlag}, {long: "static-ip", kind: stringFlag},
	{long: "no-kubernetes", kind: boolFlag}, {long: "ha", kind: boolFlag}, {long: "download-only", kind: boolFlag},
	{long: "interactive", kind: boolFlag}, {long: "install-addons", kind: boolFlag},
}

func (s *invocation) main() int {
	args := s.env.Args
	if path := s.env.get("STANDIN_CALL_LOG"); path != "" {
		if f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600); err == nil {
			b, _ := json.Marshal(args)
			fmt.Fprintln(f, string(b))
			_ = f.Close()
		}
	}
	// Command words are the leading non-flag arguments.
	var words []string
	for _, a := range args {
		if strings.HasPrefix(a, "-") {
			break
		}
		words = append(words, a)
	}
	if len(words) == 0 {
		fmt.Fprintln(s.env.Stdout, "minikube provisions and manages local Kubernetes clusters optimized for development workflows.")
		return 0
	}
	key := words[0]
	if key == "profile" && len(words) > 1 && words[1] == "list" {
		key = "profile list"
	}
	cmd, ok := commands[key]
	if !ok {
		fmt.Fprintf(s.env.Stderr, "Error: unknown command %q for \"minikube\"\nRun 'minikube --help' for usage.\n", words[0])
		return exProgramUsage
	}
	p, err := parseFlags(args[len(strings.Fields(key)):], cmd.flags)
	if err != nil {
		fmt.Fprintf(s.env.Stderr, "Error: %v\nSee 'minikube %s --help' for usage.\n", err, key)
		return exProgramUsage
	}
	s.profile = p.str("profile")
	if s.profile == "" {
		s.profile = s.env.get("MINIKUBE_PROFILE")
	}
	if s.profile == "" {
		s.profile = s.configProfile()
	}
	if s.profile == "" {
		s.profile = "minikube"
	}
	return cmd.run(s, p)
}

// configProfile reads "profile" from $MINIKUBE_HOME/.minikube/config/config.json.
func (s *invocation) configProfile() string {
	b, err := os.ReadFile(filepath.Join(s.miniPath(), "config", "config.json"))
	if err != nil {
		return ""
	}
	var m map[string]any
	if json.Unmarshal(b, &m) != nil {
		return ""
	}
	v, _ := m["profile"].(string)
	return v
}

func (s *invocation) output(p *parsed, allowed ...string) (string, bool) {
	o := p.str("output")
	if o == "" {
		o = "text"
	}
	for _, a := range allowed {
		if o == a {
			return o, true
		}
	}
	return o, false
}

func (s *invocation) version(p *parsed) int {
	switch o := p.str("output"); {
	case p.has("short"):
		fmt.Fprintln(s.env.Stdout, Version)
	case o == "json":
		b, _ := json.Marshal(map[string]string{"commit": Commit, "minikubeVersion": Version})
		fmt.Fprintln(s.env.Stdout, string(b))
	case o == "yaml":
		fmt.Fprintf(s.env.Stdout, "commit: %s\nminikubeVersion: %s\n\n", Commit, Version)
	case o == "":
		fmt.Fprintf(s.env.Stdout, "minikube version: %s\ncommit: %s\n", Version, Commit)
	default:
		fmt.Fprintln(s.env.Stderr, "error: --output must be 'yaml' or 'json'")
		return exProgramError
	}
	return 0
}

// hostCPUs and hostMemoryMB describe the simulated host.
func (s *invocation) hostCPUs() int {
	if n, err := strconv.Atoi(s.env.get("STANDIN_HOST_CPUS")); err == nil {
		return n
	}
	return 8
}

func (s *invocation) hostMemoryMB() int {
	if n, err := strconv.Atoi(s.env.get("STANDIN_HOST_MEMORY_MB")); err == nil {
		return n
	}
	return 16384
}

var knownDrivers = map[string]string{
	"docker": "docker", "podman": "podman", "kvm2": "kvm2", "kvm": "kvm2", "qemu2": "qemu2", "qemu": "qemu2",
	"virtualbox": "virtualbox", "vmware": "vmware", "none": "none", "native": "none", "ssh": "ssh", "generic": "ssh",
}

// ramRE is docker/go-units' RAMInBytes grammar.
var ramRE = regexp.MustCompile(`(?i)^(\d+(\.\d+)*) ?([kmgtp])?i?b?$`)

// memoryMB is pkg/util.CalculateSizeInMB: a bare number gets "mb" appended.
func memoryMB(v string) (int, error) {
	if _, err := strconv.Atoi(v); err == nil {
		v += "mb"
	}
	m := ramRE.FindStringSubmatch(v)
	if m == nil {
		return 0, fmt.Errorf("FromHumanSize: invalid size: '%s'", v)
	}
	f, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return 0, fmt.Errorf("FromHumanSize: invalid size: '%s'", v)
	}
	exp := strings.Index("kmgtp", strings.ToLower(m[3])) + 1
	b := f * math.Pow(1024, float64(exp))
	return int(int64(b) / (1 << 20)), nil
}

var kubeVersionRE = regexp.MustCompile(`^v?(\d+)\.(\d+)(\.(\d+))?$`)

// resolveKubernetesVersion is minikube's version selection for a new or an
// existing cluster.
func resolveKubernetesVersion(v, existing string) (string, error) {
	switch v {
	case "":
		if existing != "" {
			return existing, nil
		}
		return DefaultKubernetesVersion, nil
	case "stable", "latest", "newest":
		return DefaultKubernetesVersion, nil
	}
	m := kubeVersionRE.FindStringSubmatch(v)
	if m == nil {
		//lint:ignore ST1005 minikube's own message, word for word
		return "", fmt.Errorf("Unable to parse %q: No Major.Minor.Patch elements found", v)
	}
	if m[3] == "" {
		if "v"+m[1]+"."+m[2]+".1" == DefaultKubernetesVersion {
			return DefaultKubernetesVersion, nil
		}
		return fmt.Sprintf("v%s.%s.0", m[1], m[2]), nil
	}
	return "v" + strings.TrimPrefix(v, "v"), nil
}

func semverLess(a, b string) bool {
	pa, pb := kubeVersionRE.FindStringSubmatch(a), kubeVersionRE.FindStringSubmatch(b)
	if pa == nil || pb == nil {
		return false
	}
	for _, i := range []int{1, 2, 4} {
		x, _ := strconv.Atoi(pa[i])
		y, _ := strconv.Atoi(pb[i])
		if x != y {
			return x < y
		}
	}
	return false
}

var registryHostRE = regexp.MustCompile(`^[^-][\w\.-]+$`)

// validInsecureRegistry is validateInsecureRegistry (start.go).
func validInsecureRegistry(addr string) bool {
	a := strings.TrimPrefix(strings.TrimPrefix(addr, "http://"), "https://")
	if strings.Contains(a, "://") || strings.HasSuffix(a, ":") {
		return false
	}
	if host, port, err := net.SplitHostPort(a); err == nil {
		if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
			return false
		}
		return net.ParseIP(host) != nil || registryHostRE.MatchString(host)
	}
	if _, _, err := net.ParseCIDR(a); err == nil {
		return true
	}
	return net.ParseIP(a) != nil || registryHostRE.MatchString(a)
}

func (s *invocation) start(p *parsed) int {
	o := &out{s: s}
	outFmt, ok := s.output(p, "text", "json")
	o.json = outFmt == "json"
	name := s.profile
	if len(name) < 2 || !profileNameRE.MatchString(name) {
		o.Warning(fmt.Sprintf("Profile name '%s' is not valid", name))
		return o.Fatal(exProgramUsage, "MK_USAGE", "Only alphanumeric and dashes '-' are permitted. Minimum 2 characters, starting with alphanumeric.", "")
	}
	existing, _ := s.loadProfile(name)
	prefix := ""
	if name != "minikube" {
		prefix = "[" + name + "] "
	}
	o.Step("Initial Minikube Setup", prefix+"minikube "+Version+" on Debian 12 (stand-in)")

	driver := p.str("driver")
	if driver == "" {
		driver = p.str("vm-driver")
	}
	if existing != nil && driver != "" && knownDrivers[driver] != existing.Driver {
		return o.Fatal(exGuestConflict, "GUEST_DRIVER_MISMATCH",
			fmt.Sprintf("The existing %q cluster was created using the %q driver, which is incompatible with requested %q driver.", name, existing.Driver, driver),
			fmt.Sprintf("Delete the existing '%s' cluster using: 'minikube delete -p %s', or start the existing '%s' cluster using: 'minikube start -p %s --driver=%s'", name, name, name, name, existing.Driver))
	}
	prevVersion := ""
	if existing != nil {
		prevVersion = existing.KubernetesConfig.KubernetesVersion
	}
	k8sVersion, err := resolveKubernetesVersion(p.str("kubernetes-version"), prevVersion)
	if err != nil {
		return o.Fatal(exProgramUsage, "MK_USAGE", err.Error(), "")
	}
	if semverLess(k8sVersion, "v1.28.0") && !p.has("force") {
		return o.Fatal(exControlPlaneUnsupport, "K8S_OLD_UNSUPPORTED",
			fmt.Sprintf("Kubernetes %s is not supported by this release of minikube", k8sVersion), "")
	}
	if existing != nil && semverLess(k8sVersion, prevVersion) {
		return o.Fatal(exControlPlaneUnsupport, "K8S_DOWNGRADE_UNSUPPORTED",
			fmt.Sprintf("Unable to safely downgrade existing Kubernetes %s cluster to %s", prevVersion, k8sVersion),
			fmt.Sprintf("1) Recreate the cluster with Kubernetes %s, by running:\n\nminikube delete -p %s\nminikube start -p %s --kubernetes-version=%s", k8sVersion, name, name, k8sVersion))
	}

	switch {
	case existing != nil:
		driver = existing.Driver
		o.Step("Selecting Driver", fmt.Sprintf("Using the %s driver based on existing profile", driver))
	case driver != "":
		canon, known := knownDrivers[driver]
		if !known {
			return o.Fatal(exDriverUnsupported, "DRV_UNSUPPORTED_OS", fmt.Sprintf("The driver '%s' is not supported on linux/amd64", driver), "")
		}
		driver = canon
		o.Step("Selecting Driver", fmt.Sprintf("Using the %s driver based on user configuration", driver))
	default:
		if s.env.get("STANDIN_NO_DOCKER") != "" {
			return o.Fatal(55, "DRV_NOT_DETECTED", "No possible driver was detected. Try specifying --driver, or see https://minikube.sigs.k8s.io/docs/start/", "")
		}
		driver = "docker"
		o.Step("Selecting Driver", "Automatically selected the docker driver")
	}
	kic := driver == "docker" || driver == "podman"
	if driver == "docker" && s.env.get("STANDIN_NO_DOCKER") != "" {
		return o.Fatal(exProviderNotFound, "PROVIDER_DOCKER_NOT_FOUND", "The 'docker' provider was not found: exec: \"docker\": executable file not found in $PATH",
			"Install Docker")
	}

	// validateFlags: CPUs, memory, runtime, output, insecure registries.
	cpus := 2
	if existing != nil {
		cpus = existing.CPUs
	}
	if p.has("cpus") {
		switch v := p.str("cpus"); v {
		case "max":
			cpus = s.hostCPUs()
		case "no-limit":
			if !kic {
				return o.Fatal(exProgramUsage, "MK_USAGE", fmt.Sprintf("The '%s' driver does not support --cpus=no-limit", driver), "")
			}
			cpus = 0
		default:
			n, err := strconv.Atoi(v)
			if err != nil {
				n = 0 // viper.GetInt: non-numeric reads as 0
			}
			if n != 0 || !kic {
				if n < 2 && !p.has("force") {
					return o.Fatal(exInsufficientCores, "RSRC_INSUFFICIENT_CORES", fmt.Sprintf("Requested cpu count %d is less than the minimum allowed of 2", n), "")
				}
				if n > s.hostCPUs() && !p.has("force") {
					return o.Fatal(exInsufficientCores, "RSRC_INSUFFICIENT_CORES", fmt.Sprintf("Requested cpu count %d is greater than the available cpus of %d", n, s.hostCPUs()), "")
				}
			}
			cpus = n
		}
	}
	memory := 0
	if existing != nil {
		memory = existing.Memory
	} else {
		memory = min(max(s.hostMemoryMB()/4, 3072), 6144)
	}
	if p.has("memory") {
		switch v := p.str("memory"); v {
		case "max":
			memory = s.hostMemoryMB() - 1024
		case "no-limit":
			if !kic {
				return o.Fatal(exProgramUsage, "MK_USAGE", fmt.Sprintf("The '%s' driver does not support --memory=no-limit", driver), "")
			}
			memory = 0
		default:
			mb, err := memoryMB(v)
			if err != nil {
				return o.Fatal(exProgramUsage, "MK_USAGE", fmt.Sprintf("Unable to parse memory '%s': %v", v, err), "")
			}
			if mb < 1800 && !p.has("force") {
				return o.Fatal(exInsufficientMemory, "RSRC_INSUFFICIENT_REQ_MEMORY", fmt.Sprintf("Requested memory allocation %dMiB is less than the usable minimum of 1800MB", mb), "")
			}
			if mb > s.hostMemoryMB() && !p.has("force") {
				return o.Fatal(exInsufficientMemory, "RSRC_OVER_ALLOC_MEM", fmt.Sprintf("Requested memory allocation %dMB is more than your system limit %dMB.", mb, s.hostMemoryMB()), "")
			}
			memory = mb
		}
	}
	runtime := ""
	if existing != nil {
		runtime = existing.KubernetesConfig.ContainerRuntime
	}
	if p.has("container-runtime") {
		switch r := p.str("container-runtime"); r {
		case "docker", "containerd", "crio":
			runtime = r
		case "cri-o":
			runtime = "crio"
		default:
			return o.Fatal(exProgramUsage, "MK_USAGE", fmt.Sprintf("Invalid Container Runtime: %s. Valid runtimes are: [docker cri-o containerd]", r), "")
		}
	}
	if runtime == "" {
		runtime = "docker"
		o.Warning(`Starting v1.39.0, minikube will default to "containerd" container runtime. See #21973 for more info.`)
	}
	if !ok {
		return o.Fatal(exProgramUsage, "MK_USAGE", fmt.Sprintf("Sorry, the requested output format %q is invalid: use text or json", outFmt), "")
	}
	for _, r := range p.slices["insecure-registry"] {
		if !validInsecureRegistry(r) {
			return o.Fatal(exProgramUsage, "MK_USAGE", fmt.Sprintf("Sorry, the address provided with the --insecure-registry flag is invalid: %s. Expected formats are: <ip>[:<port>], <hostname>[:<port>] or <network>/<netmask>", r), "")
		}
	}
	if p.has("dry-run") {
		o.Step("Dry Run", "dry-run validation complete!")
		return 0
	}
	if reason := s.env.get("STANDIN_FAIL_START"); reason != "" {
		return o.Fatal(exGuestError, reason, "Failed to start host: stand-in failure requested by STANDIN_FAIL_START", "Try again with --alsologtostderr for more detail")
	}

	var cc *clusterConfig
	if existing != nil {
		// updateExistingConfigFromFlags: cpus and memory only warn;
		// insecure registries are skipped without a word.
		if p.has("memory") && memory != existing.Memory {
			o.Warning("You cannot change the memory size for an existing minikube cluster. Please first delete the cluster.")
		}
		if p.has("cpus") && (p.str("cpus") == "max" || cpus != existing.CPUs) {
			o.Warning("You cannot change the CPUs for an existing minikube cluster. Please first delete the cluster.")
		}
		cc = existing
		cc.KubernetesConfig.KubernetesVersion = k8sVersion
		cc.KubernetesConfig.ContainerRuntime = runtime
		for i := range cc.Nodes {
			cc.Nodes[i].KubernetesVersion = k8sVersion
			cc.Nodes[i].ContainerRuntime = runtime
		}
	} else {
		ip := s.env.get("STANDIN_NODE_IP")
		if ip == "" {
			ip = "192.168.49.2"
		}
		var insecure []string
		if regs := p.slices["insecure-registry"]; len(regs) > 0 {
			insecure = regs
		}
		cc = &clusterConfig{
			Name: name, KicBaseImage: "gcr.io/k8s-minikube/kicbase:v0.0.50", Memory: memory, CPUs: cpus, DiskSize: 20000,
			Driver: driver, HyperkitVSockPorts: []string{}, InsecureRegistry: insecure, RegistryMirror: []string{},
			HostOnlyCIDR: "192.168.59.1/24", APIServerPort: 8443,
			KubernetesConfig: kubernetesConfig{KubernetesVersion: k8sVersion, ClusterName: name, Namespace: "default",
				APIServerName: "minikubeCA", DNSDomain: "cluster.local", ContainerRuntime: runtime, NetworkPlugin: "cni",
				ServiceCIDR: "10.96.0.0/12"},
			Nodes:            []nodeConfig{{Name: "", IP: ip, Port: 8443, KubernetesVersion: k8sVersion, ContainerRuntime: runtime, ControlPlane: true, Worker: true}},
			Addons:           map[string]bool{"default-storageclass": true, "storage-provisioner": true},
			VerifyComponents: map[string]bool{"apiserver": true, "system_pods": true},
			StartHostTimeout: 6 * time.Minute, ExposedPorts: []string{}, CertExpiration: 26280 * time.Hour,
			AutoPauseInterval: time.Minute,
		}
	}
	o.Step("Starting Node", fmt.Sprintf("Starting %q primary control-plane node in %q cluster", name, name))
	m, _ := s.loadMachine(name)
	switch {
	case m == nil:
		o.Step("Creating Container", fmt.Sprintf("Creating %s container (CPUs=%d, Memory=%dMB) ...", driver, cpus, memory))
	case m.State == "Running" || m.State == "Paused":
		o.Step("Running", fmt.Sprintf("Updating the running %s %q container ...", driver, name))
	default:
		o.Step("Restarting", fmt.Sprintf("Restarting existing %s container for %q ...", driver, name))
	}
	if err := s.saveProfile(cc); err != nil {
		return o.Fatal(exGuestError, "GUEST_START", err.Error(), "")
	}
	if err := s.saveMachine(name, &machine{State: "Running"}); err != nil {
		return o.Fatal(exGuestError, "GUEST_START", err.Error(), "")
	}
	o.Step("Preparing Kubernetes", fmt.Sprintf("Preparing Kubernetes %s on %s ...", k8sVersion, runtime))
	if err := s.writeContext(cc, p.has("keep-context")); err != nil {
		return o.Fatal(exGuestError, "GUEST_START", "updating kubeconfig: "+err.Error(), "")
	}
	if err := s.registerNode(cc); err != nil {
		return o.Fatal(exGuestError, "GUEST_START", "registering the node: "+err.Error(), "")
	}
	o.Step("Verifying Kubernetes", "Verifying Kubernetes components...")
	o.Step("Enabling Addons", "Enabled addons: storage-provisioner, default-storageclass")
	o.Step("Done", fmt.Sprintf("Done! kubectl is now configured to use %q cluster and \"default\" namespace by default", name))
	return 0
}

// nodeStatus is cluster.Status for the primary node.
type nodeStatus struct {
	Name       string
	Host       string
	Kubelet    string
	APIServer  string
	Kubeconfig string
	Worker     bool
}

func (s *invocation) nodeStatus(cc *clusterConfig) nodeStatus {
	st := nodeStatus{Name: cc.Name, Host: "Nonexistent", Kubelet: "Nonexistent", APIServer: "Nonexistent", Kubeconfig: "Nonexistent"}
	m, err := s.loadMachine(cc.Name)
	if err != nil {
		return st
	}
	switch m.State {
	case "Running":
		st = nodeStatus{Name: cc.Name, Host: "Running", Kubelet: "Running", APIServer: "Running", Kubeconfig: s.kubeconfigStatus(cc)}
	case "Paused":
		st = nodeStatus{Name: cc.Name, Host: "Running", Kubelet: "Stopped", APIServer: "Paused", Kubeconfig: s.kubeconfigStatus(cc)}
	default:
		st = nodeStatus{Name: cc.Name, Host: m.State, Kubelet: m.State, APIServer: m.State, Kubeconfig: m.State}
	}
	return st
}

// exitCode is status.go exitCode(): bit flags over the nodes.
func exitCode(st nodeStatus) int {
	c := 0
	if st.Host != "Running" {
		c |= 1
	}
	if (st.APIServer != "Running" && st.APIServer != "Irrelevant") || st.Kubelet != "Running" {
		c |= 2
	}
	if st.Kubeconfig != "Configured" && st.Kubeconfig != "Irrelevant" {
		c |= 4
	}
	return c
}

func (s *invocation) status(p *parsed) int {
	o := &out{s: s}
	if p.has("output") && p.str("output") != "text" && p.has("format") {
		return o.Fatal(exProgramUsage, "MK_USAGE", "Cannot use both --output and --format options", "")
	}
	outFmt := p.str("output")
	o.json = outFmt == "json"
	cc, err := s.loadProfile(s.profile)
	if err != nil {
		return o.profileNotFound(s.profile)
	}
	if outFmt != "" && outFmt != "text" && outFmt != "json" {
		return o.Fatal(exProgramUsage, "MK_USAGE", fmt.Sprintf("invalid output format: %s. Valid values: 'text', 'json'", outFmt), "")
	}
	st := s.nodeStatus(cc)
	switch {
	case p.has("format"):
		t, err := template.New("status").Parse(p.str("format"))
		if err != nil {
			return o.Fatal(exProgramUsage, "MK_USAGE", "parsing --format: "+err.Error(), "")
		}
		_ = t.Execute(s.env.Stdout, st)
	case outFmt == "json":
		b, _ := json.Marshal(st)
		fmt.Fprint(s.env.Stdout, string(b))
	default:
		fmt.Fprintf(s.env.Stdout, "%s\ntype: Control Plane\nhost: %s\nkubelet: %s\napiserver: %s\nkubeconfig: %s\n\n", st.Name, st.Host, st.Kubelet, st.APIServer, st.Kubeconfig)
		if st.Kubeconfig == "Misconfigured" {
			fmt.Fprint(s.env.Stdout, "\nWARNING: Your kubectl is pointing to stale minikube-vm.\nTo fix the kubectl context, run `minikube update-context`\n")
		}
	}
	return exitCode(st)
}

// running is mustload.Running: the profile must exist and its host run.
func (s *invocation) running(o *out) (*clusterConfig, int) {
	cc, err := s.loadProfile(s.profile)
	if err != nil {
		return nil, o.profileNotFound(s.profile)
	}
	m, err := s.loadMachine(s.profile)
	if err != nil {
		fmt.Fprintf(s.env.Stdout, "* The control-plane node %s host does not exist\n", s.profile)
		return nil, exGuestNotFound
	}
	if m.State != "Running" && m.State != "Paused" {
		hint := `"minikube start"`
		if s.profile != "minikube" {
			hint = fmt.Sprintf(`"minikube start -p %s"`, s.profile)
		}
		fmt.Fprintf(s.env.Stdout, "* The control-plane node %s host is not running: state=%s\n  To start a cluster, run: %s\n", s.profile, m.State, hint)
		return nil, exGuestNotRunning
	}
	return cc, 0
}

func (s *invocation) ip(p *parsed) int {
	o := &out{s: s}
	cc, code := s.running(o)
	if cc == nil {
		return code
	}
	if n := p.str("node"); n != "" && n != s.profile {
		return o.Fatal(exGuestNotFound, "GUEST_NODE_RETRIEVE", "retrieving node: Could not find node "+n, "")
	}
	fmt.Fprintln(s.env.Stdout, cc.Nodes[0].IP)
	return 0
}

type profileJSON struct {
	Name              string
	Status            string
	Config            *clusterConfig
	Active            bool
	ActiveKubeContext bool
}

func (s *invocation) profileList(p *parsed) int {
	o := &out{s: s}
	outFmt := p.str("output")
	if outFmt == "" {
		outFmt = "table"
	}
	if outFmt != "table" && outFmt != "json" {
		return o.Fatal(exProgramUsage, "MK_USAGE", fmt.Sprintf("invalid output format: %s. Valid values: 'table', 'json'", outFmt), "")
	}
	kc, _ := s.readKubeconfig()
	valid, invalid := []profileJSON{}, []profileJSON{}
	for _, name := range s.profileNames() {
		cc, err := s.loadProfile(name)
		pj := profileJSON{Name: name, Config: cc, Active: name == s.profile, ActiveKubeContext: kc != nil && kc.CurrentContext == name}
		if err != nil || cc == nil || cc.Driver == "" || len(cc.Nodes) == 0 || cc.Nodes[0].KubernetesVersion == "" {
			pj.Config = nil
			pj.Status = "Unknown"
			invalid = append(invalid, pj)
			continue
		}
		switch st := s.nodeStatus(cc); {
		case p.has("light"):
			pj.Status = "Skipped"
		case st.APIServer == "Paused":
			pj.Status = "Paused"
		case exitCode(st) == 0:
			pj.Status = "OK"
		case st.Host == "Running":
			pj.Status = "Error"
		default:
			pj.Status = "Stopped"
		}
		valid = append(valid, pj)
	}
	if outFmt == "json" {
		b, _ := json.Marshal(map[string]any{"invalid": invalid, "valid": valid})
		fmt.Fprint(s.env.Stdout, string(b))
		return 0
	}
	if len(valid) == 0 {
		return o.Fatal(exProgramUsage, "MK_USAGE_NO_PROFILE", "No minikube profile was found.", "You can create one using 'minikube start'.")
	}
	fmt.Fprintln(s.env.Stdout, "| Profile | Driver | Runtime | IP | Version | Status | Nodes | Active Profile | Active Kubecontext |")
	for _, v := range valid {
		fmt.Fprintf(s.env.Stdout, "| %s | %s | %s | %s | %s | %s | %d | %v | %v |\n", v.Name, v.Config.Driver, v.Config.KubernetesConfig.ContainerRuntime,
			v.Config.Nodes[0].IP, v.Config.KubernetesConfig.KubernetesVersion, v.Status, len(v.Config.Nodes), v.Active, v.ActiveKubeContext)
	}
	if len(invalid) > 0 {
		o.Warning(fmt.Sprintf("Found %d invalid profile(s) ! ", len(invalid)))
	}
	return 0
}

func (s *invocation) stop(p *parsed) int {
	o := &out{s: s}
	cc, err := s.loadProfile(s.profile)
	if err != nil {
		return o.profileNotFound(s.profile)
	}
	if m, _ := s.loadMachine(s.profile); m != nil && m.State != "Stopped" {
		fmt.Fprintf(s.env.Stdout, "* Stopping node %q  ...\n", s.profile)
	}
	if err := s.saveMachine(cc.Name, &machine{State: "Stopped"}); err != nil {
		return o.Fatal(exGuestError, "GUEST_STOP_TIMEOUT", err.Error(), "")
	}
	if !p.has("keep-context-active") {
		_ = s.deleteContext(cc.Name)
	}
	fmt.Fprintln(s.env.Stdout, "* 1 node stopped.")
	return 0
}

func (s *invocation) pause(_ *parsed) int {
	o := &out{s: s}
	cc, code := s.running(o)
	if cc == nil {
		return code
	}
	_ = s.saveMachine(cc.Name, &machine{State: "Paused"})
	fmt.Fprintln(s.env.Stdout, "* Pausing node "+cc.Name+" ... ")
	fmt.Fprintln(s.env.Stdout, "* Paused 14 containers in: kube-system, kubernetes-dashboard, storage-gluster, istio-operator")
	return 0
}

func (s *invocation) unpause(_ *parsed) int {
	o := &out{s: s}
	cc, code := s.running(o)
	if cc == nil {
		return code
	}
	_ = s.saveMachine(cc.Name, &machine{State: "Running"})
	fmt.Fprintln(s.env.Stdout, "* Unpausing node "+cc.Name+" ... ")
	fmt.Fprintln(s.env.Stdout, "* Unpaused 14 containers in: kube-system, kubernetes-dashboard, storage-gluster, istio-operator")
	return 0
}

func (s *invocation) delete(p *parsed) int {
	o := &out{s: s}
	if len(p.rest) > 0 {
		return o.Fatal(exProgramUsage, "MK_USAGE", "Usage: minikube delete", "")
	}
	names := []string{s.profile}
	if p.has("all") {
		names = s.profileNames()
	}
	for _, name := range names {
		cc, err := s.loadProfile(name)
		if err != nil {
			fmt.Fprintf(s.env.Stderr, "! %q profile does not exist, trying anyways.\n", name)
		} else {
			fmt.Fprintf(s.env.Stdout, "* Deleting %q in %s ...\n", name, cc.Driver)
			fmt.Fprintf(s.env.Stdout, "* Removing %s ...\n", s.machineDir(name))
			if err := s.unregisterNode(name); err != nil {
				return o.Fatal(exGuestError, "GUEST_DELETION", "Failed to delete profile(s): "+err.Error(), "")
			}
			if err := s.wipeWorkloads(); err != nil {
				return o.Fatal(exGuestError, "GUEST_DELETION", "Failed to delete profile(s): "+err.Error(), "")
			}
		}
		if err := os.RemoveAll(s.profileDir(name)); err != nil {
			return o.Fatal(exGuestError, "GUEST_DELETION", "Failed to delete profile(s): "+err.Error(), "")
		}
		_ = os.RemoveAll(s.machineDir(name))
		if err := s.deleteContext(name); err != nil {
			return o.Fatal(exGuestError, "GUEST_DELETION", "Failed to delete profile(s): "+err.Error(), "")
		}
		fmt.Fprintf(s.env.Stdout, "* Removed all traces of the %q cluster.\n", name)
	}
	return 0
}

func (s *invocation) updateContext(_ *parsed) int {
	o := &out{s: s}
	cc, code := s.running(o)
	if cc == nil {
		return code
	}
	if s.kubeconfigStatus(cc) == "Configured" {
		fmt.Fprintf(s.env.Stdout, "* No changes required for the %q context\n", cc.Name)
	} else {
		if err := s.writeContext(cc, true); err != nil {
			return o.Fatal(exGuestError, "GUEST_KUBECONFIG", err.Error(), "")
		}
		fmt.Fprintf(s.env.Stdout, "* %q context has been updated to point to %s\n", cc.Name, strings.TrimPrefix(s.serverURL(cc), "https://"))
	}
	kc, err := s.readKubeconfig()
	if err == nil {
		kc.CurrentContext = cc.Name
		s.writeKubeconfig(kc)
	}
	fmt.Fprintf(s.env.Stdout, "* Current context is %q\n", cc.Name)
	return 0
}

// ssh records the command in the profile's ssh.log (one JSON array per
// line) and runs it on the node: with STANDIN_SSH_EXEC, prefixed by that
// command, answering as minikube's native client does (exit 1 with "ssh:
// Process exited with status N" when it fails); without, on the node's
// stand-in file system (see emulate).
func (s *invocation) ssh(p *parsed) int {
	o := &out{s: s}
	cc, code := s.running(o)
	if cc == nil {
		return code
	}
	node := cc.Name
	if n := p.str("node"); n != "" {
		if !slices.Contains(nodeNames(cc), n) {
			return o.Fatal(exGuestNotFound, "GUEST_NODE_RETRIEVE", fmt.Sprintf("retrieving node: Could not find node %s", n), "")
		}
		node = n
	}
	argv := append(p.rest, p.dashdash...)
	s.record(cc.Name, "ssh.log", argv)
	// The command reaches the node as one string run by a shell.
	line := strings.Join(argv, " ")
	prefix := strings.Fields(s.env.get("STANDIN_SSH_EXEC"))
	if len(prefix) == 0 {
		if st := s.emulate(cc.Name, node, line); st != 0 {
			fmt.Fprintf(s.env.Stderr, "ssh: Process exited with status %d\n", st)
			return exFailure
		}
		return 0
	}
	full := append(append([]string(nil), prefix...), "sh", "-c", line)
	c := exec.CommandContext(s.ctx, full[0], full[1:]...)
	c.Stdout, c.Stderr = s.env.Stdout, s.env.Stderr
	if err := c.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			fmt.Fprintf(s.env.Stderr, "ssh: Process exited with status %d\n", ee.ExitCode())
			return exFailure
		}
		fmt.Fprintln(s.env.Stderr, "ssh: "+err.Error())
		return exFailure
	}
	return 0
}

// kubectl runs kubectl from PATH with --cluster=<profile> inserted before
// the first flag, as minikube kubectl does.
func (s *invocation) kubectl(p *parsed) int {
	args := p.dashdash
	inserted := false
	var out []string
	for _, a := range args {
		if !inserted && strings.HasPrefix(a, "-") {
			out = append(out, "--cluster="+s.profile)
			inserted = true
		}
		out = append(out, a)
	}
	if !inserted {
		out = append(out, "--cluster="+s.profile)
	}
	c := exec.CommandContext(s.ctx, "kubectl", out...)
	c.Stdout, c.Stderr, c.Stdin = s.env.Stdout, s.env.Stderr, s.env.Stdin
	if err := c.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		fmt.Fprintln(s.env.Stderr, "Error caching kubectl: "+err.Error())
		return exFailure
	}
	return 0
}
