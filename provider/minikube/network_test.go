package minikube

import (
	"testing"

	"github.com/devcluster/devcluster/internal/run/runtest"
	"github.com/devcluster/devcluster/provider"
)

func TestHostAddressRules(t *testing.T) {
	t.Parallel()
	cases := []struct {
		driver, nodeIP, want string
		wantErr              bool
	}{
		{"docker", "192.168.49.2", "192.168.49.1", false},
		{"podman", "192.168.58.2", "192.168.58.1", false},
		{"kvm2", "192.168.39.157", "192.168.39.1", false},
		{"virtualbox", "192.168.59.100", "192.168.59.1", false},
		{"qemu2", "10.0.2.15", "10.0.2.2", false},
		{"qemu2", "192.168.105.4", "192.168.105.1", false},
		{"none", "10.1.2.3", "127.0.0.1", false},
		{"ssh", "10.1.2.3", "", true},
		{"docker", "", "", true},
	}
	for _, tc := range cases {
		got, err := hostAddressFor(tc.driver, tc.nodeIP)
		if got != tc.want || (err != nil) != tc.wantErr {
			t.Errorf("hostAddressFor(%q, %q) = %q, %v; want %q (error %v)", tc.driver, tc.nodeIP, got, err, tc.want, tc.wantErr)
		}
	}
	for _, tc := range []struct {
		driver string
		extra  []string
		want   string
	}{
		{"", nil, "192.168.49.1"},
		{"docker", []string{"--subnet=192.168.100.0/24"}, "192.168.100.1"},
		{"docker", []string{"--static-ip=192.168.200.10"}, "192.168.200.1"},
		{"kvm2", nil, "192.168.39.1"},
		{"hyperv", nil, ""},
	} {
		if got := New(&runtest.Fake{}).PlannedHostAddress(provider.Spec{Driver: tc.driver, ExtraStartArgs: tc.extra}); got != tc.want {
			t.Errorf("PlannedHostAddress(%s %v) = %q, want %q", tc.driver, tc.extra, got, tc.want)
		}
	}
}

// The network as the LoadBalancer's reachability and the probe see it.
func TestNetwork(t *testing.T) {
	t.Parallel()
	m := New(&runtest.Fake{})
	for _, tc := range []struct {
		driver     string
		containers bool
		what       string
	}{
		{"docker", true, "the docker driver"}, {"podman", true, "the podman driver"}, {"", true, "the docker driver"},
		{"kvm2", false, "the kvm2 driver"}, {"vfkit", false, "the vfkit driver"},
	} {
		n := m.Network(&provider.Cluster{Driver: tc.driver, IP: "192.168.49.2"})
		if n.Containers != tc.containers || n.What != tc.what || n.APIServerPort != 8443 || n.HostAddress != "192.168.49.1" || n.HostFix == "" {
			t.Errorf("Network(%q) = %+v", tc.driver, n)
		}
	}
}
