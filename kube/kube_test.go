package kube

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	fakediscovery "k8s.io/client-go/discovery/fake"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/devcluster/devcluster/internal/fake/kubeapi"
)

// Clients made of injected fakes apply through them: kinds resolved by the
// typed client's discovery when no mapper is given.
func TestNewClientsAppliesThroughInjectedFakes(t *testing.T) {
	ctx := context.Background()
	api := kubeapi.New(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "apps"}})
	api.Clientset.Discovery().(*fakediscovery.FakeDiscovery).Resources = []*metav1.APIResourceList{
		{GroupVersion: "v1", APIResources: []metav1.APIResource{
			{Name: "namespaces", Kind: "Namespace", Verbs: metav1.Verbs{"get", "patch"}},
			{Name: "configmaps", Kind: "ConfigMap", Namespaced: true, Verbs: metav1.Verbs{"get", "patch"}},
		}},
	}
	c := NewClients(api.Clientset, api.Dynamic, nil, "test")
	if c.Context != "test" || c.Kube != api.Clientset {
		t.Fatalf("clients: %+v", c)
	}
	a, err := c.Applier()
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := c.Applier(); again != a {
		t.Error("a second Applier is another one: the discovery cache is lost")
	}
	objs, err := DecodeManifests("cm.yaml", []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg, namespace: apps}\ndata: {k: v}\n"))
	if err != nil {
		t.Fatal(err)
	}
	applied, err := a.Apply(ctx, objs, ApplyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(applied) != 1 || applied[0].GVR.Resource != "configmaps" || !applied[0].Namespaced {
		t.Errorf("applied: %+v", applied)
	}
	if cm, err := api.Clientset.CoreV1().ConfigMaps("apps").Get(ctx, "cfg", metav1.GetOptions{}); err != nil || cm.Data["k"] != "v" {
		t.Errorf("the ConfigMap in the store: %v, %v", cm, err)
	}

	// A kind the discovery does not list is refused before any write.
	api.Dynamic.ClearActions()
	crd, err := DecodeManifests("w.yaml", []byte("apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w, namespace: apps}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Apply(ctx, crd, ApplyOptions{}); err == nil || !strings.Contains(err.Error(), "w.yaml document 1 (Widget apps/w): unknown kind example.com/v1, Kind=Widget") {
		t.Errorf("applying a kind the cluster does not know: %v", err)
	}
	if n := len(api.Dynamic.Actions()); n != 0 {
		t.Errorf("%d requests for a refused apply", n)
	}
}

// Clients that can build neither a dynamic client nor a mapper say so
// instead of dereferencing a missing REST config.
func TestApplierWithoutAConfigOrFakes(t *testing.T) {
	api := kubeapi.New()
	for name, c := range map[string]*Clients{
		"no dynamic client":       {Kube: fake.NewClientset()},
		"no mapper and no client": {Dynamic: api.Dynamic},
	} {
		if _, err := c.Applier(); err == nil || !strings.Contains(err.Error(), "neither one nor") {
			t.Errorf("%s: %v", name, err)
		}
	}
}
