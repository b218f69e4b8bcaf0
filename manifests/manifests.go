// Package manifests holds the sample workloads `devcluster up` deploys:
// Kubernetes YAML and the site content built into the sample image. It
// knows nothing about clusters: callers decode and apply what it returns.
package manifests

import (
	"embed"
	"io/fs"
	"sort"
	"strings"
)

//go:embed samples/*.yaml site/* dashboard/*.yaml
var files embed.FS

// SampleWebRepository is the repository the sample image is pushed to.
const SampleWebRepository = "devcluster/sample-web"

// SampleNamespace is the namespace of the samples; it carries the
// app.kubernetes.io/managed-by: devcluster label, so that down removes it
// from a cluster devcluster did not create.
const SampleNamespace = "devcluster-samples"

// SampleImageVariable is replaced by the sample image reference.
const SampleImageVariable = "${SAMPLE_WEB_IMAGE}"

// Sample is one embedded manifest file.
type Sample struct {
	Name string // e.g. "samples/web.yaml"
	YAML []byte
}

// Samples returns the sample manifests with the sample image reference
// filled in, sorted by name.
func Samples(image string) []Sample {
	entries, _ := fs.Glob(files, "samples/*.yaml")
	sort.Strings(entries)
	out := make([]Sample, 0, len(entries))
	for _, e := range entries {
		b, _ := files.ReadFile(e)
		out = append(out, Sample{Name: e, YAML: []byte(strings.ReplaceAll(string(b), SampleImageVariable, image))})
	}
	return out
}

// SiteFiles returns the files of the sample site, keyed by their path in the
// image (/usr/share/nginx/html/...).
func SiteFiles() map[string][]byte {
	out := map[string][]byte{}
	entries, _ := fs.Glob(files, "site/*")
	for _, e := range entries {
		b, _ := files.ReadFile(e)
		out["usr/share/nginx/html/"+strings.TrimPrefix(e, "site/")] = b
	}
	return out
}
