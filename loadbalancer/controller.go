package loadbalancer

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
)

// Controller assigns LoadBalancer IPs and, with a Tunneler, forwards
// Services to loopback ports.
type Controller struct {
	client kubernetes.Interface
	ip     string
	log    func(string, ...any)
	// mode is AddressNode (ip, ipMode VIP) or AddressLocalhost (127.0.0.1,
	// ipMode Proxy, every TCP port forwarded).
	mode Address
	// assign: write LoadBalancer status at all (false: only Services that
	// ask for a forward are served).
	assign  bool
	tunnels Tunneler
	fwd     *Forwarder
	// fwdState remembers what was reported per Service (events once).
	fwdState map[string]*forwardState
	// OnSync, when set, is called after each Service is reconciled (tests
	// and benchmarks measure latency with it).
	OnSync func(key string, d Decision, err error)

	mu   sync.Mutex
	last map[string]Action // last action per Service, to emit events on change only
}

// New returns a controller that hands out ip.
func New(client kubernetes.Interface, ip string, log func(string, ...any)) *Controller {
	return NewWithOptions(client, Options{IP: ip, Address: AddressNode, Assign: true, Log: log})
}

// Options configure a Controller.
type Options struct {
	// IP is the node IP handed out in node mode.
	IP string
	// Address is AddressNode or AddressLocalhost (AddressAuto is resolved
	// before: see ResolveAddress).
	Address Address
	// Assign writes LoadBalancer status; without it only Services that
	// carry ForwardAnnotation are served (loadBalancer.enabled false).
	Assign bool
	// Tunnels carries forwarded connections; nil forwards nothing (and
	// refuses localhost mode).
	Tunnels Tunneler
	Log     func(string, ...any)
}

// NewWithOptions returns a controller configured by o.
func NewWithOptions(client kubernetes.Interface, o Options) *Controller {
	log := o.Log
	if log == nil {
		log = func(string, ...any) {}
	}
	mode := o.Address
	if mode != AddressLocalhost {
		mode = AddressNode
	}
	ip := o.IP
	if mode == AddressLocalhost {
		ip = LoopbackIP
	}
	return &Controller{client: client, ip: ip, log: log, mode: mode, assign: o.Assign, tunnels: o.Tunnels,
		last: map[string]Action{}, fwdState: map[string]*forwardState{}}
}

// Result is one Service's outcome.
type Result struct {
	Namespace string   `json:"namespace"`
	Name      string   `json:"name"`
	Action    string   `json:"action"`
	IP        string   `json:"ip,omitempty"`
	Ports     []string `json:"ports,omitempty"`
	Reason    string   `json:"reason,omitempty"`
	Error     string   `json:"error,omitempty"`
}

// SyncOnce reconciles every Service once and returns what it did, sorted by
// namespace and name (for `devcluster lb` without --watch).
func (c *Controller) SyncOnce(ctx context.Context) ([]Result, error) {
	if c.mode == AddressLocalhost {
		return nil, fmt.Errorf("loadBalancer.address localhost needs a process that holds the forwards: the agent (devcluster up) or devcluster lb --watch")
	}
	list, err := c.client.CoreV1().Services("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("listing Services: %w", err)
	}
	var out []Result
	for i := range list.Items {
		svc := &list.Items[i]
		d, err := c.reconcile(ctx, svc)
		if d.Action == Skip && svc.Spec.Type != corev1.ServiceTypeLoadBalancer {
			continue
		}
		out = append(out, result(svc, d, err))
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].Namespace+"/"+out[i].Name < out[j].Namespace+"/"+out[j].Name
	})
	return out, nil
}

func result(svc *corev1.Service, d Decision, err error) Result {
	r := Result{Namespace: svc.Namespace, Name: svc.Name, Action: d.Action.String(), Reason: d.Reason}
	if len(d.Ingress) > 0 && (d.Action == Assign || d.Action == InSync) {
		r.IP = d.Ingress[0].IP
		for _, p := range svc.Spec.Ports {
			r.Ports = append(r.Ports, fmt.Sprintf("%d/%s", p.Port, protoOf(p)))
		}
	}
	if err != nil {
		r.Error = err.Error()
	}
	return r
}

func protoOf(p corev1.ServicePort) corev1.Protocol {
	if p.Protocol == "" {
		return corev1.ProtocolTCP
	}
	return p.Protocol
}

// Run watches Services (informer, no polling) and reconciles each change
// until ctx ends. The informer re-lists and re-watches by itself after an
// API server restart or an expired watch.
func (c *Controller) Run(ctx context.Context, workers int) error {
	if c.mode == AddressLocalhost && c.tunnels == nil {
		return fmt.Errorf("loadBalancer.address localhost needs port-forward tunnels")
	}
	factory := informers.NewSharedInformerFactory(c.client, 0)
	inf := factory.Core().V1().Services()
	queue := workqueue.NewTypedRateLimitingQueue(workqueue.DefaultTypedControllerRateLimiter[string]())
	defer queue.ShutDown()
	kick := make(chan struct{}, 1)
	enqueue := func(obj any) {
		if key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj); err == nil {
			if c.assign {
				queue.Add(key)
			}
			select {
			case kick <- struct{}{}:
			default:
			}
		}
	}
	var slices cache.SharedIndexInformer
	if c.tunnels != nil {
		slices = factory.Discovery().V1().EndpointSlices().Informer()
		if err := slices.AddIndexers(cache.Indexers{serviceIndex: indexByService}); err != nil {
			return err
		}
		c.fwd = NewForwarder(c.tunnels, slicesOf(slices.GetIndexer()), c.log)
	}
	if _, err := inf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    enqueue,
		UpdateFunc: func(_, obj any) { enqueue(obj) },
		DeleteFunc: enqueue,
	}); err != nil {
		return err
	}
	factory.Start(ctx.Done())
	defer factory.Shutdown()
	synced := []cache.InformerSynced{inf.Informer().HasSynced}
	if slices != nil {
		synced = append(synced, slices.HasSynced)
	}
	if !cache.WaitForCacheSync(ctx.Done(), synced...) {
		return ctx.Err()
	}
	switch {
	case !c.assign:
		c.log("LoadBalancer controller off: forwarding only Services annotated %s=true", ForwardAnnotation)
	case c.mode == AddressLocalhost:
		c.log("LoadBalancer controller: forwarding Services of type LoadBalancer to 127.0.0.1 (ipMode Proxy)")
	default:
		c.log("LoadBalancer controller: assigning %s to Services of type LoadBalancer", c.ip)
	}
	lister := inf.Lister()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		c.forwardLoop(ctx, lister, kick)
	}()
	for i := 0; i < max(workers, 1); i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				key, shutdown := queue.Get()
				if shutdown {
					return
				}
				func() {
					defer queue.Done(key)
					ns, name, _ := cache.SplitMetaNamespaceKey(key)
					svc, err := lister.Services(ns).Get(name)
					if apierrors.IsNotFound(err) {
						c.forget(key)
						queue.Forget(key)
						return
					}
					if err != nil {
						queue.AddRateLimited(key)
						return
					}
					d, err := c.reconcile(ctx, svc)
					if c.OnSync != nil {
						c.OnSync(key, d, err)
					}
					if err != nil {
						c.log("LoadBalancer %s: %v (will retry)", key, err)
						queue.AddRateLimited(key)
						return
					}
					queue.Forget(key)
				}()
			}
		}()
	}
	<-ctx.Done()
	queue.ShutDown()
	wg.Wait()
	return nil
}

func (c *Controller) forget(key string) {
	c.mu.Lock()
	delete(c.last, key)
	c.mu.Unlock()
}

// reconcile applies the decision for one Service.
func (c *Controller) reconcile(ctx context.Context, svc *corev1.Service) (Decision, error) {
	d := DecideFor(svc, c.ip, c.mode)
	key := svc.Namespace + "/" + svc.Name
	var err error
	switch d.Action {
	case Assign:
		// Not forced: if another manager wrote the ingress after the
		// object we decided on was read (a stale cache), the API server
		// answers with a conflict instead of letting us take it over.
		ing := corev1ac.LoadBalancerIngress().WithIP(d.Ingress[0].IP).WithIPMode(modeOf(d.Ingress[0]))
		_, err = c.client.CoreV1().Services(svc.Namespace).ApplyStatus(ctx,
			corev1ac.Service(svc.Name, svc.Namespace).WithStatus(corev1ac.ServiceStatus().
				WithLoadBalancer(corev1ac.LoadBalancerStatus().WithIngress(ing))),
			metav1.ApplyOptions{FieldManager: FieldManager})
		if apierrors.IsConflict(err) {
			fresh, gerr := c.client.CoreV1().Services(svc.Namespace).Get(ctx, svc.Name, metav1.GetOptions{})
			if gerr == nil {
				if d2 := DecideFor(fresh, c.ip, c.mode); d2.Action == Skip {
					return d2, nil
				}
			}
			return d, err
		}
	case Clear, Refuse:
		if ownsIngress(svc) && len(svc.Status.LoadBalancer.Ingress) > 0 {
			// Applying a status without the field releases it; as the only
			// owner, that removes the ingress.
			_, err = c.client.CoreV1().Services(svc.Namespace).ApplyStatus(ctx,
				corev1ac.Service(svc.Name, svc.Namespace).WithStatus(corev1ac.ServiceStatus()),
				metav1.ApplyOptions{FieldManager: FieldManager})
		}
	}
	if apierrors.IsNotFound(err) {
		return d, nil
	}
	if err != nil {
		c.event(ctx, svc, corev1.EventTypeWarning, "SyncLoadBalancerFailed", "devcluster could not update the LoadBalancer status: "+err.Error())
		return d, err
	}
	c.mu.Lock()
	prev, seen := c.last[key]
	c.last[key] = d.Action
	c.mu.Unlock()
	switch {
	case d.Action == Assign:
		c.log("LoadBalancer %s: assigned %s", key, d.Ingress[0].IP)
		c.event(ctx, svc, corev1.EventTypeNormal, "IPAssigned", fmt.Sprintf("devcluster assigned LoadBalancer IP %s (ports %s)", d.Ingress[0].IP, portList(svc)))
	case d.Action == Refuse && (!seen || prev != Refuse):
		c.log("LoadBalancer %s: refused: %s", key, d.Reason)
		c.event(ctx, svc, corev1.EventTypeWarning, "PortRefused", "devcluster did not assign a LoadBalancer IP: "+d.Reason)
	case d.Action == Skip && svc.Spec.Type == corev1.ServiceTypeLoadBalancer && (!seen || prev != Skip):
		// Another implementation's Service: a log line, no event (it is
		// not ours to annotate).
		c.log("LoadBalancer %s: left alone: %s", key, d.Reason)
	case d.Action == Clear:
		c.log("LoadBalancer %s: cleared (%s)", key, d.Reason)
		c.event(ctx, svc, corev1.EventTypeNormal, "IPCleared", "devcluster removed its LoadBalancer IP: "+d.Reason)
	}
	return d, nil
}

func portList(svc *corev1.Service) string {
	var ps []string
	for _, p := range svc.Spec.Ports {
		ps = append(ps, fmt.Sprintf("%d/%s", p.Port, protoOf(p)))
	}
	return strings.Join(ps, ", ")
}

// event records a core/v1 Event on the Service, synchronously (so a
// one-shot `devcluster lb` does not exit before its events are written).
func (c *Controller) event(ctx context.Context, svc *corev1.Service, typ, reason, msg string) {
	now := metav1.NewTime(time.Now())
	ev := &corev1.Event{
		ObjectMeta: metav1.ObjectMeta{
			Name:      fmt.Sprintf("%s.%x", svc.Name, time.Now().UnixNano()),
			Namespace: svc.Namespace,
		},
		InvolvedObject: corev1.ObjectReference{
			Kind: "Service", APIVersion: "v1", Namespace: svc.Namespace, Name: svc.Name,
			UID: svc.UID, ResourceVersion: svc.ResourceVersion,
		},
		Reason: reason, Message: msg, Type: typ,
		Source:         corev1.EventSource{Component: "devcluster"},
		FirstTimestamp: now, LastTimestamp: now, Count: 1,
		ReportingController: "devcluster.dev/loadbalancer", ReportingInstance: "devcluster",
	}
	if _, err := c.client.CoreV1().Events(svc.Namespace).Create(ctx, ev, metav1.CreateOptions{}); err != nil {
		c.log("recording event %s on %s/%s: %v", reason, svc.Namespace, svc.Name, err)
	}
}
