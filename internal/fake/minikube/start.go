package minikube

import (
	"fmt"
	"math"
	"net"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

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
	if semverLess(NewestKubernetesVersion, k8sVersion) {
		// A version newer than the newest minikube knows is looked up
		// on GitHub; offline the lookup fails, and how depends on the
		// network: a resolver that answers "no such host" is a known
		// issue (INET_LOOKUP_HOST), no network at all is not.
		o.Warning(fmt.Sprintf("Specified Kubernetes version %s is newer than the newest supported version: %s. Use `minikube config defaults kubernetes-version` for details.", strings.TrimPrefix(k8sVersion, "v"), NewestKubernetesVersion))
		o.Warning(fmt.Sprintf("Specified Kubernetes version %s not found in Kubernetes version list", strings.TrimPrefix(k8sVersion, "v")))
		o.Info("Searching the internet for Kubernetes version...")
		if s.env.get("STANDIN_ONLINE") == "" {
			lookup := "dial tcp: lookup api.github.com: connect: network is unreachable"
			if s.env.get("STANDIN_DNS") == "nxdomain" {
				lookup = "dial tcp: lookup api.github.com: no such host"
			}
			msg := fmt.Sprintf("error fetching Kubernetes version list from GitHub: Get \"https://api.github.com/repos/kubernetes/kubernetes/releases/tags/%s\": %s", k8sVersion, lookup)
			if s.env.get("STANDIN_DNS") == "nxdomain" {
				return o.FatalError(exInternetConfig, "INET_LOOKUP_HOST", msg, "Verify that your HTTP_PROXY and HTTPS_PROXY environment variables are set correctly.")
			}
			return o.FatalError(exInternetError, "K8S_FAIL_CONNECT", msg, "")
		}
		o.Info(fmt.Sprintf("Kubernetes version %s found in GitHub version list", strings.TrimPrefix(k8sVersion, "v")))
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
	if installed := s.env.get("STANDIN_INSTALLED_DRIVERS"); installed != "" && existing == nil && !slices.Contains(strings.Split(installed, ","), driver) {
		up := strings.ToUpper(driver)
		return o.Fatal(exProviderNotFound, "PROVIDER_"+up+"_NOT_FOUND", fmt.Sprintf("The '%s' provider was not found", driver),
			fmt.Sprintf("Install the %s driver: https://minikube.sigs.k8s.io/docs/drivers/%s/", driver, driver))
	}
	if driver == "docker" && s.env.get("STANDIN_DOCKER_DOWN") != "" {
		// Docker installed, its daemon down (`docker version` fails).
		if p.str("driver") == "" && existing == nil {
			return o.Fatal(exDriverNotFound, "DRV_DOCKER_NOT_RUNNING", "Found docker, but the docker service isn't running. Try restarting the docker service.", "")
		}
		return o.Fatal(exProviderNotRunning, "PROVIDER_DOCKER_NOT_RUNNING", `"docker version --format {{.Server.Os}}-{{.Server.Version}}:{{.Server.Platform.Name}}" exit status 1: Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?`,
			"Restart Docker")
	}
	if kic && s.env.get("STANDIN_EUID") == "0" {
		// The docker and podman drivers refuse root, --dry-run or not;
		// with --force they only say so. minikube prints these with
		// out.ErrT: unnamed error events with -o json.
		o.Err("X", "The \""+driver+"\" driver should not be used with root privileges. If you wish to continue as root, use --force.")
		o.Err("*", "If you are running minikube within a VM, consider using --driver=none:")
		o.Err(" ", "  https://minikube.sigs.k8s.io/docs/reference/drivers/none/")
		if existing != nil {
			o.Err("*", "Tip: To remove this root owned cluster, run: sudo minikube delete -p "+name)
		}
		if !p.has("force") {
			return o.Fatal(exDriverPermission, "DRV_AS_ROOT", fmt.Sprintf("The %q driver should not be used with root privileges.", driver), "")
		}
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
				// A reason without an exit code of its own: 10.
				return o.Fatal(exProgramError, "RSRC_OVER_ALLOC_MEM", fmt.Sprintf("Requested memory allocation %dMB is more than your system limit %dMB.", mb, s.hostMemoryMB()), "")
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
	failure := s.env.get("STANDIN_FAIL_START")
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
		ip := s.nodeIP()
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
	if failure != "" {
		// The node's IP is saved once its machine runs.
		if existing == nil {
			cc.Nodes[0].IP = ""
		}
	} else if cc.Nodes[0].IP == "" {
		// A machine created for a profile whose create had failed.
		cc.Nodes[0].IP = s.nodeIP()
	}
	if err := s.saveProfile(cc); err != nil {
		return o.Fatal(exGuestError, "GUEST_START", err.Error(), "")
	}
	if failure != "" {
		// The machine is recorded, never created.
		if err := os.MkdirAll(s.machineDir(name), 0o755); err != nil {
			return o.Fatal(exGuestError, "GUEST_START", err.Error(), "")
		}
		// As real minikube does when the driver cannot create the
		// machine: the profile is saved, the machine is not; an
		// unnamed error event per attempt, the named one, then
		// exit.Error's issue link.
		o.Fatal(exGuestError, "", "StartHost failed, but will try again: creating host: stand-in failure requested by STANDIN_FAIL_START", "")
		o.Step("Creating Container", fmt.Sprintf("%s %q container is missing, will recreate.", driver, name))
		o.Fatal(exGuestError, "", fmt.Sprintf("Failed to start %s container. Running \"minikube delete -p %s\" may fix it: recreate: creating host: stand-in failure requested by STANDIN_FAIL_START", driver, name), "")
		return o.FatalError(exGuestError, failure, "error provisioning guest: Failed to start host: recreate: creating host: stand-in failure requested by STANDIN_FAIL_START", "")
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

// nodeIP is the IP a new machine gets.
func (s *invocation) nodeIP() string {
	if ip := s.env.get("STANDIN_NODE_IP"); ip != "" {
		return ip
	}
	return "192.168.49.2"
}
