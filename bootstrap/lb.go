package bootstrap

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/devcluster/devcluster/agent"
	"github.com/devcluster/devcluster/config"
	"github.com/devcluster/devcluster/internal/problem"
	"github.com/devcluster/devcluster/kube"
	"github.com/devcluster/devcluster/loadbalancer"
	"github.com/devcluster/devcluster/provider"
)

// LBService is one Service of type LoadBalancer as `up` and `status`
// report it.
type LBService struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	IP        string `json:"ip,omitempty"`
	// URL is the first of URLs: where the host reaches the Service.
	URL string `json:"url,omitempty"`
	// URLs are the host URLs of its TCP ports, in spec.ports order: the
	// devcluster.dev/host-url annotation the agent writes (127.0.0.1 in
	// localhost mode, the node IP in node mode).
	URLs []string `json:"urls,omitempty"`
	// NotForwarded are the ports localhost mode cannot carry (UDP, SCTP).
	NotForwarded []string `json:"notForwarded,omitempty"`
	// State is assigned, pending, refused or other (owned elsewhere).
	State  string `json:"state"`
	Detail string `json:"detail,omitempty"`
}

// lbSettle bounds how long `up` waits for the agent to give Services that
// already exist their IPs, and in localhost mode their listeners (it
// normally takes milliseconds).
const lbSettle = 5 * time.Second

func checkLoadBalancers(ctx context.Context, s *upState) (string, error) {
	ip, mode := "", s.lbChoice.Address
	if s.agent != nil {
		ip = s.agent.LoadBalancerIP
	}
	var svcs []LBService
	deadline := time.Now().Add(lbSettle)
	for {
		var err error
		var pending int
		svcs, pending, err = listLoadBalancers(ctx, s.clients.Kube, ip, mode)
		if err != nil {
			return "", err
		}
		if mode == loadbalancer.AddressLocalhost {
			pending += unbound(s.agent, svcs)
		}
		if pending == 0 || time.Now().After(deadline) {
			break
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	s.lbs = svcs
	if ok, why := loadbalancer.Reachability(platformOf(s.deps, s.cluster)); !ok && mode != loadbalancer.AddressLocalhost {
		s.deps.Report.Warn("LoadBalancer IPs are not reachable from this host: " + why + "; or set loadBalancer.address: localhost (--lb-address localhost)")
	}
	for _, l := range svcs {
		if len(l.NotForwarded) > 0 {
			s.deps.Report.Warn(fmt.Sprintf("%s/%s: %s not forwarded to 127.0.0.1 (port-forward carries TCP only)", l.Namespace, l.Name, strings.Join(l.NotForwarded, ", ")))
		}
	}
	if len(svcs) == 0 {
		if mode == loadbalancer.AddressLocalhost {
			return "none yet; new ones are forwarded to 127.0.0.1", nil
		}
		return fmt.Sprintf("none yet; new ones get %s", ip), nil
	}
	counts := map[string]int{}
	for _, l := range svcs {
		counts[l.State]++
	}
	var parts []string
	for _, st := range []string{"assigned", "pending", "refused", "other"} {
		if counts[st] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[st], st))
		}
	}
	return strings.Join(parts, ", "), nil
}

// unbound counts the Services with host URLs that the running agent has
// not bound yet: the annotation outlives the agent that wrote it (it keeps
// the ports across restarts), so after a restart only the agent's own
// record of its listeners says they are back.
func unbound(a *agent.Status, svcs []LBService) int {
	if a == nil || a.Spec.StateDir == "" {
		return 0
	}
	fw, err := agent.ReadForwards(a.Spec.StateDir)
	n := 0
	for _, l := range svcs {
		if l.State != "assigned" || len(l.URLs) == 0 {
			continue
		}
		if err != nil || fw.PID != a.PID || !slices.Equal(fw.Services[l.Namespace+"/"+l.Name], l.URLs) {
			n++
		}
	}
	return n
}

// listLoadBalancers reads every Service of type LoadBalancer and classifies
// it with the same decision the agent uses, in mode ("": the mode each
// Service's ingress shows, for status). URLs are the agent's host-url
// annotation; without one in node mode, the ingress IP's. waiting counts
// the Services the agent has yet to serve: pending, or in localhost mode
// assigned with TCP ports but no host URL yet (its listeners are not bound,
// after an agent restart too).
func listLoadBalancers(ctx context.Context, k kubernetes.Interface, ip string, mode loadbalancer.Address) (_ []LBService, waiting int, _ error) {
	list, err := kube.LoadBalancerServices(ctx, k)
	if err != nil {
		return nil, 0, err
	}
	var out []LBService
	for i := range list {
		svc := &list[i]
		l := LBService{Namespace: svc.Namespace, Name: svc.Name}
		m := mode
		if m == "" {
			m = loadbalancer.AddressNode
			if loadbalancer.DecideFor(svc, ip, loadbalancer.AddressLocalhost).Action == loadbalancer.InSync {
				m = loadbalancer.AddressLocalhost
			}
		}
		d := loadbalancer.DecideFor(svc, ip, m)
		switch d.Action {
		case loadbalancer.InSync:
			l.State = "assigned"
		case loadbalancer.Refuse:
			l.State, l.Detail = "refused", d.Reason
		case loadbalancer.Skip:
			l.State, l.Detail = "other", d.Reason
		default:
			l.State = "pending"
		}
		if ing := svc.Status.LoadBalancer.Ingress; len(ing) > 0 && ing[0].IP != "" {
			l.IP = ing[0].IP
			if m == loadbalancer.AddressNode {
				for _, p := range svc.Spec.Ports {
					l.URLs = append(l.URLs, urlFor(ing[0].IP, p))
				}
			}
		}
		if urls := loadbalancer.HostURLs(svc); len(urls) > 0 {
			l.URLs = urls
		}
		if len(l.URLs) > 0 {
			l.URL = l.URLs[0]
		}
		tcp := false
		for _, p := range svc.Spec.Ports {
			if loadbalancer.IsTCP(p) {
				tcp = true
			} else if m == loadbalancer.AddressLocalhost {
				l.NotForwarded = append(l.NotForwarded, fmt.Sprintf("%d/%s", p.Port, p.Protocol))
			}
		}
		if l.State == "pending" || (m == loadbalancer.AddressLocalhost && l.State == "assigned" && l.URL == "" && tcp) {
			waiting++
		}
		out = append(out, l)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Namespace+"/"+out[i].Name < out[j].Namespace+"/"+out[j].Name })
	return out, waiting, nil
}

func urlFor(ip string, p corev1.ServicePort) string {
	hostPort := net.JoinHostPort(ip, strconv.Itoa(int(p.Port)))
	switch {
	case p.Protocol == corev1.ProtocolUDP || p.Protocol == corev1.ProtocolSCTP:
		return strings.ToLower(string(p.Protocol)) + "://" + hostPort
	case p.Port == 443 || p.Name == "https":
		return "https://" + hostPort
	case p.Port == 80 || p.Name == "http" || p.AppProtocol == nil:
		return "http://" + hostPort
	}
	return "tcp://" + hostPort
}

// loadBalancerIP is the IP devcluster gives LoadBalancer Services, chosen
// the one way up, lb and status choose it: loadBalancer.ip when set, else
// the node IP the provider reported with the cluster, else, with ask, the
// provider's answer (what `minikube ip` prints, the kind node's address).
// "" is no IP: a cluster devcluster did not create has no one node IP to
// hand out. Status does not ask: it runs no provider command for it.
func loadBalancerIP(ctx context.Context, p provider.Provider, cfg *config.Config, c *provider.Cluster, ask bool) (string, error) {
	if cfg.LoadBalancer.IP != "" {
		return cfg.LoadBalancer.IP, nil
	}
	if c.IP != "" || !ask {
		return c.IP, nil
	}
	return nodeIP(ctx, p, c.Name)
}

// LBOptions are the options of AssignLoadBalancers.
type LBOptions struct {
	// Watch keeps assigning as Services change, until ctx ends.
	Watch bool
	// Log receives one line per assignment or refusal.
	Log func(format string, args ...any)
	// Watching, when set, is told the IP before the controller runs.
	Watching func(ip string)
}

// LBResult is what `devcluster lb` reports.
type LBResult struct {
	IP          string                `json:"ip"`
	Assignments []loadbalancer.Result `json:"assignments"`
}

// AssignLoadBalancers gives the running cluster's LoadBalancer Services the
// node IP (or loadBalancer.ip) once — for CI jobs without the agent — or,
// with Watch, runs the controller in the foreground until ctx ends.
func AssignLoadBalancers(ctx context.Context, deps Deps, cfg *config.Config, o LBOptions) (*LBResult, error) {
	localhost := cfg.LoadBalancer.Address == string(loadbalancer.AddressLocalhost)
	if localhost && !o.Watch {
		return nil, problem.New(problem.Usage, "", errors.New("loadBalancer.address localhost forwards through listeners that a process must hold"),
			"run `devcluster lb --watch` (in the foreground) or let the agent of `devcluster up` hold them")
	}
	p := deps.Provider
	have, err := runningCluster(ctx, p, cfg.Name)
	if err != nil {
		return nil, err
	}
	ip, err := loadBalancerIP(ctx, p, cfg, have, !localhost)
	if err != nil {
		return nil, err
	}
	if localhost {
		ip = loadbalancer.LoopbackIP
	}
	if ip == "" {
		// Provider existing: a cluster devcluster did not create has no
		// one node IP to hand out.
		return nil, problem.New(problem.Config, "", fmt.Errorf("no IP for LoadBalancer Services: provider %s reports no node IP for cluster %q", p.Name(), cfg.Name),
			"set loadBalancer.ip in devcluster.yaml to an IP that reaches the cluster's nodes")
	}
	clients, err := connectCluster(ctx, deps, have.KubeContext, fromCluster, answering)
	if err != nil {
		return nil, err
	}
	log := o.Log
	if log == nil {
		log = func(string, ...any) {}
	}
	ctl := loadbalancer.New(clients.Kube, ip, log)
	if localhost {
		// `lb` holds the listeners itself, in the foreground.
		tunnels, err := loadbalancer.NewTunnels(clients.Config)
		if err != nil {
			return nil, problem.New(problem.Failed, connectWhat, err, "")
		}
		defer tunnels.Close()
		ctl = loadbalancer.NewWithOptions(clients.Kube, loadbalancer.Options{Address: loadbalancer.AddressLocalhost, Assign: true, Tunnels: tunnels, Log: log})
	}
	if o.Watch {
		if o.Watching != nil {
			o.Watching(ip)
		}
		if err := ctl.Run(ctx, 2); err != nil && ctx.Err() == nil {
			return nil, problem.New(problem.Failed, "assigning LoadBalancer IPs", err, "")
		}
		return &LBResult{IP: ip, Assignments: []loadbalancer.Result{}}, nil
	}
	res, err := ctl.SyncOnce(ctx)
	if err != nil {
		return nil, problem.New(problem.Failed, "assigning LoadBalancer IPs", err, "")
	}
	return &LBResult{IP: ip, Assignments: res}, nil
}
