package registry

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Distribution's proxy serves blobs and manifests by digest from its store
// first, but asks the upstream for every tag, through a client without
// timeouts: an upstream that drops packets or never answers holds each pull
// for minutes before the cached tag is served. So devcluster asks the
// upstream itself first, bounded, and remembers the answer for a while;
// while the upstream is down a tag the store holds is served as its digest.
var (
	probeTimeout = 5 * time.Second
	probeUpFor   = 10 * time.Second
	probeDownFor = 30 * time.Second
	probeClient  = &http.Client{Transport: &http.Transport{Proxy: http.ProxyFromEnvironment, ResponseHeaderTimeout: probeTimeout}}
)

type probe struct {
	up    bool
	until time.Time
}

// prober remembers whether each remote answered lately.
type prober struct {
	mu     sync.Mutex
	byURL  map[string]probe
	flight map[string]chan struct{}
}

func newProber() *prober {
	return &prober{byURL: map[string]probe{}, flight: map[string]chan struct{}{}}
}

// up reports whether remote answers at /v2/ (any HTTP answer, 401
// included), asking it at most once per probeUpFor/probeDownFor.
func (p *prober) up(ctx context.Context, remote string) bool {
	for {
		p.mu.Lock()
		if pr, ok := p.byURL[remote]; ok && time.Now().Before(pr.until) {
			p.mu.Unlock()
			return pr.up
		}
		if c, busy := p.flight[remote]; busy {
			p.mu.Unlock()
			select {
			case <-c:
				continue
			case <-ctx.Done():
				return false
			}
		}
		c := make(chan struct{})
		p.flight[remote] = c
		p.mu.Unlock()

		up := ask(ctx, remote)
		p.mu.Lock()
		keep := probeDownFor
		if up {
			keep = probeUpFor
		}
		p.byURL[remote] = probe{up: up, until: time.Now().Add(keep)}
		delete(p.flight, remote)
		close(c)
		p.mu.Unlock()
		return up
	}
}

func ask(ctx context.Context, remote string) bool {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(remote, "/")+"/v2/", nil)
	if err != nil {
		return false
	}
	resp, err := probeClient.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return true
}

// offlineTag returns r, or — for a manifest request by a tag the store
// holds, while the upstream does not answer — r asking for the tag's digest,
// which Distribution serves from the store without asking the upstream.
func (m *mirrorSet) offlineTag(r *http.Request, upstream string) *http.Request {
	repo := manifestRepo(r.URL.Path)
	if repo == "" {
		return r
	}
	ref := r.URL.Path[strings.LastIndex(r.URL.Path, "/manifests/")+len("/manifests/"):]
	if _, err := v1.NewHash(ref); err == nil {
		return r
	}
	dg := localTag(filepath.Join(m.opts.StoreDir, upstream), repo, ref)
	if dg == "" || m.probes.up(r.Context(), m.byName[upstream].Remote) {
		return r
	}
	r2 := r.Clone(r.Context())
	r2.URL.Path = "/v2/" + repo + "/manifests/" + dg
	r2.URL.RawPath = ""
	return r2
}

// localTag is the digest a tag points to in an upstream's store, or "".
func localTag(dir, repo, tag string) string {
	if strings.Contains(tag, "/") || strings.Contains(tag, "..") || strings.Contains(repo, "..") {
		return ""
	}
	b, err := os.ReadFile(filepath.Join(dir, "docker", "registry", "v2", "repositories", filepath.FromSlash(repo), "_manifests", "tags", tag, "current", "link"))
	if err != nil {
		return ""
	}
	d, err := v1.NewHash(strings.TrimSpace(string(b)))
	if err != nil {
		return ""
	}
	return d.String()
}
