package config

import (
	"errors"
	"fmt"
	"math"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/devcluster/devcluster/internal/paths"
	"github.com/devcluster/devcluster/internal/run"
)

// MinMemoryMB is minikube's usable minimum (RSRC_INSUFFICIENT_REQ_MEMORY).
const MinMemoryMB = 1800

// MinCPUs is minikube's minimum (RSRC_INSUFFICIENT_CORES).
const MinCPUs = 2

// memoryPattern is the grammar minikube accepts for --memory (go-units
// RAMInBytes after a bare number gets "mb" appended).
var memoryPattern = regexp.MustCompile(`(?i)^(\d+(\.\d+)*) ?([kmgtp])?i?b?$`)

// ParseMemory parses a memory value the way `minikube start --memory` does:
// a bare number is MB, units are binary (1g = 1024 MB), and "max" and
// "no-limit" are kept as words. It does not apply the minimum.
func ParseMemory(s string) (Memory, error) {
	v := strings.TrimSpace(s)
	switch strings.ToLower(v) {
	case "max", "no-limit":
		return Memory{Special: strings.ToLower(v)}, nil
	}
	if _, err := strconv.Atoi(v); err == nil {
		v += "mb"
	}
	m := memoryPattern.FindStringSubmatch(v)
	if m == nil {
		return Memory{}, fmt.Errorf("cannot parse memory %q: use a size such as 4096 (MB), 4g, 4gb, 4GiB, or max or no-limit", s)
	}
	f, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return Memory{}, fmt.Errorf("cannot parse memory %q: %q is not a number", s, m[1])
	}
	mult := 1.0
	switch strings.ToLower(m[3]) {
	case "k":
		mult = 1 << 10
	case "m":
		mult = 1 << 20
	case "g":
		mult = 1 << 30
	case "t":
		mult = 1 << 40
	case "p":
		mult = 1 << 50
	}
	bytes := f * mult
	if bytes > math.MaxInt64/2 {
		return Memory{}, fmt.Errorf("memory %q is too large", s)
	}
	return Memory{MB: int(int64(bytes) / (1 << 20))}, nil
}

// ParseCPUs parses a cpus value: a whole number, "max" or "no-limit". It
// does not apply the minimum.
func ParseCPUs(s string) (CPUs, error) {
	v := strings.ToLower(strings.TrimSpace(s))
	switch v {
	case "max", "no-limit":
		return CPUs{Special: v}, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return CPUs{}, fmt.Errorf("cannot parse cpus %q: use a whole number, max or no-limit", s)
	}
	return CPUs{Count: n}, nil
}

// profileName is minikube's config.ProfileNameValid pattern.
var profileName = regexp.MustCompile(`^(([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9\-]*[a-zA-Z0-9])\.)*([A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9\-]*[A-Za-z0-9])$`)

// MaxNameLength bounds cluster names: kind's limit (longer names break node
// container host names, which get suffixes such as "-control-plane"), and
// short enough for minikube's machine and network names.
const MaxNameLength = 50

// reservedNames are minikube command words it refuses as profile names.
var reservedNames = []string{"start", "stop", "status", "delete", "config", "open", "profile", "addons", "cache", "logs"}

// ValidName reports whether name is a valid cluster name: a valid minikube
// profile name (config.ProfileNameValid, not a reserved command word) that
// kind also accepts as it is (lower case, ^[a-z0-9.-]+$) and at most
// MaxNameLength characters.
func ValidName(name string) error {
	switch {
	case name == "":
		return errors.New("the name is empty: use letters, digits and dashes, for example dev")
	case len(name) > MaxNameLength:
		return fmt.Errorf("invalid name %q: %d characters, at most %d are allowed", shorten(name), len(name), MaxNameLength)
	case len(name) < 2 || !profileName.MatchString(name):
		return fmt.Errorf("invalid name %q: use letters, digits and dashes, at least 2 characters, starting and ending with a letter or digit", name)
	case strings.ToLower(name) != name:
		return fmt.Errorf("invalid name %q: use lower case (kind and Kubernetes host names are lower case)", name)
	case slices.Contains(reservedNames, name):
		return fmt.Errorf("invalid name %q: minikube reserves it for a command", name)
	}
	return nil
}

func shorten(s string) string {
	if len(s) > 40 {
		return s[:37] + "..."
	}
	return s
}

// ValidHost reports whether a is an IP address or a DNS name (RFC 1123,
// lower case, no port): the only forms an address of devcluster's may take.
func ValidHost(a string) error {
	if net.ParseIP(a) != nil {
		return nil
	}
	if errs := validation.IsDNS1123Subdomain(a); len(errs) > 0 {
		return fmt.Errorf("invalid address %q: use an IP address or a DNS name such as host.example (no port): %s", a, strings.Join(errs, "; "))
	}
	return nil
}

// Drivers are the values minikube accepts for --driver on any platform,
// with their aliases.
var Drivers = []string{
	"docker", "podman", "kvm2", "kvm", "qemu2", "qemu", "virtualbox", "vmware", "none", "native",
	"ssh", "generic", "hyperkit", "vfkit", "parallels", "hyperv", "krunkit",
}

// kicDrivers run the node as a container; only they accept no-limit.
var kicDrivers = map[string]bool{"docker": true, "podman": true}

// Runtimes are the container runtimes minikube accepts.
var Runtimes = []string{"containerd", "docker", "cri-o", "crio"}

// NormalizeRuntime maps minikube's alias cri-o to crio, as minikube saves it.
func NormalizeRuntime(r string) string {
	if r == "cri-o" {
		return "crio"
	}
	return r
}

var kubeVersion = regexp.MustCompile(`^v?\d+\.\d+(\.\d+)?([-+][0-9A-Za-z.\-+]+)?$`)

// NormalizeKubernetesVersion checks a --kubernetes-version value and adds the
// "v" prefix minikube saves: "1.35.1" → "v1.35.1". Words are kept.
func NormalizeKubernetesVersion(v string) (string, error) {
	switch v {
	case "", "stable", "latest", "newest":
		return v, nil
	}
	if !kubeVersion.MatchString(v) {
		return "", fmt.Errorf("invalid kubernetesVersion %q: use v1.35.1, 1.35.1, 1.35, stable or latest", v)
	}
	if !strings.HasPrefix(v, "v") {
		v = "v" + v
	}
	return v, nil
}

var registryHost = regexp.MustCompile(`^[^-][\w.-]+$`)

// ValidInsecureRegistry applies minikube's validateInsecureRegistry rules:
// an optional http:// or https:// prefix, then host[:port], ip[:port] or a
// CIDR.
func ValidInsecureRegistry(addr string) error {
	bad := fmt.Errorf("invalid insecure registry %q: use <ip>[:<port>], <hostname>[:<port>] or <network>/<netmask>", addr)
	a := strings.TrimPrefix(strings.TrimPrefix(addr, "http://"), "https://")
	if a == "" || strings.Contains(a, "://") || strings.HasSuffix(a, ":") {
		return bad
	}
	if host, port, err := net.SplitHostPort(a); err == nil {
		p, perr := strconv.Atoi(port)
		if perr != nil || p < 0 || p > 65535 {
			return bad
		}
		if net.ParseIP(host) == nil && !registryHost.MatchString(host) {
			return bad
		}
		return nil
	}
	if _, _, err := net.ParseCIDR(a); err == nil {
		return nil
	}
	if net.ParseIP(a) != nil || registryHost.MatchString(a) {
		return nil
	}
	return bad
}

// managedFlags are start flags devcluster sets itself; extraStartArgs may not
// repeat them, since the second value would silently win or conflict.
var managedFlags = map[string]string{
	"--profile": "name", "-p": "name",
	"--cpus": "cpus", "--memory": "memory", "-m": "memory",
	"--driver": "driver", "-d": "driver", "--vm-driver": "driver",
	"--container-runtime": "containerRuntime", "-c": "containerRuntime",
	"--kubernetes-version": "kubernetesVersion",
	"--insecure-registry":  "insecureRegistries",
	"--output":             "", "-o": "",
}

func checkExtraArg(a string) error {
	if !strings.HasPrefix(a, "-") {
		return fmt.Errorf("extraStartArgs entry %q is not a flag: write each flag with its value, e.g. --addons=metrics-server", a)
	}
	name := a
	if i := strings.IndexByte(a, '='); i >= 0 {
		name = a[:i]
	}
	if field, ok := managedFlags[name]; ok {
		if field == "" {
			return fmt.Errorf("extraStartArgs entry %q: devcluster sets %s itself", a, name)
		}
		return fmt.Errorf("extraStartArgs entry %q: set the %q field instead, so drift is checked", a, field)
	}
	return nil
}

func itoa(n int) string { return strconv.Itoa(n) }

// ValidDownloadURL checks a base URL of release downloads: http or https,
// a host, and nothing after the path.
func ValidDownloadURL(s string) error {
	u, err := url.Parse(s)
	// The message shows the URL without its credentials.
	shown := run.RedactURL(s)
	var ue *url.Error
	switch {
	case errors.As(err, &ue):
		return fmt.Errorf("invalid URL %q: %v", shown, ue.Err)
	case err != nil:
		return fmt.Errorf("invalid URL %q", shown)
	case u.Scheme != "https" && u.Scheme != "http":
		return fmt.Errorf("invalid URL %q: use an http:// or https:// URL", shown)
	case u.Host == "":
		return fmt.Errorf("invalid URL %q: no host", shown)
	case u.RawQuery != "" || u.Fragment != "":
		return fmt.Errorf("invalid URL %q: a base URL has no query or fragment (the file is <url>/<version>/<tool>-<os>-<arch>)", shown)
	}
	return nil
}

// validSampleBase checks the sample's base image: oci:<dir>,
// docker-archive:<file>, or an image reference; a path given without its
// prefix is refused with the form to use.
func validSampleBase(s, dir string) error {
	if strings.HasPrefix(s, "oci:") || strings.HasPrefix(s, "docker-archive:") {
		return nil
	}
	if paths.LooksLikePath(s, dir) {
		return fmt.Errorf("%q is a path: write docker-archive:%s for a `docker save` tarball, or oci:%s for an OCI image layout", s, s, s)
	}
	if _, err := name.ParseReference(s); err != nil {
		return fmt.Errorf("invalid image reference %q: use a registry reference such as docker.io/library/nginx:stable, oci:<dir> or docker-archive:<file>", s)
	}
	return nil
}

// validImage checks an image reference to run in the cluster (no layout
// or archive: the node pulls it).
func validImage(s string) error {
	if strings.TrimSpace(s) != s || strings.HasPrefix(s, "oci:") || strings.HasPrefix(s, "docker-archive:") {
		return fmt.Errorf("invalid image reference %q: the cluster pulls it, so use a registry reference such as ghcr.io/headlamp-k8s/headlamp:v0.45.0 or localhost:5001/headlamp:dev", s)
	}
	if _, err := name.ParseReference(s); err != nil {
		return fmt.Errorf("invalid image reference %q: use a registry reference such as ghcr.io/headlamp-k8s/headlamp:v0.45.0 or localhost:5001/headlamp:dev", s)
	}
	return nil
}
