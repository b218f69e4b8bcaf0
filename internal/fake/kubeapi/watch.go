package kubeapi

import (
	"strconv"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	k8stesting "k8s.io/client-go/testing"
)

func (s *Server) list(gvr schema.GroupVersionResource, a k8stesting.ListActionImpl) (runtime.Object, error) {
	gvk := a.GetKind()
	if gvk.Empty() {
		var err error
		if gvk, err = s.Mapper.KindFor(gvr); err != nil {
			return nil, err
		}
	}
	obj, err := s.tracker.List(gvr, gvk, a.GetNamespace())
	if err != nil {
		return nil, err
	}
	r := a.GetListRestrictions()
	items, err := meta.ExtractList(obj)
	if err != nil {
		return nil, err
	}
	var kept []runtime.Object
	for _, it := range items {
		if matches(it, r.Labels, r.Fields) {
			kept = append(kept, it)
		}
	}
	if err := meta.SetList(obj, kept); err != nil {
		return nil, err
	}
	if lm, err := meta.ListAccessor(obj); err == nil {
		lm.SetResourceVersion(strconv.FormatInt(s.rv, 10))
	}
	return obj, nil
}

// watch follows the API server's rules for a watch's resourceVersion:
// unset or "0", every stored object first as ADDED; N, the objects changed
// after N; then every change. Registered under the lock writes take, so
// nothing falls between a list and the watch that follows it.
func (s *Server) watch(a k8stesting.WatchActionImpl) (watch.Interface, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	gvr, ns := a.GetResource(), a.GetNamespace()
	inner, err := s.tracker.Watch(gvr, ns)
	if err != nil {
		return nil, err
	}
	r := a.GetWatchRestrictions()
	from := int64(0)
	if r.ResourceVersion != "" {
		if from, err = strconv.ParseInt(r.ResourceVersion, 10, 64); err != nil {
			inner.Stop()
			return nil, apierrors.NewBadRequest("invalid resourceVersion " + r.ResourceVersion)
		}
	}
	var replay []watch.Event
	if gvk, err := s.Mapper.KindFor(gvr); err == nil {
		if list, err := s.tracker.List(gvr, gvk, ns); err == nil {
			items, _ := meta.ExtractList(list)
			for _, it := range items {
				acc, _ := meta.Accessor(it)
				if rv, _ := strconv.ParseInt(acc.GetResourceVersion(), 10, 64); rv > from {
					it.GetObjectKind().SetGroupVersionKind(gvk)
					replay = append(replay, watch.Event{Type: watch.Added, Object: it})
				}
			}
		}
	}
	w := &replayWatcher{inner: inner, ch: make(chan watch.Event), stop: make(chan struct{})}
	go w.run(replay, func(ev watch.Event) bool { return matches(ev.Object, r.Labels, r.Fields) })
	return w, nil
}

// replayWatcher sends some events, then those of the tracker's watch.
type replayWatcher struct {
	inner watch.Interface
	ch    chan watch.Event
	stop  chan struct{}
	once  sync.Once
}

func (w *replayWatcher) run(replay []watch.Event, keep func(watch.Event) bool) {
	defer close(w.ch)
	send := func(ev watch.Event) bool {
		if !keep(ev) {
			return true
		}
		select {
		case w.ch <- ev:
			return true
		case <-w.stop:
			return false
		}
	}
	for _, ev := range replay {
		if !send(ev) {
			return
		}
	}
	for {
		select {
		case ev, ok := <-w.inner.ResultChan():
			if !ok || !send(ev) {
				return
			}
		case <-w.stop:
			return
		}
	}
}

func (w *replayWatcher) ResultChan() <-chan watch.Event { return w.ch }

func (w *replayWatcher) Stop() {
	w.once.Do(func() {
		close(w.stop)
		w.inner.Stop()
	})
}

// matches applies label and field selectors (metadata.name,
// metadata.namespace, and an Event's involvedObject and type).
func matches(o runtime.Object, l labels.Selector, f fields.Selector) bool {
	acc, err := meta.Accessor(o)
	if err != nil {
		return false
	}
	if l != nil && !l.Matches(labels.Set(acc.GetLabels())) {
		return false
	}
	if f == nil || f.Empty() {
		return true
	}
	set := fields.Set{"metadata.name": acc.GetName(), "metadata.namespace": acc.GetNamespace()}
	if u, err := toUnstructured(o); err == nil {
		for _, p := range [][]string{{"involvedObject", "name"}, {"involvedObject", "kind"}, {"involvedObject", "namespace"}, {"type"}, {"reason"}} {
			if v, ok, _ := unstructured.NestedString(u.Object, p...); ok {
				set[joinPath(p)] = v
			}
		}
	}
	return f.Matches(set)
}

func joinPath(p []string) string {
	out := p[0]
	for _, s := range p[1:] {
		out += "." + s
	}
	return out
}
