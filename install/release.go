// Package install gets the pinned release of a cluster tool (minikube or
// kind) when it is missing: it downloads the project's official release
// binary (or the same file from a mirror), checks its sha256 against the
// checksum kept in this source, and only then renames it into place, so a
// half-written, truncated or altered file is never run.
//
// The layout of an installation is one executable per tool and version,
// <dir>/<tool>-<version> (dir is $XDG_CACHE_HOME/devcluster/bin); the file
// exists only once it has been verified.
package install

import (
	"fmt"
	"sort"
	"strings"
)

// Release is one pinned release of a tool.
type Release struct {
	// Tool is the executable's name: "minikube" or "kind".
	Tool string
	// Version is the release tag, e.g. "v1.38.1".
	Version string
	// BaseURL is where the project publishes its releases; the binary of a
	// platform is BaseURL/Version/Asset(goos, goarch). A mirror keeps the
	// same layout below its own base URL.
	BaseURL string
	// Docs says how to install the tool by hand.
	Docs string
	// SHA256 is the checksum of each platform's binary, by "goos/goarch".
	SHA256 map[string]string
}

// Asset is the release file of a platform, e.g. "minikube-linux-amd64".
func (r Release) Asset(goos, goarch string) string {
	return r.Tool + "-" + goos + "-" + goarch
}

// FileName is the installed executable's name, e.g. "minikube-v1.38.1".
func (r Release) FileName() string { return r.Tool + "-" + r.Version }

// URL is the download address of a platform's binary below base (the
// release's own BaseURL when base is empty).
func (r Release) URL(base, goos, goarch string) string {
	if base == "" {
		base = r.BaseURL
	}
	return strings.TrimRight(base, "/") + "/" + r.Version + "/" + r.Asset(goos, goarch)
}

// Platforms lists the platforms the release is pinned for, sorted.
func (r Release) Platforms() []string {
	out := make([]string, 0, len(r.SHA256))
	for p := range r.SHA256 {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// The pinned releases. The checksums are the ones the projects publish
// beside each binary (minikube-<os>-<arch>.sha256, kind-<os>-<arch>.sha256sum);
// minikube's are also in its repository's deploy/minikube/releases-v2.json,
// the list its own update check reads. Raising a version means replacing
// every checksum of the release with the published ones.
var (
	Minikube = Release{
		Tool:    "minikube",
		Version: "v1.38.1",
		BaseURL: "https://github.com/kubernetes/minikube/releases/download",
		Docs:    "https://minikube.sigs.k8s.io/docs/start/",
		SHA256: map[string]string{
			"linux/amd64":  "099477eaf248bcb5bcea8ce78a2898e93ac01461c35189da1848c3de82ecd22e",
			"linux/arm64":  "a0b8a1ebfc8c07a247271d8df98ac0ddd7c8c855b601d402463e2e50c08c6bab",
			"darwin/amd64": "db11dffba835609988e4e98c3a91a38653ce66ddfa8ea3aaea92d87c54a0a348",
			"darwin/arm64": "f9b0c70bb7daf38c683c0b6e46dc1b612600247ae826bf74576807746a919ee8",
		},
	}
	Kind = Release{
		Tool:    "kind",
		Version: "v0.33.0",
		BaseURL: "https://github.com/kubernetes-sigs/kind/releases/download",
		Docs:    "https://kind.sigs.k8s.io/docs/user/quick-start/#installation",
		SHA256: map[string]string{
			"linux/amd64":  "aee6151561422756b764a4ae28e7f44cda5af5a9eead3cc9985112b1de8d8e0d",
			"linux/arm64":  "20022bee6cfcd5086cb7234d218e3454e6090022f2a8f55d1fa7fcf42c3867a2",
			"darwin/amd64": "5a99f26f57246dc9319dd294803313197a0f34d33c525b3ea8b655db5916ece0",
			"darwin/arm64": "0c8c7dbe5e23594a198b786c4bc13dacc101fa6196b0cb0b23a1ca44e61f4b4f",
		},
	}
)

// linkedPins adds or replaces checksums at link time, for builds of
// devcluster that pin other binaries of the same versions (a patched build
// kept on an internal mirror, or tests serving a binary built from the same
// source): -ldflags "-X github.com/devcluster/devcluster/install.linkedPins=kind/linux/amd64=<sha256>,…".
// It cannot be set at run time.
var linkedPins string

// Lookup returns the pinned release of a tool.
func Lookup(tool string) (Release, error) {
	var r Release
	switch tool {
	case Minikube.Tool:
		r = Minikube
	case Kind.Tool:
		r = Kind
	default:
		return Release{}, fmt.Errorf("devcluster has no pinned release of %q", tool)
	}
	pins, err := parsePins(linkedPins)
	if err != nil {
		return Release{}, err
	}
	if extra := pins[r.Tool]; len(extra) > 0 {
		sums := make(map[string]string, len(r.SHA256)+len(extra))
		for p, s := range r.SHA256 {
			sums[p] = s
		}
		for p, s := range extra {
			sums[p] = s
		}
		r.SHA256 = sums
	}
	return r, nil
}

// parsePins reads "tool/goos/goarch=sha256,…".
func parsePins(s string) (map[string]map[string]string, error) {
	out := map[string]map[string]string{}
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		key, sum, ok := strings.Cut(item, "=")
		tool, platform, ok2 := strings.Cut(key, "/")
		if !ok || !ok2 || !isSHA256(sum) || strings.Count(platform, "/") != 1 {
			return nil, fmt.Errorf("malformed linked checksum %q: want tool/goos/goarch=<64 hex digits>", item)
		}
		if out[tool] == nil {
			out[tool] = map[string]string{}
		}
		out[tool][platform] = strings.ToLower(sum)
	}
	return out, nil
}

func isSHA256(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, c := range strings.ToLower(s) {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
