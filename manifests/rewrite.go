package manifests

import "strings"

// ImageRewrite maps the image references the host pushes to a local
// registry under (localhost:<port>/…, and 127.0.0.1:<port>/… for the same
// registry) to the address the cluster's container runtime pulls it from,
// as the cluster's KEP-1755 ConfigMap (kube-public/local-registry-hosting)
// gives them: its host and hostFromContainerRuntime. A node would pull a
// localhost:<port>/ image from its own loopback, where no registry runs.
// `up`'s manifests, `deploy --manifest` and `deploy --image` all use it.
// The zero value changes nothing.
type ImageRewrite struct {
	rules []rewriteRule
}

type rewriteRule struct{ from, to string }

// RegistryRewrite is the rewrite of one registry's references: host as the
// host pushes (localhost:5001) to pull as the cluster's runtime pulls
// (192.168.49.1:5001). Nothing is rewritten when either is empty or they
// are the same.
func RegistryRewrite(host, pull string) ImageRewrite {
	host, pull = strings.TrimSuffix(host, "/"), strings.TrimSuffix(pull, "/")
	if host == "" || pull == "" || host == pull {
		return ImageRewrite{}
	}
	r := ImageRewrite{rules: []rewriteRule{{host + "/", pull + "/"}}}
	if port, ok := strings.CutPrefix(host, "localhost:"); ok {
		r.rules = append(r.rules, rewriteRule{"127.0.0.1:" + port + "/", pull + "/"})
	}
	return r
}

// And is r, then other for the references r leaves.
func (r ImageRewrite) And(other ImageRewrite) ImageRewrite {
	return ImageRewrite{rules: append(append([]rewriteRule(nil), r.rules...), other.rules...)}
}

// Image rewrites one image reference.
func (r ImageRewrite) Image(ref string) string {
	for _, rule := range r.rules {
		if rest, ok := strings.CutPrefix(ref, rule.from); ok {
			return rule.to + rest
		}
	}
	return ref
}

// Covers reports whether r rewrites the references of host.
func (r ImageRewrite) Covers(host string) bool {
	return r.Image(strings.TrimSuffix(host, "/")+"/x") != strings.TrimSuffix(host, "/")+"/x"
}

// String describes the rewrite: "localhost:5001/ → 192.168.49.1:5001/".
func (r ImageRewrite) String() string {
	if len(r.rules) == 0 {
		return "none"
	}
	parts := make([]string, len(r.rules))
	for i, rule := range r.rules {
		parts[i] = rule.from + " → " + rule.to
	}
	return strings.Join(parts, ", ")
}
