package bootstrap

import (
	"context"
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/devcluster/devcluster/loadbalancer"
)

// LBService is one Service of type LoadBalancer as `up` and `status`
// report it.
type LBService struct {
	Namespace string   `json:"namespace"`
	Name      string   `json:"name"`
	IP        string   `json:"ip,omitempty"`
	URLs      []string `json:"urls,omitempty"`
	// State is assigned, pending, refused or other (owned elsewhere).
	State  string `json:"state"`
	Detail string `json:"detail,omitempty"`
}

// lbSettle bounds how long `up` waits for the agent to give Services that
// already exist their IPs (it normally takes milliseconds).
const lbSettle = 5 * time.Second

func checkLoadBalancers(ctx context.Context, s *operation) (string, error) {
	ip := ""
	if s.agent != nil {
		ip = s.agent.LoadBalancerIP
	}
	var svcs []LBService
	deadline := time.Now().Add(lbSettle)
	for {
		var err error
		svcs, err = listLoadBalancers(ctx, s, ip)
		if err != nil {
			return "", err
		}
		pending := 0
		for _, l := range svcs {
			if l.State == "pending" {
				pending++
			}
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
	s.result.LoadBalancers = svcs
	platform := s.deps.Platform
	platform.Driver = s.cluster.Driver
	if ok, why := loadbalancer.Reachability(platform); !ok {
		s.deps.Report.Warn("LoadBalancer IPs are not reachable from this host: " + why)
	}
	if len(svcs) == 0 {
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

// listLoadBalancers reads every Service of type LoadBalancer and classifies
// it with the same decision the agent uses.
func listLoadBalancers(ctx context.Context, s *operation, ip string) ([]LBService, error) {
	list, err := s.clients.Kube.CoreV1().Services("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("listing Services: %w", err)
	}
	var out []LBService
	for i := range list.Items {
		svc := &list.Items[i]
		if svc.Spec.Type != corev1.ServiceTypeLoadBalancer {
			continue
		}
		l := LBService{Namespace: svc.Namespace, Name: svc.Name}
		d := loadbalancer.Decide(svc, ip)
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
			for _, p := range svc.Spec.Ports {
				l.URLs = append(l.URLs, urlFor(ing[0].IP, p))
			}
		}
		out = append(out, l)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Namespace+"/"+out[i].Name < out[j].Namespace+"/"+out[j].Name })
	return out, nil
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
