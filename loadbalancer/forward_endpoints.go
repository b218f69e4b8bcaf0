package loadbalancer

import (
	"sort"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/types"
)

// PodTarget is where one forwarded connection goes: a pod and the port it
// listens on (the Service port's target, named ports resolved).
type PodTarget struct {
	Namespace string
	Pod       string
	UID       types.UID
	Port      int32
}

// Key identifies the pod (not the port): one tunnel per pod serves every
// port of it.
func (t PodTarget) Key() string { return t.Namespace + "/" + t.Pod + "/" + string(t.UID) }

// readyTargets lists the pods a connection to port of a Service may go to,
// across all the Service's EndpointSlices: endpoints that are ready (an
// unknown readiness counts as ready, as EndpointSlice consumers are told)
// and not terminating, backed by a Pod (port-forward reaches pods only),
// each pod once (a dual-stack Service has a slice per family), sorted by
// pod name. The pod port is the slice's port of the same name, which the
// EndpointSlice controller resolved from a named targetPort; a slice that
// names no ports (a Service without a selector) falls back to a numeric
// targetPort.
func readyTargets(slices []*discoveryv1.EndpointSlice, port corev1.ServicePort) []PodTarget {
	seen := map[string]bool{}
	var out []PodTarget
	for _, s := range slices {
		podPort, ok := slicePort(s, port)
		if !ok {
			continue
		}
		for _, e := range s.Endpoints {
			c := e.Conditions
			if (c.Ready != nil && !*c.Ready) || (c.Terminating != nil && *c.Terminating) {
				continue
			}
			ref := e.TargetRef
			if ref == nil || ref.Kind != "Pod" || ref.Name == "" {
				continue
			}
			ns := ref.Namespace
			if ns == "" {
				ns = s.Namespace
			}
			t := PodTarget{Namespace: ns, Pod: ref.Name, UID: ref.UID, Port: podPort}
			if seen[t.Key()] {
				continue
			}
			seen[t.Key()] = true
			out = append(out, t)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Namespace+"/"+out[i].Pod < out[j].Namespace+"/"+out[j].Pod })
	return out
}

// slicePort is the pod port of a Service port in one EndpointSlice.
func slicePort(s *discoveryv1.EndpointSlice, port corev1.ServicePort) (int32, bool) {
	if len(s.Ports) == 0 {
		if port.TargetPort.IntVal > 0 && port.TargetPort.StrVal == "" {
			return port.TargetPort.IntVal, true
		}
		if port.TargetPort.IntVal == 0 && port.TargetPort.StrVal == "" {
			return port.Port, true
		}
		return 0, false
	}
	for _, p := range s.Ports {
		name := ""
		if p.Name != nil {
			name = *p.Name
		}
		proto := corev1.ProtocolTCP
		if p.Protocol != nil {
			proto = *p.Protocol
		}
		if name == port.Name && proto == corev1.ProtocolTCP && p.Port != nil && *p.Port > 0 {
			return *p.Port, true
		}
	}
	return 0, false
}
