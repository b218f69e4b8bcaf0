package loadbalancer

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ProbeTimeout bounds the probe of the node IP.
const ProbeTimeout = time.Second

// Prober dials the node IP once on the given ports and reports whether
// it answered (nil) or why not.
type Prober func(ctx context.Context, ip string, ports []int) error

// ProbeNode is the Prober of this host: a TCP connect to ip on each port at
// once, within ProbeTimeout. The node answered when a connection is
// accepted or refused — a refusal comes from the node's own network stack,
// so the host routes to it; no route, an unreachable network or silence
// until the timeout are no answer. It dials nothing but ip.
func ProbeNode(ctx context.Context, ip string, ports []int) error {
	if net.ParseIP(ip) == nil {
		return fmt.Errorf("%q is not an IP address", ip)
	}
	if len(ports) == 0 {
		return errors.New("no port to probe")
	}
	ctx, cancel := context.WithTimeout(ctx, ProbeTimeout)
	defer cancel()
	errs := make(chan error, len(ports))
	for _, p := range ports {
		go func() {
			var d net.Dialer
			c, err := d.DialContext(ctx, "tcp", net.JoinHostPort(ip, strconv.Itoa(p)))
			if err == nil {
				_ = c.Close()
			}
			if errors.Is(err, syscall.ECONNREFUSED) {
				err = nil
			}
			errs <- err
		}()
	}
	var why []string
	for range ports {
		err := <-errs
		if err == nil {
			return nil
		}
		why = append(why, err.Error())
	}
	return fmt.Errorf("%s did not answer within %s (%s)", ip, ProbeTimeout, strings.Join(why, "; "))
}

// Choice is the address mode chosen for a cluster, and why.
type Choice struct {
	Address Address `json:"address"`
	Reason  string  `json:"reason,omitempty"`
}

// ResolveAddress turns loadBalancer.address into node or localhost. node
// and localhost are taken as asked. auto is node for a cluster that is not
// devcluster's (Platform.External: a real cluster's LoadBalancer Services
// are forwarded only when asked);
// elsewhere it is localhost when Reachability says the host cannot route
// to the node, and otherwise when probe (nil: none) finds the node IP
// silent on the API server's and the kubelet's ports; node when it answers.
func ResolveAddress(ctx context.Context, want Address, p Platform, nodeIP string, ports []int, probe Prober) Choice {
	switch want {
	case AddressNode, AddressLocalhost:
		return Choice{Address: want, Reason: "loadBalancer.address " + string(want)}
	}
	if p.External {
		return Choice{Address: AddressNode, Reason: "provider " + p.Provider + ": localhost only when asked (loadBalancer.address: localhost)"}
	}
	if ok, why := Reachability(p); !ok {
		return Choice{Address: AddressLocalhost, Reason: strings.SplitN(why, ";", 2)[0]}
	}
	if nodeIP == "" {
		return Choice{Address: AddressLocalhost, Reason: "the provider reports no node IP"}
	}
	if probe == nil {
		return Choice{Address: AddressNode, Reason: "the host routes to the node"}
	}
	if err := probe(ctx, nodeIP, ports); err != nil {
		return Choice{Address: AddressLocalhost, Reason: "the node IP " + err.Error()}
	}
	return Choice{Address: AddressNode, Reason: "the node IP " + nodeIP + " answers from this host"}
}
