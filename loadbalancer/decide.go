// Package loadbalancer gives every Service of type LoadBalancer (without a
// loadBalancerClass) an external IP — the cluster node's IP as `minikube ip`
// reports it — by writing status.loadBalancer.ingress through the status
// subresource with server-side apply (field manager "devcluster"). With
// ipMode VIP, kube-proxy then routes <node IP>:<port> to the Service's
// endpoints: no tunnel, no sudo, no terminal held open.
//
// It writes nothing else: no spec.externalIPs (user-owned), no finalizer
// (nothing is left stuck Terminating when devcluster is gone). It leaves
// alone Services that belong to another implementation: another class, or
// an ingress written by another field manager (MetalLB, minikube tunnel,
// cloud-provider-kind).
package loadbalancer

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// FieldManager owns the status fields devcluster writes.
const FieldManager = "devcluster"

// DeniedPorts are node ports a LoadBalancer Service must not take over:
// with ipMode VIP, kube-proxy captures <node IP>:<port> for all traffic to
// the node, host processes included.
var DeniedPorts = map[int32]string{
	22:    "the node's ssh",
	2376:  "the node's Docker daemon",
	2379:  "etcd",
	2380:  "etcd peers",
	6443:  "the Kubernetes API server",
	8443:  "the Kubernetes API server (minikube)",
	10249: "kube-proxy metrics",
	10250: "the kubelet",
	10256: "kube-proxy health checks",
	10257: "kube-controller-manager",
	10259: "kube-scheduler",
}

// Action is what the controller does with one Service.
type Action int

const (
	// Skip: not ours to touch; nothing to do.
	Skip Action = iota
	// Assign: apply Ingress.
	Assign
	// Clear: remove the ingress devcluster wrote earlier.
	Clear
	// Refuse: the Service asks for a denied port; clear any ingress of ours.
	Refuse
	// InSync: the Service already has the wanted ingress.
	InSync
)

func (a Action) String() string {
	return [...]string{"skip", "assign", "clear", "refuse", "in-sync"}[a]
}

// Decision is what to do with a Service and why.
type Decision struct {
	Action  Action
	Ingress []corev1.LoadBalancerIngress
	Reason  string
}

// Decide is the pure decision for one Service, given the node IP to hand
// out. It never looks at anything but the Service object.
func Decide(svc *corev1.Service, ip string) Decision {
	return DecideFor(svc, ip, AddressNode)
}

// DecideFor is Decide for an address mode: in AddressLocalhost the
// ingress is 127.0.0.1 with ipMode Proxy — with VIP, kube-proxy would
// capture 127.0.0.1 inside the cluster — and no port is denied, since
// kube-proxy does not take over any node port for it.
func DecideFor(svc *corev1.Service, ip string, mode Address) Decision {
	ours := ownsIngress(svc)
	has := len(svc.Status.LoadBalancer.Ingress) > 0
	switch {
	case svc.Spec.Type != corev1.ServiceTypeLoadBalancer:
		if ours && has {
			return Decision{Action: Clear, Reason: fmt.Sprintf("type is %s, no longer LoadBalancer", typeOf(svc))}
		}
		return Decision{Action: Skip, Reason: "not a LoadBalancer Service"}
	case svc.Spec.LoadBalancerClass != nil:
		if ours && has {
			return Decision{Action: Clear, Reason: fmt.Sprintf("loadBalancerClass %q belongs to another implementation", *svc.Spec.LoadBalancerClass)}
		}
		return Decision{Action: Skip, Reason: fmt.Sprintf("loadBalancerClass %q belongs to another implementation", *svc.Spec.LoadBalancerClass)}
	case has && !ours:
		return Decision{Action: Skip, Reason: "ingress written by " + strings.Join(ingressManagers(svc), ", ")}
	}
	if mode == AddressLocalhost {
		want := []corev1.LoadBalancerIngress{{IP: LoopbackIP, IPMode: ptr(corev1.LoadBalancerIPModeProxy)}}
		if ingressEqual(svc.Status.LoadBalancer.Ingress, want) {
			return Decision{Action: InSync, Ingress: want}
		}
		return Decision{Action: Assign, Ingress: want}
	}
	if denied := deniedPorts(svc); len(denied) > 0 {
		return Decision{Action: Refuse, Reason: "port " + strings.Join(denied, ", ") +
			"; with ipMode VIP kube-proxy would redirect it on the node for everyone — use another port"}
	}
	want := []corev1.LoadBalancerIngress{{IP: ip, IPMode: ptr(corev1.LoadBalancerIPModeVIP)}}
	if ingressEqual(svc.Status.LoadBalancer.Ingress, want) {
		return Decision{Action: InSync, Ingress: want}
	}
	return Decision{Action: Assign, Ingress: want}
}

func typeOf(svc *corev1.Service) string {
	if svc.Spec.Type == "" {
		return string(corev1.ServiceTypeClusterIP)
	}
	return string(svc.Spec.Type)
}

func deniedPorts(svc *corev1.Service) []string {
	var out []string
	for _, p := range svc.Spec.Ports {
		if what, ok := DeniedPorts[p.Port]; ok {
			proto := p.Protocol
			if proto == "" {
				proto = corev1.ProtocolTCP
			}
			out = append(out, fmt.Sprintf("%d/%s would take over %s", p.Port, proto, what))
		}
	}
	sort.Strings(out)
	return out
}

// ownsIngress reports whether devcluster's field manager owns the Service's
// status.loadBalancer.ingress. The list is atomic, so its owner is whoever
// applied it last; another manager's forced apply takes it over, leaving
// devcluster only the enclosing f:loadBalancer — which does not count.
func ownsIngress(svc *corev1.Service) bool {
	for _, m := range svc.ManagedFields {
		if m.Manager == FieldManager && m.FieldsV1 != nil &&
			strings.Contains(m.FieldsV1.GetRawString(), `"f:ingress"`) {
			return true
		}
	}
	return false
}

// ingressManagers names the managers that wrote status.loadBalancer.
func ingressManagers(svc *corev1.Service) []string {
	var out []string
	for _, m := range svc.ManagedFields {
		if m.FieldsV1 != nil && strings.Contains(m.FieldsV1.GetRawString(), `"f:ingress"`) {
			out = append(out, m.Manager)
		}
	}
	if len(out) == 0 {
		out = []string{"another controller"}
	}
	return out
}

func ingressEqual(a, b []corev1.LoadBalancerIngress) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].IP != b[i].IP || a[i].Hostname != b[i].Hostname || modeOf(a[i]) != modeOf(b[i]) || len(a[i].Ports) != len(b[i].Ports) {
			return false
		}
	}
	return true
}

func modeOf(i corev1.LoadBalancerIngress) corev1.LoadBalancerIPMode {
	if i.IPMode == nil {
		return corev1.LoadBalancerIPModeVIP
	}
	return *i.IPMode
}

func ptr[T any](v T) *T { return &v }
