package config

import (
	"strings"
	"testing"
)

// dashboard.image is checked with the rest of the file: a registry
// reference the node can pull, never a layout or an archive on this host;
// a misspelt field is named with the one it resembles.
func TestDashboardImage(t *testing.T) {
	t.Parallel()
	head := "apiVersion: devcluster.dev/v1alpha1\nkind: Cluster\n"
	for doc, want := range map[string]string{
		"": "",
		"dashboard:\n  image: localhost:5001/headlamp-standin:e2e\n":                                                                           "",
		"dashboard:\n  image: ghcr.io/headlamp-k8s/headlamp:v0.45.0@sha256:db3f0e0fc58d358d41daa3fe7fc852437552c7ee873c3645470f7b86a8e0db49\n": "",
		"dashboard:\n  image: Not:A:Ref\n":    `line 4: dashboard.image: invalid image reference "Not:A:Ref"`,
		"dashboard:\n  image: oci:./layout\n": `line 4: dashboard.image: invalid image reference "oci:./layout": the cluster pulls it`,
		"dashboard:\n  image: [a, b]\n":       `line 4: dashboard.image: expected a string, got a list`,
		"dashboard:\n  imgae: headlamp:dev\n": `line 4: dashboard.imgae: unknown field; did you mean image?`,
		"dashbaord:\n  image: headlamp:dev\n": `line 3: dashbaord: unknown field; did you mean dashboard?`,
	} {
		src, err := Decode("d.yaml", []byte(head+doc))
		var c *Config
		if src != nil {
			c, err = Complete(src, Overrides{BaseDir: t.TempDir()})
		}
		switch {
		case want == "" && err != nil:
			t.Errorf("%q: %v", doc, err)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
			t.Errorf("%q: %v, want %q", doc, err, want)
		case want == "" && doc != "" && c.Dashboard.Image != strings.TrimSpace(strings.TrimPrefix(doc, "dashboard:\n  image: ")):
			t.Errorf("%q: image %q", doc, c.Dashboard.Image)
		case doc == "" && c.Dashboard.Image != "":
			t.Errorf("default image %q, want \"\" (the pinned Headlamp)", c.Dashboard.Image)
		}
	}
}
