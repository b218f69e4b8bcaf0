package registry

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

func TestSelectPrune(t *testing.T) {
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	ups := []MirrorUpstream{
		{Upstream: "docker.io", Repositories: []MirrorRepo{
			{Repository: "library/old", LastUse: now.Add(-8 * 24 * time.Hour), SizeBytes: 10},
			{Repository: "library/new", LastUse: now.Add(-time.Hour), SizeBytes: 20},
			{Repository: "library/never", SizeBytes: 30},
		}},
		{Upstream: "ghcr.io", Repositories: []MirrorRepo{{Repository: "org/tool", LastUse: now.Add(-48 * time.Hour)}}},
	}
	names := func(rs []PrunedRepo) string {
		var s []string
		for _, r := range rs {
			s = append(s, r.Upstream+"/"+r.Repository)
		}
		return strings.Join(s, " ")
	}
	if got := names(SelectPrune(ups, PruneOptions{OlderThan: 7 * 24 * time.Hour, Now: now})); got != "docker.io/library/old docker.io/library/never" {
		t.Errorf("older than 7d: %s", got)
	}
	if got := names(SelectPrune(ups, PruneOptions{OlderThan: 24 * time.Hour, Now: now})); got != "docker.io/library/old docker.io/library/never ghcr.io/org/tool" {
		t.Errorf("older than 1d: %s", got)
	}
	if got := len(SelectPrune(ups, PruneOptions{All: true, Now: now})); got != 4 {
		t.Errorf("all: %d", got)
	}
	if _, err := PruneMirrors(context.Background(), t.TempDir(), PruneOptions{}); err == nil {
		t.Error("a prune without --all or --older-than ran")
	}
}

func TestMirrorTTLIsDistributionsProxyTTL(t *testing.T) {
	for ttl, want := range map[time.Duration]string{7 * 24 * time.Hour: "ttl: 168h0m0s", 0: "ttl: 0s"} {
		if c := proxyConfig("/s", "https://registry-1.docker.io", ttl, ""); !strings.Contains(c, want) {
			t.Errorf("ttl %v: %s", ttl, c)
		}
	}
}

func TestMirrorListAndPrune(t *testing.T) {
	a, _ := random.Image(2048, 2)
	b, _ := random.Image(4096, 1)
	up := startUpstream(t, a)
	host := strings.TrimPrefix(up.srv.URL, "http://")
	if err := remote.Write(mustRef(t, host+"/library/other:v2"), b); err != nil {
		t.Fatal(err)
	}
	store := t.TempDir()
	s, addr, _ := startMirror(t, store, up.srv.URL)
	for _, ref := range []string{"/library/app:v1", "/library/other:v2"} {
		if _, err := pullAll(t, addr+ref); err != nil {
			t.Fatal(err)
		}
	}
	s.mirrors.release() // writes the usage now
	ups, err := ListMirrors(store)
	if err != nil || len(ups) != 1 || ups[0].Upstream != "docker.io" || len(ups[0].Repositories) != 2 {
		t.Fatalf("ls: %+v %v", ups, err)
	}
	for _, r := range ups[0].Repositories {
		if len(r.Tags) != 1 || r.SizeBytes < 2048 || time.Since(r.LastUse) > time.Minute {
			t.Errorf("ls: %+v", r)
		}
	}
	// library/app was last used ten days ago.
	usage := map[string]any{"repositories": map[string]time.Time{"library/app": time.Now().Add(-240 * time.Hour), "library/other": time.Now()}}
	bs, _ := json.Marshal(usage)
	if err := os.WriteFile(filepath.Join(store, "docker.io", usageFile), bs, 0o600); err != nil {
		t.Fatal(err)
	}
	// The server takes the store again, then is asked to let it go.
	if _, err := pullAll(t, addr+"/library/other:v2"); err != nil {
		t.Fatal(err)
	}
	res, err := PruneMirrors(context.Background(), store, PruneOptions{OlderThan: 7 * 24 * time.Hour, LockWait: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Removed) != 1 || res.Removed[0].Repository != "library/app" || res.BytesAfter >= res.BytesBefore {
		t.Fatalf("prune --older-than 7d: %+v", res)
	}
	// Offline, the one kept is still served, the pruned one is not.
	up.srv.Close()
	if _, err := pullAll(t, addr+"/library/other:v2"); err != nil {
		t.Errorf("the kept repository after the prune: %v", err)
	}
	if _, err := pullAll(t, addr+"/library/app:v1"); err == nil {
		t.Error("the pruned repository is still served")
	}
	res, err = PruneMirrors(context.Background(), store, PruneOptions{All: true, LockWait: 5 * time.Second})
	if err != nil || len(res.Removed) != 1 {
		t.Fatalf("prune --all: %+v %v", res, err)
	}
	if ups, _ := ListMirrors(store); len(ups) != 0 {
		t.Errorf("after prune --all: %+v", ups)
	}
}

// A prune while two clusters' servers pull through the same store all the
// time: it gets the store (asking again when the other server took it
// over), and every pull succeeds — they wait for the prune, then fetch
// again from the upstream.
func TestPruneBesideTwoBusyServers(t *testing.T) {
	img, _ := random.Image(1024, 1)
	up := startUpstream(t, img)
	store := t.TempDir()
	_, h1, _ := startMirror(t, store, up.srv.URL)
	_, h2, _ := startMirror(t, store, up.srv.URL)
	stop := make(chan struct{})
	// Several pullers per server: between a release and the prune's next
	// try there is always a request that would take the store back.
	hosts := []string{h1, h2, h1, h2, h1, h2, h1, h2}
	errs := make(chan error, len(hosts))
	for _, h := range hosts {
		go func(h string) {
			for {
				select {
				case <-stop:
					errs <- nil
					return
				default:
				}
				if _, err := pullAll(t, h+"/library/app:v1"); err != nil {
					errs <- err
					return
				}
			}
		}(h)
	}
	time.Sleep(200 * time.Millisecond)
	for i := 0; i < 3; i++ {
		if _, err := PruneMirrors(context.Background(), store, PruneOptions{All: true, LockWait: 10 * time.Second}); err != nil {
			t.Fatalf("prune %d: %v", i, err)
		}
	}
	close(stop)
	for range hosts {
		if err := <-errs; err != nil {
			t.Errorf("a pull during the prunes: %v", err)
		}
	}
}
