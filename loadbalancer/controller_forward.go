package loadbalancer

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
)

// serviceIndex indexes EndpointSlices by their Service (namespace/name).
const serviceIndex = "service"

func indexByService(obj any) ([]string, error) {
	s, ok := obj.(*discoveryv1.EndpointSlice)
	if !ok {
		return nil, nil
	}
	name := s.Labels[discoveryv1.LabelServiceName]
	if name == "" {
		return nil, nil
	}
	return []string{s.Namespace + "/" + name}, nil
}

// slicesOf reads a Service's EndpointSlices from the informer's index:
// each connection reads the current ones, no API call.
func slicesOf(idx cache.Indexer) func(ns, name string) []*discoveryv1.EndpointSlice {
	return func(ns, name string) []*discoveryv1.EndpointSlice {
		objs, err := idx.ByIndex(serviceIndex, ns+"/"+name)
		if err != nil {
			return nil
		}
		out := make([]*discoveryv1.EndpointSlice, 0, len(objs))
		for _, o := range objs {
			if s, ok := o.(*discoveryv1.EndpointSlice); ok {
				out = append(out, s)
			}
		}
		return out
	}
}

// forwardState is what was last reported for one Service's forwards, so
// events are recorded when something changes only.
type forwardState struct {
	udp    string
	failed string
}

// forwardRetry is how soon a sync with a port that could not be bound is
// tried again.
const forwardRetry = 5 * time.Second

// forwardLoop re-syncs the forwards and host-url annotations whenever a
// Service changes, one sync at a time, so port choice depends on the set
// of Services only, never on the order events arrive in.
func (c *Controller) forwardLoop(ctx context.Context, lister corelisters.ServiceLister, kick <-chan struct{}) {
	if c.fwd != nil {
		defer c.fwd.Close()
	}
	var retry <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-kick:
		case <-retry:
		}
		retry = nil
		if again := c.syncForwards(ctx, lister); again {
			retry = time.After(forwardRetry)
		}
	}
}

// wantsLoopback reports whether a Service is forwarded: it asks to be, or
// it is a LoadBalancer Service this controller serves in localhost mode.
func (c *Controller) wantsLoopback(svc *corev1.Service) bool {
	if WantsForward(svc) {
		return true
	}
	if c.mode != AddressLocalhost || !c.assign || svc.Spec.Type != corev1.ServiceTypeLoadBalancer {
		return false
	}
	a := DecideFor(svc, c.ip, c.mode).Action
	return a == Assign || a == InSync
}

// syncForwards binds and closes listeners and writes each Service's
// host-url annotation; it reports whether something failed and should be
// tried again.
func (c *Controller) syncForwards(ctx context.Context, lister corelisters.ServiceLister) bool {
	all, err := lister.List(labels.Everything())
	if err != nil {
		return true
	}
	var forwarded []*corev1.Service
	if c.fwd != nil {
		for _, svc := range all {
			if c.wantsLoopback(svc) {
				forwarded = append(forwarded, svc)
			}
		}
	}
	var results map[string]*Forwarded
	if c.fwd != nil {
		results = c.fwd.Sync(forwarded)
	}
	again := false
	seen := map[string]bool{}
	for _, svc := range all {
		key := svc.Namespace + "/" + svc.Name
		seen[key] = true
		var urls []string
		if r, ok := results[key]; ok {
			urls = r.URLs()
			if c.reportForward(ctx, svc, r) {
				again = true
			}
		} else {
			delete(c.fwdState, key)
			if c.assign && c.mode == AddressNode && svc.Spec.Type == corev1.ServiceTypeLoadBalancer {
				if a := DecideFor(svc, c.ip, c.mode).Action; a == Assign || a == InSync {
					urls = NodeHostURLs(svc, c.ip)
				}
			}
		}
		if err := c.writeHostURLs(ctx, svc, urls); err != nil {
			c.log("host-url annotation of %s: %v (will retry)", key, err)
			again = true
		}
	}
	for key := range c.fwdState {
		if !seen[key] {
			delete(c.fwdState, key)
		}
	}
	return again
}

// reportForward records the events of one Service's forwards: each port
// moved (PortRemapped), the ports that cannot be forwarded
// (UDPNotForwarded) and the ports no listener could be bound for
// (PortUnavailable), each when it changes.
func (c *Controller) reportForward(ctx context.Context, svc *corev1.Service, r *Forwarded) bool {
	key := svc.Namespace + "/" + svc.Name
	st := c.fwdState[key]
	if st == nil {
		st = &forwardState{}
		c.fwdState[key] = st
	}
	var failed []string
	for _, p := range r.Ports {
		switch {
		case p.Remap != "":
			c.log("forward %s port %d: %s", key, p.Port.Port, p.Remap)
			c.event(ctx, svc, corev1.EventTypeWarning, "PortRemapped", fmt.Sprintf("port %d: %s (%s)", p.Port.Port, p.Remap, HostURL(p.Port, LoopbackIP, p.Host)))
		case p.Error != "":
			failed = append(failed, fmt.Sprintf("port %d: %s", p.Port.Port, p.Error))
		}
	}
	if msg := strings.Join(failed, "; "); msg != st.failed {
		st.failed = msg
		if msg != "" {
			c.log("forward %s: %s", key, msg)
			c.event(ctx, svc, corev1.EventTypeWarning, "PortUnavailable", "devcluster could not forward "+msg)
		}
	}
	var udp []string
	for _, p := range r.UDP {
		udp = append(udp, fmt.Sprintf("%d/%s", p.Port, protoOf(p)))
	}
	if msg := strings.Join(udp, ", "); msg != st.udp {
		st.udp = msg
		if msg != "" {
			c.log("forward %s: %s not forwarded", key, msg)
			c.event(ctx, svc, corev1.EventTypeWarning, "UDPNotForwarded",
				"devcluster forwards TCP only: port-forward through the API server cannot carry "+msg+" (kubernetes/kubernetes#47862); reach it from inside the cluster")
		}
	}
	return len(failed) > 0
}

// writeHostURLs sets (or, for no URLs, removes) the host-url annotation
// with a merge patch — a patch never creates a deleted Service, as an
// apply would. Only an annotation devcluster wrote is removed.
func (c *Controller) writeHostURLs(ctx context.Context, svc *corev1.Service, urls []string) error {
	cur, has := svc.Annotations[HostURLAnnotation]
	want := JoinHostURLs(urls)
	var value any
	switch {
	case len(urls) > 0 && cur != want:
		value = want
	case len(urls) == 0 && has && ownsHostURL(svc):
		value = nil
	default:
		return nil
	}
	patch, _ := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": map[string]any{HostURLAnnotation: value}}})
	_, err := c.client.CoreV1().Services(svc.Namespace).Patch(ctx, svc.Name, types.MergePatchType, patch, metav1.PatchOptions{FieldManager: FieldManager})
	if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
		return nil
	}
	return err
}

// ownsHostURL reports whether devcluster's field manager wrote the
// host-url annotation (a user's own value is left alone).
func ownsHostURL(svc *corev1.Service) bool {
	for _, m := range svc.ManagedFields {
		if m.Manager == FieldManager && m.FieldsV1 != nil && strings.Contains(m.FieldsV1.GetRawString(), `"f:`+HostURLAnnotation+`"`) {
			return true
		}
	}
	return false
}
