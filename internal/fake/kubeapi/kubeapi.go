// Package kubeapi is a Kubernetes API for unit tests: client-go's fake
// clientset and fake dynamic client over one object store, with the API
// server's rules that those fakes leave out and that code writing with
// optimistic concurrency depends on: a resourceVersion and a UID on every
// object, the resourceVersion and UID as preconditions of updates, patches,
// applies and deletes (409 Conflict when they do not match), generation
// bumped when the spec changes, status kept by writes of the main resource
// and written only through the status subresource, dry runs that write
// nothing, server-side apply and managed fields, and field selectors on
// lists and watches. Patches are strategic-merge patches and applies.
package kubeapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"sync"
	"time"

	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/meta/testrestmapper"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/managedfields"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/applyconfigurations"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/kubernetes/scheme"
	k8stesting "k8s.io/client-go/testing"
)

// Server is the object store and the clients that reach it.
type Server struct {
	// Clientset is the typed client.
	Clientset *fake.Clientset
	// Dynamic is the dynamic client (server-side apply of manifests).
	Dynamic *dynamicfake.FakeDynamicClient
	// Mapper maps every built-in kind to its resource.
	Mapper meta.RESTMapper

	mu      sync.Mutex
	tracker k8stesting.ObjectTracker
	types   managedfields.TypeConverter
	rv      int64
}

// New returns a server holding objs (typed objects of client-go's scheme).
func New(objs ...runtime.Object) *Server {
	s := &Server{
		Clientset: fake.NewClientset(),
		Dynamic:   dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), nil),
		Mapper:    testrestmapper.TestOnlyStaticRESTMapper(scheme.Scheme),
		tracker:   k8stesting.NewObjectTracker(scheme.Scheme, scheme.Codecs.UniversalDecoder()),
		types:     applyconfigurations.NewTypeConverter(scheme.Scheme),
	}
	for _, f := range []*k8stesting.Fake{&s.Clientset.Fake, &s.Dynamic.Fake} {
		unstructuredOut := f == &s.Dynamic.Fake
		f.PrependReactor("*", "*", func(a k8stesting.Action) (bool, runtime.Object, error) {
			if _, err := s.Mapper.KindFor(a.GetResource()); err != nil {
				return false, nil, nil // not a resource (discovery's version): the fake's own answer
			}
			obj, err := s.react(a)
			if err != nil || obj == nil || !unstructuredOut {
				return true, obj, err
			}
			u, err := toUnstructured(obj)
			return true, u, err
		})
		f.PrependWatchReactor("*", func(a k8stesting.Action) (bool, watch.Interface, error) {
			w, err := s.watch(a.(k8stesting.WatchActionImpl))
			if err != nil || !unstructuredOut {
				return true, w, err
			}
			return true, watch.Filter(w, func(ev watch.Event) (watch.Event, bool) {
				u, err := toUnstructured(ev.Object)
				if err != nil {
					return ev, false
				}
				ev.Object = u
				return ev, true
			}), nil
		})
	}
	for _, o := range objs {
		gvk, err := kindOf(o)
		if err != nil {
			panic(err)
		}
		m, err := s.Mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		if err != nil {
			panic(err)
		}
		obj, err := s.typed(m.Resource, o)
		if err != nil {
			panic(err)
		}
		acc, _ := meta.Accessor(obj)
		if _, err := s.create(m.Resource, acc.GetNamespace(), obj, "test-setup", false); err != nil {
			panic(err)
		}
	}
	return s
}

// ResourceVersion is the store's latest resourceVersion.
func (s *Server) ResourceVersion() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strconv.FormatInt(s.rv, 10)
}

// unnamedManager is the field manager of a write that names none (the
// API server takes it from the user agent).
const unnamedManager = "kubeapi.test"

func orUnnamed(manager string) string {
	if manager == "" {
		return unnamedManager
	}
	return manager
}

func (s *Server) react(a k8stesting.Action) (runtime.Object, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	gvr, ns := a.GetResource(), a.GetNamespace()
	switch a := a.(type) {
	case k8stesting.GetActionImpl:
		return s.get(gvr, ns, a.GetName())
	case k8stesting.ListActionImpl:
		return s.list(gvr, a)
	case k8stesting.CreateActionImpl:
		obj, err := s.typed(gvr, a.GetObject())
		if err != nil {
			return nil, err
		}
		if a.GetSubresource() != "" {
			return nil, fmt.Errorf("kubeapi: create of subresource %s is not supported", a.GetSubresource())
		}
		return s.create(gvr, ns, obj, orUnnamed(a.CreateOptions.FieldManager), isDryRun(a.CreateOptions.DryRun))
	case k8stesting.UpdateActionImpl:
		obj, err := s.typed(gvr, a.GetObject())
		if err != nil {
			return nil, err
		}
		return s.update(gvr, ns, obj, a.GetSubresource(), orUnnamed(a.UpdateOptions.FieldManager), isDryRun(a.UpdateOptions.DryRun))
	case k8stesting.PatchActionImpl:
		return s.patch(gvr, ns, a)
	case k8stesting.DeleteActionImpl:
		return nil, s.delete(gvr, ns, a.GetName(), a.DeleteOptions)
	}
	return nil, fmt.Errorf("kubeapi: %s %s is not supported", a.GetVerb(), gvr.Resource)
}

// get reads a stored object, its kind set (the tracker drops it).
func (s *Server) get(gvr schema.GroupVersionResource, ns, name string) (runtime.Object, error) {
	obj, err := s.tracker.Get(gvr, ns, name)
	if err != nil {
		return nil, err
	}
	gvk, err := s.Mapper.KindFor(gvr)
	if err != nil {
		return nil, err
	}
	obj.GetObjectKind().SetGroupVersionKind(gvk)
	return obj, nil
}

func isDryRun(d []string) bool { return len(d) > 0 }

// typed turns what a client sent (typed, or unstructured from the dynamic
// client) into the typed object of the resource, with its kind set.
func (s *Server) typed(gvr schema.GroupVersionResource, obj runtime.Object) (runtime.Object, error) {
	gvk, err := s.Mapper.KindFor(gvr)
	if err != nil {
		return nil, err
	}
	out, err := scheme.Scheme.New(gvk)
	if err != nil {
		return nil, err
	}
	if u, ok := obj.(*unstructured.Unstructured); ok {
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, out); err != nil {
			return nil, apierrors.NewBadRequest(err.Error())
		}
	} else {
		out = obj.DeepCopyObject()
	}
	out.GetObjectKind().SetGroupVersionKind(gvk)
	return out, nil
}

func kindOf(o runtime.Object) (schema.GroupVersionKind, error) {
	gvks, _, err := scheme.Scheme.ObjectKinds(o)
	if err != nil {
		return schema.GroupVersionKind{}, err
	}
	return gvks[0], nil
}

func toUnstructured(o runtime.Object) (*unstructured.Unstructured, error) {
	gvk := o.GetObjectKind().GroupVersionKind()
	if gvk.Empty() {
		var err error
		if gvk, err = kindOf(o); err != nil {
			return nil, err
		}
	}
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(o)
	if err != nil {
		return nil, err
	}
	u := &unstructured.Unstructured{Object: m}
	u.SetGroupVersionKind(gvk)
	return u, nil
}

func (s *Server) fieldManager(gvk schema.GroupVersionKind, subresource string) (*managedfields.FieldManager, error) {
	return managedfields.NewDefaultFieldManager(s.types, scheme.Scheme, noDefaults{}, scheme.Scheme, gvk, gvk.GroupVersion(), subresource, nil)
}

type noDefaults struct{}

func (noDefaults) Default(runtime.Object) {}

func (s *Server) nextRV() string {
	s.rv++
	return strconv.FormatInt(s.rv, 10)
}

func conflict(gvr schema.GroupVersionResource, name, why string) error {
	return apierrors.NewConflict(gvr.GroupResource(), name, errors.New(why))
}

func (s *Server) create(gvr schema.GroupVersionResource, ns string, obj runtime.Object, manager string, dryRun bool) (runtime.Object, error) {
	acc, err := meta.Accessor(obj)
	if err != nil {
		return nil, err
	}
	if acc.GetName() == "" && acc.GetGenerateName() != "" {
		acc.SetName(acc.GetGenerateName() + strconv.FormatInt(s.rv+1, 36))
	}
	if acc.GetNamespace() == "" {
		acc.SetNamespace(ns)
	}
	if _, err := s.tracker.Get(gvr, ns, acc.GetName()); err == nil {
		return nil, apierrors.NewAlreadyExists(gvr.GroupResource(), acc.GetName())
	}
	if acc.GetResourceVersion() != "" {
		return nil, apierrors.NewBadRequest("resourceVersion should not be set on objects to be created")
	}
	gvk := obj.GetObjectKind().GroupVersionKind()
	if manager != "" {
		fm, err := s.fieldManager(gvk, "")
		if err != nil {
			return nil, err
		}
		empty, _ := scheme.Scheme.New(gvk)
		empty.GetObjectKind().SetGroupVersionKind(gvk)
		if obj, err = fm.Update(empty, obj, manager); err != nil {
			return nil, err
		}
		acc, _ = meta.Accessor(obj)
	}
	acc.SetUID(types.UID(fmt.Sprintf("uid-%s-%d", acc.GetName(), s.rv+1)))
	acc.SetCreationTimestamp(metav1.NewTime(time.Now().Truncate(time.Second)))
	if hasSpec(obj) {
		acc.SetGeneration(1)
	}
	if dryRun {
		return obj, nil
	}
	acc.SetResourceVersion(s.nextRV())
	if err := s.tracker.Create(gvr, obj, ns); err != nil {
		return nil, err
	}
	return obj.DeepCopyObject(), nil
}

// update writes obj over the stored object: the main resource keeps its
// status, the status subresource changes only the status.
func (s *Server) update(gvr schema.GroupVersionResource, ns string, obj runtime.Object, subresource, manager string, dryRun bool) (runtime.Object, error) {
	acc, err := meta.Accessor(obj)
	if err != nil {
		return nil, err
	}
	cur, err := s.get(gvr, ns, acc.GetName())
	if err != nil {
		return nil, err
	}
	return s.store(gvr, ns, cur, obj, subresource, manager, dryRun, false)
}

// store checks the preconditions obj carries against cur, keeps what a
// write of this kind cannot change, and stores the result.
func (s *Server) store(gvr schema.GroupVersionResource, ns string, cur, obj runtime.Object, subresource, manager string, dryRun, managed bool) (runtime.Object, error) {
	acc, _ := meta.Accessor(obj)
	curAcc, _ := meta.Accessor(cur)
	if rv := acc.GetResourceVersion(); rv != "" && rv != curAcc.GetResourceVersion() {
		return nil, conflict(gvr, acc.GetName(), "the object has been modified; please apply your changes to the latest version and try again")
	}
	if uid := acc.GetUID(); uid != "" && uid != curAcc.GetUID() {
		return nil, conflict(gvr, acc.GetName(), fmt.Sprintf("Precondition failed: UID in precondition: %s, UID in object meta: %s", uid, curAcc.GetUID()))
	}
	next, err := toUnstructured(obj)
	if err != nil {
		return nil, err
	}
	old, err := toUnstructured(cur)
	if err != nil {
		return nil, err
	}
	if subresource == "status" {
		status := next.Object["status"]
		fields := next.GetManagedFields()
		next = old.DeepCopy()
		if status == nil {
			delete(next.Object, "status")
		} else {
			next.Object["status"] = status
		}
		if managed {
			// An apply of the status: the field manager's record of it,
			// as the API server keeps it (who owns the ingress).
			next.SetManagedFields(fields)
		}
	} else if subresource != "" {
		return nil, fmt.Errorf("kubeapi: subresource %s is not supported", subresource)
	} else if st, ok := old.Object["status"]; ok {
		next.Object["status"] = st
	} else {
		delete(next.Object, "status")
	}
	out, err := s.typed(gvr, next)
	if err != nil {
		return nil, err
	}
	if manager != "" && !managed {
		fm, err := s.fieldManager(out.GetObjectKind().GroupVersionKind(), subresource)
		if err != nil {
			return nil, err
		}
		if out, err = fm.Update(cur, out, manager); err != nil {
			return nil, err
		}
	}
	outAcc, _ := meta.Accessor(out)
	outAcc.SetUID(curAcc.GetUID())
	outAcc.SetName(curAcc.GetName())
	outAcc.SetNamespace(curAcc.GetNamespace())
	outAcc.SetCreationTimestamp(curAcc.GetCreationTimestamp())
	outAcc.SetResourceVersion(curAcc.GetResourceVersion())
	outAcc.SetGeneration(curAcc.GetGeneration())
	if apiequality.Semantic.DeepEqual(cur, out) || sameJSON(cur, out) {
		// A no-op: nothing is written, as the API server does (it compares
		// what it would store, so a nil and an empty list are the same).
		return out, nil
	}
	if !reflect.DeepEqual(old.Object["spec"], mustUnstructured(out).Object["spec"]) {
		outAcc.SetGeneration(curAcc.GetGeneration() + 1)
	}
	if dryRun {
		return out, nil
	}
	outAcc.SetResourceVersion(s.nextRV())
	if err := s.tracker.Update(gvr, out, ns); err != nil {
		return nil, err
	}
	return out.DeepCopyObject(), nil
}

// sameJSON reports whether two objects serialise alike.
func sameJSON(a, b runtime.Object) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(x, y)
}

func mustUnstructured(o runtime.Object) *unstructured.Unstructured {
	u, err := toUnstructured(o)
	if err != nil {
		panic(err)
	}
	return u
}

func hasSpec(o runtime.Object) bool {
	u, err := toUnstructured(o)
	if err != nil {
		return false
	}
	_, ok := u.Object["spec"]
	return ok
}

func (s *Server) delete(gvr schema.GroupVersionResource, ns, name string, o metav1.DeleteOptions) error {
	cur, err := s.get(gvr, ns, name)
	if err != nil {
		return err
	}
	acc, _ := meta.Accessor(cur)
	if p := o.Preconditions; p != nil {
		if p.UID != nil && *p.UID != acc.GetUID() {
			return conflict(gvr, name, fmt.Sprintf("Precondition failed: UID in precondition: %s, UID in object meta: %s", *p.UID, acc.GetUID()))
		}
		if p.ResourceVersion != nil && *p.ResourceVersion != acc.GetResourceVersion() {
			return conflict(gvr, name, fmt.Sprintf("Precondition failed: ResourceVersion in precondition: %s, ResourceVersion in object meta: %s", *p.ResourceVersion, acc.GetResourceVersion()))
		}
	}
	if isDryRun(o.DryRun) {
		return nil
	}
	s.nextRV()
	return s.tracker.Delete(gvr, ns, name)
}
