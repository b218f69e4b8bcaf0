package image

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/devcluster/devcluster/internal/problem"
	"github.com/devcluster/devcluster/internal/run/runtest"
)

func writeTarball(t *testing.T, path string) v1.Hash {
	t.Helper()
	img, err := random.Image(64, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := tarball.WriteToFile(path, nil, img); err != nil {
		t.Fatal(err)
	}
	d, _ := img.Digest()
	return d
}

// Read takes a path relative to the working directory or the home
// directory, and reads nothing from an engine for a path.
func TestReadPaths(t *testing.T) {
	dir, home := t.TempDir(), t.TempDir()
	want := writeTarball(t, filepath.Join(dir, "app.tar"))
	writeTarball(t, filepath.Join(home, "home.tar"))
	docker := &runtest.Fake{Handler: func([]string) runtest.Reply { return runtest.Reply{ExitCode: 1} }}
	o := ReadOptions{Dir: dir, Home: home, Runner: docker}
	s, cleanup, err := Read(t.Context(), "app.tar", o)
	if err != nil {
		t.Fatal(err)
	}
	cleanup()
	if d, _ := s.Image.Digest(); d != want || s.Desc != "tarball "+filepath.Join(dir, "app.tar") {
		t.Errorf("app.tar: %s %s", d, s.Desc)
	}
	if _, cleanup, err := Read(t.Context(), "~/home.tar", o); err != nil {
		t.Errorf("~/home.tar: %v", err)
	} else {
		cleanup()
	}
	for _, src := range []string{"./missing", "missing.tar.gz", "~/missing.tar"} {
		_, _, err := Read(t.Context(), src, o)
		if problem.KindOf(err) != problem.Usage || !strings.Contains(err.Error(), "no such file or directory") {
			t.Errorf("%s: %v", src, err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "junk"), []byte("not an image"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Read(t.Context(), "junk", o); problem.KindOf(err) != problem.Usage || !errors.Is(err, ErrUnknownSource) {
		t.Errorf("junk: %v", err)
	}
	if calls := docker.Calls(); len(calls) != 0 {
		t.Errorf("ran %q for paths", calls)
	}
}

// An image name is saved from the Docker engine, for the platform asked
// for when the engine can tell platforms apart, and again without the
// flag when it is too old to; the temporary tarball goes with cleanup.
func TestReadFromTheEngine(t *testing.T) {
	dir := t.TempDir()
	amd64 := v1.Platform{OS: "linux", Architecture: "amd64"}
	for _, old := range []bool{false, true} {
		var saved string
		docker := &runtest.Fake{Handler: func(argv []string) runtest.Reply {
			if old && slices.Contains(argv, "--platform") {
				return runtest.Reply{ExitCode: 1, Stderr: "unknown flag: --platform"}
			}
			saved = argv[slices.Index(argv, "-o")+1]
			writeTarball(t, saved)
			return runtest.Reply{}
		}}
		s, cleanup, err := Read(t.Context(), "myapp:dev", ReadOptions{Dir: dir, Platform: &amd64, Runner: docker})
		if err != nil {
			t.Fatalf("old engine %v: %v", old, err)
		}
		if s.Desc != "docker image myapp:dev" {
			t.Errorf("desc %q", s.Desc)
		}
		calls := docker.Calls()
		wantCalls := []string{"docker save --platform linux/amd64 -o " + saved + " myapp:dev"}
		if old {
			wantCalls = append(wantCalls, "docker save -o "+saved+" myapp:dev")
		}
		var got []string
		for _, c := range calls {
			got = append(got, strings.Join(c, " "))
		}
		if !slices.Equal(got, wantCalls) {
			t.Errorf("old engine %v: ran %q, want %q", old, got, wantCalls)
		}
		cleanup()
		if _, err := os.Stat(filepath.Dir(saved)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("the temporary tarball's directory is left: %v", err)
		}
	}
	noDocker := &runtest.Fake{Handler: func([]string) runtest.Reply { return runtest.Reply{NotFound: true} }}
	if _, _, err := Read(t.Context(), "myapp:dev", ReadOptions{Dir: dir, Runner: noDocker}); problem.KindOf(err) != problem.Usage || !strings.Contains(err.Error(), "no docker command") {
		t.Errorf("without docker: %v", err)
	}
	failing := &runtest.Fake{Handler: func([]string) runtest.Reply { return runtest.Reply{ExitCode: 1, Stderr: "No such image: myapp:dev"} }}
	if _, _, err := Read(t.Context(), "myapp:dev", ReadOptions{Dir: dir, Runner: failing}); problem.KindOf(err) != problem.Failed || problem.FixOf(err) != "check the image name with `docker images`" {
		t.Errorf("an image the engine lacks: %v", err)
	}
}

func TestParsePlatform(t *testing.T) {
	if p, err := ParsePlatform("all"); p != nil || err != nil {
		t.Errorf("all: %v %v", p, err)
	}
	if p, err := ParsePlatform(""); err != nil || p.String() != ClusterPlatform().String() {
		t.Errorf("default: %v %v", p, err)
	}
	if p, err := ParsePlatform("linux/arm64/v8"); err != nil || p.Architecture != "arm64" || p.Variant != "v8" {
		t.Errorf("linux/arm64/v8: %v %v", p, err)
	}
	for _, bad := range []string{"linux", "/arm64"} {
		if _, err := ParsePlatform(bad); problem.KindOf(err) != problem.Usage {
			t.Errorf("%q: %v", bad, err)
		}
	}
}
