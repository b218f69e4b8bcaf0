// Package image builds container images without a Docker engine, with
// go-containerregistry: it opens a base image (an OCI layout, a docker
// archive or a registry reference) and adds one reproducible layer of files,
// so the same content always makes the same digest.
package image

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"path"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// LoadBase opens a base image: "oci:<dir>" (an OCI image layout, first
// image), "docker-archive:<file>" (docker save), or a registry reference.
// A registry is reached over HTTPS, except loopback and the hosts listed in
// plainHTTP (devcluster's own registry), which are allowed plain HTTP;
// go-containerregistry itself also allows it for private-range addresses.
func LoadBase(ctx context.Context, ref string, plainHTTP ...string) (v1.Image, error) {
	switch {
	case strings.HasPrefix(ref, "oci:"):
		dir := strings.TrimPrefix(ref, "oci:")
		idx, err := layout.ImageIndexFromPath(dir)
		if err != nil {
			return nil, fmt.Errorf("reading OCI layout %s: %w", dir, err)
		}
		m, err := idx.IndexManifest()
		if err != nil {
			return nil, err
		}
		for _, d := range m.Manifests {
			if d.MediaType.IsImage() {
				return idx.Image(d.Digest)
			}
		}
		return nil, fmt.Errorf("OCI layout %s holds no image", dir)
	case strings.HasPrefix(ref, "docker-archive:"):
		return tarball.ImageFromPath(strings.TrimPrefix(ref, "docker-archive:"), nil)
	}
	r, err := name.ParseReference(ref)
	if err != nil {
		return nil, fmt.Errorf("parsing base image %q: %w", ref, err)
	}
	if host := r.Context().RegistryStr(); isLoopbackHost(host) || slices.Contains(plainHTTP, host) {
		if r, err = name.ParseReference(ref, name.Insecure); err != nil {
			return nil, fmt.Errorf("parsing base image %q: %w", ref, err)
		}
	}
	img, err := remote.Image(r, remote.WithContext(ctx), remote.WithTransport(remoteTransport))
	if err != nil {
		return nil, fmt.Errorf("fetching base image %s: %w", ref, err)
	}
	return img, nil
}

// remoteTransport carries base-image pulls (tests observe it).
var remoteTransport http.RoundTripper = remote.DefaultTransport

// isLoopbackHost reports whether a registry host[:port] is on loopback.
func isLoopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// epoch is the fixed modification time of built files: the same content
// always makes the same layer, so an unchanged image has the same digest and
// re-pushing it changes nothing.
var epoch = time.Unix(0, 0).UTC()

// AddFiles returns base plus one layer holding files (path in the image →
// content, mode 0644, parent directories 0755). The layer is reproducible.
func AddFiles(base v1.Image, files map[string][]byte) (v1.Image, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, strings.TrimPrefix(path.Clean("/"+p), "/"))
	}
	sort.Strings(paths)
	dirs := map[string]bool{}
	for _, p := range paths {
		for d := path.Dir(p); d != "." && d != "/" && !dirs[d]; d = path.Dir(d) {
			dirs[d] = true
		}
	}
	for _, d := range slices.Sorted(maps.Keys(dirs)) {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d + "/", Mode: 0o755, ModTime: epoch, Format: tar.FormatPAX}); err != nil {
			return nil, err
		}
	}
	for _, p := range paths {
		data := files[p]
		if data == nil {
			data = files["/"+p]
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: p, Mode: 0o644, Size: int64(len(data)), ModTime: epoch, Format: tar.FormatPAX}); err != nil {
			return nil, err
		}
		if _, err := tw.Write(data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	raw := buf.Bytes()
	// Match the base's manifest format: a Docker schema 2 manifest gets a
	// Docker layer, an OCI manifest an OCI layer.
	layerType := types.OCILayer
	if mt, err := base.MediaType(); err == nil && mt == types.DockerManifestSchema2 {
		layerType = types.DockerLayer
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(raw)), nil },
		tarball.WithMediaType(layerType))
	if err != nil {
		return nil, err
	}
	img, err := mutate.Append(base, mutate.Addendum{Layer: layer, History: v1.History{CreatedBy: "devcluster: add files", Created: v1.Time{Time: epoch}}})
	if err != nil {
		return nil, err
	}
	return mutate.CreatedAt(img, v1.Time{Time: epoch})
}
