package config

import (
	"slices"
	"strings"
	"testing"
)

// The registry is what the validator, the templates and the help texts
// name: the default first, each name once, and every entry complete.
func TestProviderRegistry(t *testing.T) {
	if got, want := ProviderNames(), []string{"minikube", "kind", "existing"}; !slices.Equal(got, want) {
		t.Errorf("ProviderNames() = %q, want %q", got, want)
	}
	if ProviderNames()[0] != DefaultProvider {
		t.Errorf("the default provider %q is not named first", DefaultProvider)
	}
	for _, name := range ProviderNames() {
		p, ok := LookupProvider(name)
		if !ok || p.Name != name || p.check == nil || p.template == nil || p.effective == nil {
			t.Errorf("LookupProvider(%q) = %+v, %v: incomplete", name, p, ok)
		}
	}
	if _, ok := LookupProvider("Minikube"); ok {
		t.Error("provider names are case-sensitive, as the schema's enum is")
	}
	for name, want := range map[string]bool{"minikube": false, "kind": false, "existing": true, "k3d": false, "": false} {
		if got := ExternalProvider(name); got != want {
			t.Errorf("ExternalProvider(%q) = %v, want %v", name, got, want)
		}
	}
	if err := unknownProvider("k3d"); !strings.Contains(err.Error(), `unknown provider "k3d"; supported: minikube, kind, existing`) {
		t.Errorf("unknownProvider = %v", err)
	}
}

// An unknown provider is refused by Complete and by Template with the
// registry's list.
func TestUnknownProviderNamesTheRegistry(t *testing.T) {
	src, err := Decode("devcluster.yaml", []byte("apiVersion: "+APIVersion+"\nkind: Cluster\nprovider: k3d\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Complete(src, Overrides{}); err == nil || !strings.Contains(err.Error(), "supported: minikube, kind, existing") {
		t.Errorf("Complete = %v", err)
	}
	if _, err := Template("k3d", "", "", ""); err == nil || !strings.Contains(err.Error(), "supported: minikube, kind, existing") {
		t.Errorf("Template = %v", err)
	}
}
