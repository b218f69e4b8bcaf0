package loadbalancer

import (
	"net"
	"net/url"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// The annotations through which the agent and the tools that read a
// Service's host address meet.
const (
	// ForwardAnnotation, set to "true" on a Service of any type, asks the
	// agent for loopback forwards of its TCP ports, whatever
	// loadBalancer.address is. Removing it (or deleting the Service) closes
	// them. LoadBalancer Services in localhost mode are forwarded without it.
	ForwardAnnotation = "devcluster.dev/forward"
	// HostURLAnnotation is written by the agent: a comma-separated list of
	// URLs, one per TCP port the host reaches, in spec.ports order —
	// http://127.0.0.1:<hostport> for a forward, http://<node IP>:<port>
	// for a LoadBalancer Service in node mode. It is removed when the
	// Service is no longer reachable so.
	HostURLAnnotation = "devcluster.dev/host-url"
)

// Address is how the host reaches LoadBalancer Services
// (loadBalancer.address, --lb-address).
type Address string

const (
	// AddressAuto picks AddressNode where the host routes to the node and
	// AddressLocalhost elsewhere.
	AddressAuto Address = "auto"
	// AddressNode hands out the node IP (ipMode VIP; kube-proxy routes it).
	AddressNode Address = "node"
	// AddressLocalhost forwards every TCP port to 127.0.0.1 through the API
	// server (ipMode Proxy).
	AddressLocalhost Address = "localhost"
)

// Addresses are the valid values of loadBalancer.address, in the order the
// documentation lists them.
var Addresses = []Address{AddressAuto, AddressNode, AddressLocalhost}

// LoopbackIP is the address every forward listens on: never a wildcard.
const LoopbackIP = "127.0.0.1"

// WantsForward reports whether a Service carries ForwardAnnotation "true".
func WantsForward(svc *corev1.Service) bool {
	return svc != nil && strings.EqualFold(strings.TrimSpace(svc.Annotations[ForwardAnnotation]), "true")
}

// IsTCP reports whether a Service port is TCP (the protocol's default).
func IsTCP(p corev1.ServicePort) bool {
	return p.Protocol == "" || p.Protocol == corev1.ProtocolTCP
}

// Scheme is the URL scheme of a Service port: https for port 443 or 8443,
// or when its appProtocol or name says https; http otherwise.
func Scheme(p corev1.ServicePort) string {
	if p.Port == 443 || p.Port == 8443 {
		return "https"
	}
	if p.AppProtocol != nil && saysHTTPS(*p.AppProtocol) {
		return "https"
	}
	if saysHTTPS(p.Name) {
		return "https"
	}
	return "http"
}

// saysHTTPS reads an appProtocol ("https", "kubernetes.io/h2c" is not) or a
// port name ("https", "https-web", "web-https").
func saysHTTPS(s string) bool {
	s = strings.ToLower(strings.TrimSpace(s))
	if i := strings.LastIndexByte(s, '/'); i >= 0 {
		s = s[i+1:]
	}
	if s == "https" {
		return true
	}
	for _, part := range strings.FieldsFunc(s, func(r rune) bool { return r == '-' || r == '_' || r == '.' }) {
		if part == "https" {
			return true
		}
	}
	return false
}

// HostURL is the URL of one Service port reached at host:hostPort.
func HostURL(p corev1.ServicePort, host string, hostPort int32) string {
	return Scheme(p) + "://" + net.JoinHostPort(host, strconv.Itoa(int(hostPort)))
}

// JoinHostURLs is the value of HostURLAnnotation for URLs already built.
func JoinHostURLs(urls []string) string {
	return strings.Join(urls, ",")
}

// NodeHostURLs are the URLs of a LoadBalancer Service in node mode: one
// per TCP port, in spec.ports order, at the node IP and the Service port.
func NodeHostURLs(svc *corev1.Service, nodeIP string) []string {
	var out []string
	for _, p := range svc.Spec.Ports {
		if IsTCP(p) {
			out = append(out, HostURL(p, nodeIP, p.Port))
		}
	}
	return out
}

// HostURLs parses a Service's HostURLAnnotation: the URLs in their order,
// each an absolute http or https URL with a host and a port. Entries that
// are not are left out; no annotation (or a nil Service) gives nil.
func HostURLs(svc *corev1.Service) []string {
	if svc == nil {
		return nil
	}
	raw, ok := svc.Annotations[HostURLAnnotation]
	if !ok {
		return nil
	}
	var out []string
	for _, part := range strings.Split(raw, ",") {
		part = strings.TrimSpace(part)
		if _, _, ok := ParseHostURL(part); ok {
			out = append(out, part)
		}
	}
	return out
}

// ParseHostURL splits one host URL into its host and port; ok is false for
// anything but scheme://host:port with scheme http or https and a port in
// 1..65535 (a path, a query or credentials are refused).
func ParseHostURL(s string) (host string, port int32, ok bool) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.User != nil ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return "", 0, false
	}
	h, ps, err := net.SplitHostPort(u.Host)
	if err != nil || h == "" {
		return "", 0, false
	}
	n, err := strconv.Atoi(ps)
	if err != nil || n < 1 || n > 65535 {
		return "", 0, false
	}
	return h, int32(n), true
}
