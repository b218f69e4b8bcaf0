package image

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/devcluster/devcluster/internal/paths"
	"github.com/devcluster/devcluster/internal/problem"
	"github.com/devcluster/devcluster/internal/run"
)

// Source is an image to push: a docker-archive tarball (`docker save`), an
// OCI image layout directory, or an index from such a layout.
type Source struct {
	Image v1.Image
	Index v1.ImageIndex
	// Desc describes where it came from, for messages.
	Desc string
}

// ErrUnknownSource means the path is neither a tarball nor an OCI layout.
var ErrUnknownSource = errors.New("not a docker-archive tarball or an OCI image layout")

// OpenSource opens path as a docker-archive tarball or an OCI layout
// directory. A layout with one image pushes that image; with several, the
// whole index.
func OpenSource(path string) (*Source, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", path, err)
	}
	if fi.IsDir() {
		if _, err := os.Stat(filepath.Join(path, "index.json")); err != nil {
			return nil, fmt.Errorf("%s: %w (no index.json)", path, ErrUnknownSource)
		}
		idx, err := layout.ImageIndexFromPath(path)
		if err != nil {
			return nil, fmt.Errorf("reading OCI layout %s: %w", path, err)
		}
		m, err := idx.IndexManifest()
		if err != nil {
			return nil, fmt.Errorf("reading OCI layout %s: %w", path, err)
		}
		if len(m.Manifests) == 1 && m.Manifests[0].MediaType.IsImage() {
			img, err := idx.Image(m.Manifests[0].Digest)
			if err != nil {
				return nil, fmt.Errorf("reading OCI layout %s: %w", path, err)
			}
			return &Source{Image: img, Desc: "OCI layout " + path}, nil
		}
		if len(m.Manifests) == 1 && m.Manifests[0].MediaType.IsIndex() {
			inner, err := idx.ImageIndex(m.Manifests[0].Digest)
			if err != nil {
				return nil, fmt.Errorf("reading OCI layout %s: %w", path, err)
			}
			return &Source{Index: inner, Desc: "OCI layout " + path}, nil
		}
		return &Source{Index: idx, Desc: "OCI layout " + path}, nil
	}
	img, err := tarball.ImageFromPath(path, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %w (%v)", path, ErrUnknownSource, err)
	}
	return &Source{Image: img, Desc: "tarball " + path}, nil
}

// ClusterPlatform is the platform a local cluster runs: Linux nodes of the
// host's architecture (kind's and minikube's nodes are containers or VMs
// of the host's architecture).
func ClusterPlatform() v1.Platform { return v1.Platform{OS: "linux", Architecture: runtime.GOARCH} }

// ForPlatform narrows the source to what a cluster of platform p pulls:
// of an index, the one image for p (variant and OS version only when p
// names them); an image must be p's, or say no platform. An index with no
// image for p, or an image of another platform, is an error naming what
// the source holds.
func (s *Source) ForPlatform(p v1.Platform) (*Source, error) {
	if s.Index == nil {
		if s.Image == nil {
			return nil, errors.New("empty source")
		}
		cfg, err := s.Image.ConfigFile()
		if err != nil {
			return nil, fmt.Errorf("reading the configuration of %s: %w", s.Desc, err)
		}
		if cfg.OS == "" && cfg.Architecture == "" {
			return s, nil
		}
		have := v1.Platform{OS: cfg.OS, Architecture: cfg.Architecture, Variant: cfg.Variant, OSVersion: cfg.OSVersion}
		if !have.Satisfies(p) {
			return nil, fmt.Errorf("%s is a %s image; the cluster runs %s", s.Desc, have, p)
		}
		return s, nil
	}
	m, err := s.Index.IndexManifest()
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", s.Desc, err)
	}
	var have []string
	for _, d := range m.Manifests {
		if d.Platform == nil || !d.MediaType.IsImage() {
			continue
		}
		if d.Platform.Satisfies(p) {
			img, err := s.Index.Image(d.Digest)
			if err != nil {
				return nil, fmt.Errorf("reading the %s image of %s: %w", p, s.Desc, err)
			}
			return &Source{Image: img, Desc: fmt.Sprintf("%s (%s)", s.Desc, d.Platform)}, nil
		}
		have = append(have, d.Platform.String())
	}
	if len(have) == 0 {
		return nil, fmt.Errorf("%s has no image that names its platform", s.Desc)
	}
	return nil, fmt.Errorf("%s has no %s image (it has %s)", s.Desc, p, strings.Join(have, ", "))
}

// ReadOptions say how Read finds an image source.
type ReadOptions struct {
	// Dir is the working directory: a relative path is in it.
	Dir string
	// Home is the home directory: a path starting with ~/ is in it.
	Home string
	// Platform is the platform `docker save` is asked for (nil: every
	// platform the engine holds).
	Platform *v1.Platform
	// Runner runs docker.
	Runner run.Runner
}

// Read opens src, as `devcluster registry push` takes it: a docker-archive
// tarball or an OCI layout (a path relative to the working directory; ~/ is
// the home directory), or else the name of an image in the local Docker
// engine, saved with `docker save` into a temporary tarball that cleanup
// removes. A source that looks like a path and does not exist is "no such
// file", not an image name.
func Read(ctx context.Context, src string, o ReadOptions) (s *Source, cleanup func(), err error) {
	path := src
	if rest, ok := strings.CutPrefix(src, "~/"); ok && o.Home != "" {
		path = filepath.Join(o.Home, rest)
	}
	if !filepath.IsAbs(path) {
		path = filepath.Join(o.Dir, path)
	}
	const fix = "give a `docker save` tarball or an OCI image layout directory, or the name of an image in the local Docker engine (myapp:dev)"
	switch _, err := os.Stat(path); {
	case err == nil:
		s, err := OpenSource(path)
		if err != nil {
			return nil, func() {}, problem.New(problem.Usage, "", err, "give a `docker save` tarball or an OCI image layout directory")
		}
		return s, func() {}, nil
	case !errors.Is(err, fs.ErrNotExist):
		return nil, func() {}, problem.New(problem.Usage, "", fmt.Errorf("reading %s: %w", src, err), fix)
	case paths.LooksLikePath(src, o.Dir):
		return nil, func() {}, problem.New(problem.Usage, "", fmt.Errorf("%s: no such file or directory", src), fix)
	}
	dir, err := os.MkdirTemp("", "devcluster-push-")
	if err != nil {
		return nil, func() {}, err
	}
	cleanup = func() { _ = os.RemoveAll(dir) }
	tar := filepath.Join(dir, "image.tar")
	if err := dockerSave(ctx, o.Runner, src, tar, o.Platform); err != nil {
		cleanup()
		if run.IsNotFound(err) {
			return nil, func() {}, problem.New(problem.Usage, "", fmt.Errorf("%q is not a file or directory, and there is no docker command to read it from a Docker engine", src),
				"give a `docker save` tarball or an OCI image layout directory")
		}
		return nil, func() {}, problem.New(problem.Failed, fmt.Sprintf("reading %q from the Docker engine", src), err, "check the image name with `docker images`")
	}
	s, err = OpenSource(tar)
	if err != nil {
		cleanup()
		return nil, func() {}, err
	}
	s.Desc = "docker image " + src
	return s, cleanup, nil
}

// dockerSave writes the image src of the local Docker engine to file with
// `docker save`: only the platform's image when the engine can tell
// platforms apart (API 1.48, Docker 28, with the containerd image store,
// which can hold several); an older engine holds one platform per image
// and refuses the flag, so it is asked again without it.
func dockerSave(ctx context.Context, r run.Runner, src, file string, platform *v1.Platform) error {
	args := []string{"save", "-o", file, src}
	if platform != nil {
		_, err := r.Run(ctx, run.Cmd{Name: "docker", Args: []string{"save", "--platform", platform.String(), "-o", file, src}})
		var re *run.Error
		if err == nil || !errors.As(err, &re) || !strings.Contains(string(re.Stderr), "requires API version") && !strings.Contains(string(re.Stderr), "unknown flag: --platform") {
			return err
		}
	}
	_, err := r.Run(ctx, run.Cmd{Name: "docker", Args: args})
	return err
}

// ParsePlatform parses a --platform value: nil for all, the cluster's
// for "".
func ParsePlatform(flag string) (*v1.Platform, error) {
	switch flag {
	case "all":
		return nil, nil
	case "":
		p := ClusterPlatform()
		return &p, nil
	}
	p, err := v1.ParsePlatform(flag)
	if err != nil || p.OS == "" || p.Architecture == "" {
		return nil, problem.New(problem.Usage, "", fmt.Errorf("--platform %q is not OS/ARCH[/VARIANT] or all", flag), "for example: --platform linux/arm64")
	}
	return p, nil
}
