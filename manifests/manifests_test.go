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
