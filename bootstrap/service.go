package bootstrap

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/devcluster/devcluster/agent"
	"github.com/devcluster/devcluster/config"
	"github.com/devcluster/devcluster/internal/problem"
	"github.com/devcluster/devcluster/kube"
	"github.com/devcluster/devcluster/loadbalancer"
	"github.com/devcluster/devcluster/provider"
)

// DefaultServiceTimeout bounds the wait for the agent's forward.
const DefaultServiceTimeout = 30 * time.Second

// ServiceOptions are the options of Service.
type ServiceOptions struct {
	// Name is the Service's name.
	Name string
	// Namespace is its namespace; "" is the context's, else default.
	Namespace string
	// Port picks one port, by number or name; "" is every TCP port.
	Port string
	// Stop removes the forward the Service asked for instead.
	Stop bool
	// Timeout bounds the wait for the agent (DefaultServiceTimeout when 0).
	Timeout time.Duration
}

// ServicePort is one port of a Service and how the host reaches it.
type ServicePort struct {
	Name     string `json:"name,omitempty"`
	Port     int32  `json:"port"`
	Protocol string `json:"protocol"`
	// URL is where the host reaches the port ("" when it does not: UDP).
	URL string `json:"url,omitempty"`
	// Detail says why a port has no URL.
	Detail string `json:"detail,omitempty"`
}

// ServiceResult is what `devcluster service` reports.
type ServiceResult struct {
	Context   string `json:"context"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	Type      string `json:"type"`
	// Access is how the host reaches it: "forward" (the agent's loopback
	// forward), "loadBalancer" (the LoadBalancer's own address), or for
	// --stop "stopped" or "not-forwarded".
	Access string `json:"access"`
	// Requested is true when this run asked the agent for the forward.
	Requested bool          `json:"requested"`
	Ports     []ServicePort `json:"ports"`
	// URLs are the ports' URLs (the chosen port's with --port).
	URLs []string `json:"urls"`
}

// hostAccess is a running cluster reached for `service` and `dashboard`:
// its clients and its agent's state.
type hostAccess struct {
	cluster *provider.Cluster
	clients *kube.Clients
	agent   *agent.Status // nil when the agent is not running
}

// connectHostAccess checks that the cluster runs, reads whether its agent
// runs, and connects to the cluster. agentFor, when set, names what needs
// the agent in every case (the dashboard): a missing agent is then the
// problem reported, before the API server is asked (`devcluster up` starts
// both).
func connectHostAccess(ctx context.Context, deps Deps, cfg *config.Config, agentFor string) (*hostAccess, error) {
	have, err := runningCluster(ctx, deps.Provider, cfg.Name)
	if err != nil {
		return nil, err
	}
	h := &hostAccess{cluster: have}
	if deps.Agent != nil && deps.Dirs != nil {
		if dirs, err := deps.Dirs(cfg.Name); err == nil {
			if st, err := deps.Agent.Status(ctx, dirs.State); err == nil && st.Running {
				h.agent = st
			}
		}
	}
	if agentFor != "" {
		if err := h.needAgent(cfg, agentFor); err != nil {
			return nil, err
		}
	}
	if h.clients, err = connectCluster(ctx, deps, have.KubeContext, fromCluster, answering); err != nil {
		return nil, err
	}
	return h, nil
}

// runningCluster is the cluster name as its provider reports it, or the
// NotRunning problem status gives when it does not run.
func runningCluster(ctx context.Context, p provider.Provider, name string) (*provider.Cluster, error) {
	if _, err := p.EnsureInstalled(ctx); err != nil {
		return nil, err
	}
	have, err := p.Get(ctx, name)
	if err != nil {
		return nil, err
	}
	if have.State != provider.Running {
		return nil, StatusError(&Result{Cluster: have})
	}
	return have, nil
}

// needAgent is the error for a forward without a running agent.
func (h *hostAccess) needAgent(cfg *config.Config, what string) error {
	if h.agent != nil {
		return nil
	}
	fix := "run `devcluster up` (it starts the agent), then run this command again"
	if config.ExternalProvider(cfg.Provider) {
		fix = "provider existing runs the agent only when asked: set loadBalancer.enabled: true and loadBalancer.address: localhost in devcluster.yaml " +
			"(or `devcluster up --lb-address localhost`), run `devcluster up`, then this command again"
	}
	return problem.New(problem.NotRunning, "", fmt.Errorf("devcluster's agent for cluster %q is not running: it is what forwards %s to this host", cfg.Name, what), fix)
}

// waitAdvice is the advice of a forward that did not come.
func (h *hostAccess) waitAdvice() string {
	s := "check the agent with `devcluster status`"
	if h.agent != nil && h.agent.LogPath != "" {
		s += " and its log, " + h.agent.LogPath
	}
	return s
}

// Service prints how the host reaches a Service: a LoadBalancer Service's
// URLs as the agent (or its status) gives them; for any other Service it
// asks the agent for loopback forwards of its TCP ports (the annotation
// devcluster.dev/forward, kept until `down` or --stop) and waits for the
// URLs the agent writes back (devcluster.dev/host-url).
func Service(ctx context.Context, deps Deps, cfg *config.Config, o ServiceOptions) (*ServiceResult, error) {
	if o.Timeout <= 0 {
		o.Timeout = DefaultServiceTimeout
	}
	h, err := connectHostAccess(ctx, deps, cfg, "")
	if err != nil {
		return nil, err
	}
	if o.Namespace == "" {
		o.Namespace = h.clients.Namespace
	}
	if o.Namespace == "" {
		o.Namespace = metav1.NamespaceDefault
	}
	res, err := serviceOn(ctx, deps.Report, h, cfg, o)
	if res != nil {
		res.Context = h.clients.Context
	}
	return res, err
}

// serviceOn is Service on a connected cluster.
func serviceOn(ctx context.Context, r Reporter, h *hostAccess, cfg *config.Config, o ServiceOptions) (*ServiceResult, error) {
	k := h.clients.Kube
	what := o.Namespace + "/" + o.Name
	svc, err := k.CoreV1().Services(o.Namespace).Get(ctx, o.Name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return nil, problem.New(problem.Failed, "", fmt.Errorf("Service %s not found", what),
			fmt.Sprintf("list the Services with `kubectl --context %s get services -A`; give the namespace with -n", h.clients.Context))
	case err != nil:
		return nil, problem.New(problem.Failed, "reading Service "+what, err, "")
	}
	res := &ServiceResult{Namespace: svc.Namespace, Name: svc.Name, Type: string(orClusterIP(svc.Spec.Type)), Ports: []ServicePort{}, URLs: []string{}}
	if o.Stop {
		return stopForward(ctx, r, k, svc, res)
	}
	if svc.Spec.Type == corev1.ServiceTypeExternalName {
		return nil, problem.New(problem.Failed, "", fmt.Errorf("Service %s is of type ExternalName: it names %s and has no pods to forward to", what, svc.Spec.ExternalName),
			"reach "+svc.Spec.ExternalName+" directly")
	}
	tcp := tcpPorts(svc)
	if len(tcp) == 0 {
		return nil, problem.New(problem.Failed, "", fmt.Errorf("Service %s has no TCP port (%s): port-forwarding carries TCP only", what, describePorts(svc.Spec.Ports)),
			"reach UDP and SCTP ports through a NodePort on a routable node IP")
	}
	pick := -1
	if o.Port != "" {
		if pick, err = pickPort(svc, o.Port); err != nil {
			return nil, err
		}
	}
	lb := svc.Spec.Type == corev1.ServiceTypeLoadBalancer
	res.Access = "forward"
	if lb && !loadbalancer.WantsForward(svc) {
		res.Access = "loadBalancer"
	}
	urls, ok := serviceURLs(svc, lb)
	if !ok {
		if res.Access == "forward" && !loadbalancer.WantsForward(svc) {
			if err := h.needAgent(cfg, "Services"); err != nil {
				return nil, err
			}
			on := "true"
			r.Progress("asking the agent to forward " + what)
			if svc, err = kube.SetServiceAnnotation(ctx, k, svc, loadbalancer.ForwardAnnotation, &on); err != nil {
				return nil, problem.New(problem.Failed, "asking for a forward of Service "+what, err, "check that your context may patch Services in "+o.Namespace)
			}
			res.Requested = true
		} else if err := h.needAgent(cfg, "LoadBalancer Services"); err != nil && res.Access == "forward" {
			return nil, err
		}
		r.Progress(fmt.Sprintf("waiting for the URL of %s (at most %s)", what, o.Timeout))
		var last *corev1.Service
		last, err = kube.WaitForService(ctx, k, svc.Namespace, svc.Name, o.Timeout, func(s *corev1.Service) (bool, error) {
			if s.UID != svc.UID {
				return false, kube.ErrServiceDeleted
			}
			urls, ok = serviceURLs(s, lb)
			return ok, nil
		})
		if last != nil {
			svc = last
		}
		switch {
		case errors.Is(err, kube.ErrTimeout):
			fix := h.waitAdvice()
			if res.Requested {
				fix += "; the forward stays asked for: `devcluster service --stop " + o.Name + " -n " + o.Namespace + "` withdraws it"
			}
			if res.Access == "loadBalancer" && h.agent == nil {
				fix = "run `devcluster up`: its agent gives LoadBalancer Services their address"
			}
			return nil, problem.New(problem.Timeout, "", fmt.Errorf("no URL for Service %s after %s: the agent did not write %s", what, o.Timeout, loadbalancer.HostURLAnnotation), fix)
		case errors.Is(err, kube.ErrServiceDeleted):
			return nil, problem.New(problem.Failed, "", fmt.Errorf("Service %s was deleted while waiting for its URL", what), "")
		case err != nil:
			return nil, problem.New(problem.Failed, "waiting for the URL of Service "+what, err, "")
		}
	}
	if o.Port != "" {
		// Against the Service as it is now: it may have changed meanwhile.
		if pick, err = pickPort(svc, o.Port); err != nil {
			return nil, err
		}
	}
	res.Type = string(orClusterIP(svc.Spec.Type))
	i := 0
	for pi, p := range svc.Spec.Ports {
		sp := ServicePort{Name: p.Name, Port: p.Port, Protocol: string(orTCP(p.Protocol))}
		if loadbalancer.IsTCP(p) {
			sp.URL = urls[i]
			i++
			if pick < 0 || pick == pi {
				res.URLs = append(res.URLs, sp.URL)
			}
		} else {
			sp.Detail = "not forwarded: port-forwarding carries TCP only"
		}
		res.Ports = append(res.Ports, sp)
	}
	if len(res.URLs) == 0 {
		// Changed while devcluster waited: the port asked for is no
		// longer TCP, or no TCP port is left.
		return nil, problem.New(problem.Failed, "", fmt.Errorf("Service %s has no TCP port to reach any more (%s): it changed while devcluster waited", what, describePorts(svc.Spec.Ports)),
			"run the command again")
	}
	return res, nil
}

// stopForward withdraws the forward annotation.
func stopForward(ctx context.Context, r Reporter, k kubernetes.Interface, svc *corev1.Service, res *ServiceResult) (*ServiceResult, error) {
	what := svc.Namespace + "/" + svc.Name
	if _, ok := svc.Annotations[loadbalancer.ForwardAnnotation]; !ok {
		res.Access = "not-forwarded"
		if svc.Spec.Type == corev1.ServiceTypeLoadBalancer {
			res.Access = "loadBalancer"
		}
		return res, nil
	}
	r.Progress("withdrawing the forward of " + what)
	if _, err := kube.SetServiceAnnotation(ctx, k, svc, loadbalancer.ForwardAnnotation, nil); err != nil {
		if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
			// Deleted (or replaced) meanwhile: its forward went with it.
			res.Access = "stopped"
			return res, nil
		}
		return nil, problem.New(problem.Failed, "withdrawing the forward of Service "+what, err, "")
	}
	res.Access = "stopped"
	return res, nil
}

func orClusterIP(t corev1.ServiceType) corev1.ServiceType {
	if t == "" {
		return corev1.ServiceTypeClusterIP
	}
	return t
}

func orTCP(p corev1.Protocol) corev1.Protocol {
	if p == "" {
		return corev1.ProtocolTCP
	}
	return p
}

func tcpPorts(svc *corev1.Service) []corev1.ServicePort {
	var out []corev1.ServicePort
	for _, p := range svc.Spec.Ports {
		if loadbalancer.IsTCP(p) {
			out = append(out, p)
		}
	}
	return out
}

func describePorts(ps []corev1.ServicePort) string {
	if len(ps) == 0 {
		return "no ports"
	}
	var s []string
	for _, p := range ps {
		d := fmt.Sprintf("%d/%s", p.Port, orTCP(p.Protocol))
		if p.Name != "" {
			d = p.Name + " " + d
		}
		s = append(s, d)
	}
	return strings.Join(s, ", ")
}

// pickPort finds --port: a port number, or a port's name; the index in
// spec.ports.
func pickPort(svc *corev1.Service, want string) (int, error) {
	n, numErr := strconv.Atoi(want)
	for i, p := range svc.Spec.Ports {
		if p.Name == want || (numErr == nil && int(p.Port) == n) {
			if !loadbalancer.IsTCP(p) {
				return -1, problem.New(problem.Usage, "", fmt.Errorf("--port %s: port %d of Service %s/%s is %s; port-forwarding carries TCP only", want, p.Port, svc.Namespace, svc.Name, p.Protocol), "")
			}
			return i, nil
		}
	}
	return -1, problem.New(problem.Usage, "", fmt.Errorf("--port %s: Service %s/%s has no such port (it has %s)", want, svc.Namespace, svc.Name, describePorts(svc.Spec.Ports)),
		"give a port number or name the Service lists")
}

// serviceURLs are the URLs of the Service's TCP ports, in spec.ports
// order, and whether there is one for every TCP port: from the agent's
// host-url annotation; for a LoadBalancer Service without it, from its
// ingress (unless the ingress is the agent's loopback one, whose ports the
// agent may have remapped: then only its annotation tells).
func serviceURLs(svc *corev1.Service, lb bool) ([]string, bool) {
	if !lb && !loadbalancer.WantsForward(svc) {
		// A forward withdrawn: what the annotation still says is stale.
		return nil, false
	}
	tcp := tcpPorts(svc)
	if raw, ok := svc.Annotations[loadbalancer.HostURLAnnotation]; ok {
		parts := strings.Split(raw, ",")
		if len(parts) == len(tcp) {
			urls := make([]string, len(parts))
			for i, p := range parts {
				p = strings.TrimSpace(p)
				if _, _, ok := loadbalancer.ParseHostURL(p); !ok {
					return nil, false
				}
				urls[i] = p
			}
			return urls, true
		}
	}
	if !lb || loadbalancer.WantsForward(svc) {
		return nil, false
	}
	for _, ing := range svc.Status.LoadBalancer.Ingress {
		host := ing.IP
		if host == "" {
			host = ing.Hostname
		}
		if host == "" || host == loadbalancer.LoopbackIP {
			continue
		}
		var urls []string
		for _, p := range tcp {
			urls = append(urls, loadbalancer.HostURL(p, host, p.Port))
		}
		return urls, true
	}
	return nil, false
}
