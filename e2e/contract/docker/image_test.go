//go:build contract

package dockercontract

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// nodeImage is the name the node-shaped containers and real kind use: a
// kind node image's name, with the Kubernetes version the stand-in reads
// from the tag and the real image carries in /kind/version.
const nodeImage = "kindest/node:v1.37.2"

// loadNodeImage makes the node image from the debootstrap base (an OCI
// layout) — /kind/version added, `sleep infinity` as its command, since
// nothing privileged can boot systemd here — and loads it into the engine
// as a `docker save` tarball.
func loadNodeImage(ctx context.Context, baseLayout string) error {
	idx, err := layout.ImageIndexFromPath(baseLayout)
	if err != nil {
		return err
	}
	m, err := idx.IndexManifest()
	if err != nil || len(m.Manifests) == 0 {
		return fmt.Errorf("the base layout %s has no image: %v", baseLayout, err)
	}
	base, err := idx.Image(m.Manifests[0].Digest)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, f := range []struct{ name, body string }{{"kind/", ""}, {"kind/version", "v1.37.2\n"}} {
		h := &tar.Header{Name: f.name, Mode: 0o644, Size: int64(len(f.body)), Typeflag: tar.TypeReg, ModTime: time.Unix(0, 0)}
		if f.body == "" {
			h.Mode, h.Typeflag = 0o755, tar.TypeDir
		}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if _, err := tw.Write([]byte(f.body)); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b.Bytes())), nil })
	if err != nil {
		return err
	}
	img, err := mutate.AppendLayers(base, layer)
	if err != nil {
		return err
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return err
	}
	cfg = cfg.DeepCopy()
	cfg.Config.Cmd = []string{"sleep", "infinity"}
	cfg.Config.StopSignal = "SIGKILL"
	if img, err = mutate.ConfigFile(img, cfg); err != nil {
		return err
	}
	tag, err := name.NewTag(nodeImage)
	if err != nil {
		return err
	}
	file := filepath.Join(work, "node-image.tar")
	if err := tarball.WriteToFile(file, tag, img); err != nil {
		return err
	}
	_, err = engine.Docker(ctx, "load", "-i", file)
	return err
}
