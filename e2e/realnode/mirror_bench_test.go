//go:build realnode

package realnode

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/random"

	"github.com/devcluster/devcluster/registry"
)

// BenchmarkMirrorPull: the node pulls a 200 MiB image (4 layers of 50 MiB)
// cold (through the mirror, from the hub), warm (from the mirror's store)
// and from devcluster's own registry, each with an empty node, with the
// bytes the hub served. Goals: a warm pull fetches 0 bytes of content from
// the upstream and takes at most 1.1x the pull from devcluster's registry.
func BenchmarkMirrorPull(b *testing.B) {
	h := startHub(b)
	img, err := random.Image(50<<20, 4)
	if err != nil {
		b.Fatal(err)
	}
	h.push(b, "library/bench-big:1", img)
	writeMirrorConfig(b, h)
	if r := devclusterEnv(b, []string{mirrorsOnEnv}, "up", "--no-samples"); r.code != 0 {
		b.Fatalf("up: exit %d", r.code)
	}
	b.Cleanup(func() {
		devclusterEnv(b, nil, "down")
		reviveNode(b)
	})
	if _, err := registry.PushImage(context.Background(), img, "127.0.0.1:"+env.port, "bench/big:1"); err != nil {
		b.Fatal(err)
	}
	h.take()
	const mirrored = "docker.io/library/bench-big:1"
	local := hostIP + ":" + env.port + "/bench/big:1"
	// Every digest of the image, removed from the node's content store
	// before each pull so it fetches the whole image.
	digests := []string{}
	if d, err := img.Digest(); err == nil {
		digests = append(digests, d.String())
	}
	if d, err := img.ConfigName(); err == nil {
		digests = append(digests, d.String())
	}
	layers, _ := img.Layers()
	for _, l := range layers {
		if d, err := l.Digest(); err == nil {
			digests = append(digests, d.String())
		}
	}
	// pull is the node fetching the image (manifest, config, layers) into an
	// empty content store; unpacking is the same work whatever the source.
	pull := func(ref string) time.Duration {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		removeNodeImage(b, ref)
		_, _ = env.node.Ctr(ctx, append([]string{"content", "rm"}, digests...)...)
		start := time.Now()
		if _, err := env.node.Ctr(ctx, "content", "fetch", "--hosts-dir", "/etc/containerd/certs.d", ref); err != nil {
			b.Fatal(err)
		}
		took := time.Since(start)
		if out, err := env.node.Ctr(ctx, "content", "ls", "-q"); err != nil || !strings.Contains(out, digests[len(digests)-1]) {
			b.Fatalf("the node lacks the last layer after the pull: %v", err)
		}
		return took
	}
	var cold, warm, own time.Duration
	var coldBytes, warmBytes int64
	var warmGets int
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if r := devclusterEnv(b, []string{mirrorsOnEnv}, "mirror", "prune", "--all"); r.code != 0 {
			b.Fatalf("mirror prune --all: exit %d", r.code)
		}
		h.take()
		cold += pull(mirrored)
		_, n, _ := h.take()
		coldBytes += n
		warm += pull(mirrored)
		g, n, _ := h.take()
		warmGets, warmBytes = warmGets+g, warmBytes+n
		own += pull(local)
	}
	b.StopTimer()
	removeNodeImage(b, mirrored)
	removeNodeImage(b, local)
	n := float64(b.N)
	b.Logf("cold %.2f s (%.0f MiB from the upstream), warm %.2f s (%d bytes in %d downloads from the upstream), devcluster's registry %.2f s: warm/own %.2f",
		cold.Seconds()/n, float64(coldBytes)/n/(1<<20), warm.Seconds()/n, warmBytes, warmGets, own.Seconds()/n, warm.Seconds()/own.Seconds())
	b.ReportMetric(cold.Seconds()/n, "cold-s/op")
	b.ReportMetric(warm.Seconds()/n, "warm-s/op")
	b.ReportMetric(own.Seconds()/n, "own-registry-s/op")
	b.ReportMetric(float64(coldBytes)/n/(1<<20), "cold-upstream-MiB/op")
	b.ReportMetric(float64(warmBytes)/n, "warm-upstream-B/op")
	b.ReportMetric(warm.Seconds()/own.Seconds(), "warm/own")
	if warmBytes != 0 || warmGets != 0 {
		b.Errorf("a warm pull fetched %d bytes in %d downloads from the upstream; goal 0", warmBytes, warmGets)
	}
	if coldBytes < 200<<20 {
		b.Errorf("a cold pull fetched %d bytes from the upstream, less than the image", coldBytes)
	}
	if r := warm.Seconds() / own.Seconds(); r > 1.1 {
		b.Errorf("a warm pull took %.2fx a pull from devcluster's registry; goal at most 1.1x", r)
	}
}
