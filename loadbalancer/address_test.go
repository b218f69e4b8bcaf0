package loadbalancer

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"
)

func TestResolveAddress(t *testing.T) {
	t.Parallel()
	answers := func(context.Context, string, []int) error { return nil }
	silent := func(_ context.Context, ip string, _ []int) error { return errors.New(ip + " did not answer") }
	var probed []string
	record := func(_ context.Context, ip string, ports []int) error {
		probed = append(probed, ip)
		return nil
	}
	linux := Platform{GOOS: "linux", Containers: true, Nodes: "the docker driver", HostFix: fix}
	cases := []struct {
		name  string
		want  Address
		p     Platform
		probe Prober
		got   Address
		why   string
	}{
		{"asked node", AddressNode, Platform{GOOS: "darwin", Containers: true, Nodes: "the docker driver", HostFix: fix}, silent, AddressNode, "loadBalancer.address node"},
		{"asked localhost", AddressLocalhost, linux, answers, AddressLocalhost, "loadBalancer.address localhost"},
		{"native linux, node answers", AddressAuto, linux, answers, AddressNode, "answers from this host"},
		{"native linux, node silent", AddressAuto, linux, silent, AddressLocalhost, "did not answer"},
		{"native linux, no probe", AddressAuto, linux, nil, AddressNode, "routes to the node"},
		{"kvm2 VM", AddressAuto, Platform{GOOS: "linux"}, answers, AddressNode, "answers"},
		{"Docker Desktop on macOS", AddressAuto, Platform{GOOS: "darwin", Containers: true, Nodes: "the docker driver", HostFix: fix}, answers, AddressLocalhost, "Docker Desktop"},
		{"Docker Desktop on Windows", AddressAuto, Platform{GOOS: "windows", Containers: true, Nodes: "the docker driver", HostFix: fix}, answers, AddressLocalhost, "Docker Desktop"},
		{"kind on macOS", AddressAuto, Platform{GOOS: "darwin", Containers: true, Nodes: "kind", HostFix: fix}, answers, AddressLocalhost, "kind on darwin"},
		{"WSL2", AddressAuto, Platform{GOOS: "linux", Containers: true, Nodes: "the docker driver", HostFix: fix, WSL: true}, answers, AddressLocalhost, "WSL"},
		{"rootless", AddressAuto, Platform{GOOS: "linux", Containers: true, Nodes: "the podman driver", HostFix: fix, Rootless: true}, answers, AddressLocalhost, "rootless"},
		{"remote daemon", AddressAuto, Platform{GOOS: "linux", Containers: true, Nodes: "the docker driver", HostFix: fix, DockerHost: "ssh://builder"}, answers, AddressLocalhost, "remote"},
		{"existing", AddressAuto, Platform{GOOS: "darwin", Provider: "existing", External: true}, silent, AddressNode, "only when asked"},
	}
	for _, c := range cases {
		got := ResolveAddress(context.Background(), c.want, c.p, "192.168.49.2", []int{8443, 10250}, c.probe)
		if got.Address != c.got || !strings.Contains(got.Reason, c.why) {
			t.Errorf("%s: got %+v, want %s (%q)", c.name, got, c.got, c.why)
		}
	}
	// The probe is asked about the node IP only, and only when the
	// platform leaves the question open.
	ResolveAddress(context.Background(), AddressAuto, Platform{GOOS: "darwin", Containers: true, Nodes: "the docker driver", HostFix: fix}, "192.168.49.2", nil, record)
	ResolveAddress(context.Background(), AddressAuto, linux, "192.168.49.2", nil, record)
	if len(probed) != 1 || probed[0] != "192.168.49.2" {
		t.Fatalf("probed %v", probed)
	}
}

// The real probe against a loopback listener (answers), a closed loopback
// port (refused: the host reaches that stack, so it answers too) and a
// port that accepts nothing within the timeout.
func TestProbeNode(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	open := l.Addr().(*net.TCPAddr).Port
	if err := ProbeNode(context.Background(), "127.0.0.1", []int{open}); err != nil {
		t.Fatalf("listening port: %v", err)
	}
	c, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := c.Addr().(*net.TCPAddr).Port
	c.Close()
	if err := ProbeNode(context.Background(), "127.0.0.1", []int{closed}); err != nil {
		t.Fatalf("a refused connect is an answer: %v", err)
	}
	if err := ProbeNode(context.Background(), "node", []int{open}); err == nil {
		t.Fatal("a name is not probed")
	}
	// Silence: a context that is already over stands for a node that
	// never answers (no packet leaves loopback).
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	start := time.Now()
	if err := ProbeNode(ctx, "127.0.0.1", []int{open, closed}); err == nil || !strings.Contains(err.Error(), "did not answer") {
		t.Fatalf("no answer: %v", err)
	}
	if time.Since(start) > ProbeTimeout+time.Second {
		t.Fatalf("the probe took %s", time.Since(start))
	}
}
