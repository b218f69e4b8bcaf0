package kubeapi

import (
	"encoding/json"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
	"k8s.io/client-go/kubernetes/scheme"
	k8stesting "k8s.io/client-go/testing"
	"sigs.k8s.io/yaml"
)

func (s *Server) patch(gvr schema.GroupVersionResource, ns string, a k8stesting.PatchActionImpl) (runtime.Object, error) {
	dryRun := isDryRun(a.PatchOptions.DryRun)
	manager := orUnnamed(a.PatchOptions.FieldManager)
	cur, err := s.get(gvr, ns, a.GetName())
	exists := err == nil
	if err != nil && !apierrors.IsNotFound(err) {
		return nil, err
	}
	if a.GetPatchType() == types.ApplyPatchType {
		return s.apply(gvr, ns, a, cur, exists)
	}
	if !exists {
		return nil, err
	}
	old, err := json.Marshal(cur)
	if err != nil {
		return nil, err
	}
	if a.GetPatchType() != types.StrategicMergePatchType {
		return nil, fmt.Errorf("kubeapi: patch type %s is not supported", a.GetPatchType())
	}
	gvk, err := s.Mapper.KindFor(gvr)
	if err != nil {
		return nil, err
	}
	schemaObj, err := scheme.Scheme.New(gvk)
	if err != nil {
		return nil, err
	}
	patched, err := strategicpatch.StrategicMergePatch(old, a.GetPatch(), schemaObj)
	if err != nil {
		return nil, apierrors.NewBadRequest(err.Error())
	}
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(patched); err != nil {
		return nil, apierrors.NewBadRequest(err.Error())
	}
	obj, err := s.typed(gvr, u)
	if err != nil {
		return nil, err
	}
	// The resourceVersion and UID a patch carries are preconditions; left
	// as they were, they match.
	return s.store(gvr, ns, cur, obj, a.GetSubresource(), manager, dryRun, false)
}

func (s *Server) apply(gvr schema.GroupVersionResource, ns string, a k8stesting.PatchActionImpl, cur runtime.Object, exists bool) (runtime.Object, error) {
	cfg := &unstructured.Unstructured{Object: map[string]any{}}
	if err := yaml.Unmarshal(a.GetPatch(), &cfg.Object); err != nil {
		return nil, apierrors.NewBadRequest(err.Error())
	}
	cfg.SetName(a.GetName())
	gvk, err := s.Mapper.KindFor(gvr)
	if err != nil {
		return nil, err
	}
	fm, err := s.fieldManager(gvk, a.GetSubresource())
	if err != nil {
		return nil, err
	}
	live := cur
	if !exists {
		live, _ = scheme.Scheme.New(gvk)
		live.GetObjectKind().SetGroupVersionKind(gvk)
	} else {
		live = live.DeepCopyObject()
		live.GetObjectKind().SetGroupVersionKind(gvk)
	}
	force := a.PatchOptions.Force != nil && *a.PatchOptions.Force
	out, err := fm.Apply(live, cfg, a.PatchOptions.FieldManager, force)
	if err != nil {
		return nil, err // a conflict with another manager is a 409, as the API server's
	}
	dryRun := isDryRun(a.PatchOptions.DryRun)
	if !exists {
		acc, _ := meta.Accessor(out)
		acc.SetResourceVersion("")
		return s.create(gvr, ns, out, "", dryRun)
	}
	acc, _ := meta.Accessor(out)
	// An apply configuration's resourceVersion and UID are preconditions.
	acc.SetResourceVersion(cfg.GetResourceVersion())
	acc.SetUID(cfg.GetUID())
	return s.store(gvr, ns, cur, out, a.GetSubresource(), a.PatchOptions.FieldManager, dryRun, true)
}
