//go:build e2e

package e2e

import (
	"context"
	"io"
	"log"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/devcluster/devcluster/e2e/harness"
)

// TestContainerdPullsFromLoopbackRegistry proves the node-runtime part of
// the harness: a containerd on a private socket pulls, over plain HTTP, an
// image pushed to a registry on loopback — once with ctr --plain-http and
// once through a certs.d/hosts.toml mirror entry, the way a minikube node's
// CRI does. The registry here is go-containerregistry's in-memory test
// registry; the registry tier runs the same checks against devcluster's own.
func TestContainerdPullsFromLoopbackRegistry(t *testing.T) {
	if err := harness.ContainerdAvailable(); err != nil {
		missing(t, "containerd tier unavailable: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := harness.StartContainerd(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Stop()
	defer func() {
		if t.Failed() {
			t.Logf("containerd log:\n%s", c.Logs(40))
		}
	}()

	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	push := func(repo string) (name.Reference, string) {
		img, err := random.Image(1024, 2)
		if err != nil {
			t.Fatal(err)
		}
		ref, err := name.ParseReference(host+"/"+repo, name.Insecure)
		if err != nil {
			t.Fatal(err)
		}
		if err := remote.Write(ref, img, remote.WithContext(ctx)); err != nil {
			t.Fatal(err)
		}
		d, err := img.Digest()
		if err != nil {
			t.Fatal(err)
		}
		return ref, d.String()
	}
	ref, digest := push("e2e/random:v1")
	_, mirroredDigest := push("e2e/mirrored:v1")

	// 1. Plain HTTP, as `ctr --plain-http` (content only: random layers are
	//    not a runnable filesystem).
	if _, err := c.Ctr(ctx, "content", "fetch", "--plain-http", ref.String()); err != nil {
		t.Fatal(err)
	}
	// 2. Through hosts.toml: the reference names a registry host that only
	//    the certs.d entry maps to the loopback server.
	if err := c.WriteHostsTOML("registry.devcluster.test:5000", srv.URL); err != nil {
		t.Fatal(err)
	}
	mirrored := "registry.devcluster.test:5000/e2e/mirrored:v1"
	if _, err := c.Ctr(ctx, "content", "fetch", "--hosts-dir", c.CertsDir, mirrored); err != nil {
		t.Fatal(err)
	}
	out, err := c.Ctr(ctx, "content", "ls")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{digest, mirroredDigest} {
		if !strings.Contains(out, d) {
			t.Errorf("containerd's content store lacks the image manifest %s:\n%s", d, out)
		}
	}
}
