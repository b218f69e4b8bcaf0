package loadbalancer

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// fix is what a provider says works from a host that cannot route to its nodes.
const fix = "`kubectl port-forward svc/<name> <port>`"

const ip = "192.168.49.2"

func svc(typ corev1.ServiceType, ports ...int32) *corev1.Service {
	s := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"}, Spec: corev1.ServiceSpec{Type: typ}}
	for _, p := range ports {
		s.Spec.Ports = append(s.Spec.Ports, corev1.ServicePort{Port: p})
	}
	return s
}

func withIngress(s *corev1.Service, ip string, manager string) *corev1.Service {
	s.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: ip, IPMode: ptr(corev1.LoadBalancerIPModeVIP)}}
	if manager != "" {
		s.ManagedFields = append(s.ManagedFields, metav1.ManagedFieldsEntry{Manager: manager, Subresource: "status",
			FieldsV1: metav1.NewFieldsV1(`{"f:status":{"f:loadBalancer":{"f:ingress":{}}}}`)})
	}
	return s
}

func TestDecide(t *testing.T) {
	t.Parallel()
	class := "metallb.io/metallb"
	classed := svc(corev1.ServiceTypeLoadBalancer, 80)
	classed.Spec.LoadBalancerClass = &class
	classedOurs := withIngress(svc(corev1.ServiceTypeLoadBalancer, 80), ip, FieldManager)
	classedOurs.Spec.LoadBalancerClass = &class
	noMode := withIngress(svc(corev1.ServiceTypeLoadBalancer, 80), ip, FieldManager)
	noMode.Status.LoadBalancer.Ingress[0].IPMode = nil
	cases := []struct {
		name   string
		svc    *corev1.Service
		action Action
		reason string
	}{
		{"new LoadBalancer", svc(corev1.ServiceTypeLoadBalancer, 80), Assign, ""},
		{"already ours with the same IP", withIngress(svc(corev1.ServiceTypeLoadBalancer, 80), ip, FieldManager), InSync, ""},
		{"ours without ipMode counts as VIP", noMode, InSync, ""},
		{"ours with an old IP (cluster restarted)", withIngress(svc(corev1.ServiceTypeLoadBalancer, 80), "192.168.49.3", FieldManager), Assign, ""},
		{"ClusterIP", svc(corev1.ServiceTypeClusterIP, 80), Skip, "not a LoadBalancer"},
		{"empty type", svc("", 80), Skip, "not a LoadBalancer"},
		{"switched to ClusterIP, ours", withIngress(svc(corev1.ServiceTypeClusterIP, 80), ip, FieldManager), Clear, "type is ClusterIP"},
		{"switched to NodePort, ours", withIngress(svc(corev1.ServiceTypeNodePort, 80), ip, FieldManager), Clear, "type is NodePort"},
		{"another class", classed, Skip, `loadBalancerClass "metallb.io/metallb"`},
		{"class set on one we assigned", classedOurs, Clear, "another implementation"},
		{"ingress by MetalLB", withIngress(svc(corev1.ServiceTypeLoadBalancer, 80), "192.168.49.100", "metallb-controller"), Skip, "ingress written by metallb-controller"},
		{"ingress by minikube tunnel (no managed fields)", withIngress(svc(corev1.ServiceTypeLoadBalancer, 80), "10.96.0.12", ""), Skip, "another controller"},
		{"ssh port", svc(corev1.ServiceTypeLoadBalancer, 80, 22), Refuse, "22/TCP would take over the node's ssh"},
		{"kubelet port", svc(corev1.ServiceTypeLoadBalancer, 10250), Refuse, "the kubelet"},
		{"API server port, ours before", withIngress(svc(corev1.ServiceTypeLoadBalancer, 8443), ip, FieldManager), Refuse, "API server"},
		{"high ports are fine", svc(corev1.ServiceTypeLoadBalancer, 8080, 30000), Assign, ""},
		{"taken over by a forced apply of another manager", takenOver(), Skip, "ingress written by metallb-controller"},
	}
	for _, tc := range cases {
		d := Decide(tc.svc, ip)
		if d.Action != tc.action || !strings.Contains(d.Reason, tc.reason) {
			t.Errorf("%s: Decide = %s (%q), want %s containing %q", tc.name, d.Action, d.Reason, tc.action, tc.reason)
		}
		if d.Action == Assign && (len(d.Ingress) != 1 || d.Ingress[0].IP != ip || *d.Ingress[0].IPMode != corev1.LoadBalancerIPModeVIP) {
			t.Errorf("%s: ingress = %+v", tc.name, d.Ingress)
		}
	}
}

func TestReachability(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		p    Platform
		ok   bool
		why  string
	}{
		{"docker on Linux", Platform{GOOS: "linux", Containers: true, Nodes: "the docker driver", HostFix: fix}, true, ""},
		{"kvm2 on Linux", Platform{GOOS: "linux"}, true, ""},
		{"docker on macOS", Platform{GOOS: "darwin", Containers: true, Nodes: "the docker driver", HostFix: fix}, false, "runs the node inside a VM"},
		{"podman on Windows", Platform{GOOS: "windows", Containers: true, Nodes: "the podman driver", HostFix: fix}, false, "windows"},
		{"docker under WSL", Platform{GOOS: "linux", Containers: true, Nodes: "the docker driver", HostFix: fix, WSL: true}, false, "WSL"},
		{"rootless docker", Platform{GOOS: "linux", Containers: true, Nodes: "the docker driver", HostFix: fix, Rootless: true}, false, "rootless"},
		{"remote daemon", Platform{GOOS: "linux", Containers: true, Nodes: "the docker driver", HostFix: fix, DockerHost: "tcp://10.0.0.5:2376"}, false, "remote"},
		{"vfkit on macOS", Platform{GOOS: "darwin"}, true, ""},
		{"kind on Linux", Platform{GOOS: "linux", Containers: true, Nodes: "kind", HostFix: fix}, true, ""},
		{"kind on Docker Desktop", Platform{GOOS: "darwin", Containers: true, Nodes: "kind", HostFix: fix}, false, "kind on darwin (Docker Desktop)"},
	}
	for _, tc := range cases {
		ok, why := Reachability(tc.p)
		if ok != tc.ok || !strings.Contains(why, tc.why) {
			t.Errorf("%s: Reachability = %v, %q; want %v containing %q", tc.name, ok, why, tc.ok, tc.why)
		}
		if !ok && !strings.Contains(why, "kubectl port-forward") {
			t.Errorf("%s: no alternative offered: %q", tc.name, why)
		}
	}
}

// takenOver is a Service devcluster assigned whose ingress MetalLB then
// applied with force: devcluster keeps only the enclosing f:loadBalancer.
func takenOver() *corev1.Service {
	s := withIngress(svc(corev1.ServiceTypeLoadBalancer, 80), "192.168.49.100", "metallb-controller")
	s.ManagedFields = append(s.ManagedFields, metav1.ManagedFieldsEntry{Manager: FieldManager, Subresource: "status",
		FieldsV1: metav1.NewFieldsV1(`{"f:status":{"f:loadBalancer":{}}}`)})
	return s
}
