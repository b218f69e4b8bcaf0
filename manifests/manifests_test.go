package manifests

import (
	"strings"
	"testing"
)

func TestSamplesFillTheImage(t *testing.T) {
	s := Samples("localhost:5001/devcluster/sample-web:sha-123")
	if len(s) == 0 {
		t.Fatal("no samples embedded")
	}
	for _, m := range s {
		if strings.Contains(string(m.YAML), SampleImageVariable) {
			t.Errorf("%s still contains %s", m.Name, SampleImageVariable)
		}
	}
	if !strings.Contains(string(s[0].YAML), "image: localhost:5001/devcluster/sample-web:sha-123") {
		t.Errorf("image not substituted:\n%s", s[0].YAML)
	}
	site := SiteFiles()
	if !strings.Contains(string(site["usr/share/nginx/html/index.html"]), "devcluster sample-web") {
		t.Errorf("site files = %v", site)
	}
}

// The samples' namespace is the one down removes, and says devcluster made it.
func TestSampleNamespaceIsMarked(t *testing.T) {
	var doc string
	for _, s := range Samples("img") {
		doc += string(s.YAML) + "\n"
	}
	want := "kind: Namespace\nmetadata:\n  name: " + SampleNamespace + "\n  labels:\n"
	if !strings.Contains(doc, want) || !strings.Contains(doc, "app.kubernetes.io/managed-by: devcluster") {
		t.Errorf("the samples do not create namespace %s with the managed-by label:\n%s", SampleNamespace, doc)
	}
}
