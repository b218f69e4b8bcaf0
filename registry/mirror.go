package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/distribution/distribution/v3/configuration"
	"github.com/distribution/distribution/v3/registry/handlers"

	"github.com/devcluster/devcluster/internal/lockfile"
	"github.com/devcluster/devcluster/internal/proc"
)

// Mirror is one pull-through mirror: pulls of Upstream (a registry name as
// images are named, docker.io) are fetched from Remote (its endpoint URL,
// https://registry-1.docker.io) and kept in the mirror store.
type Mirror struct {
	Upstream string `json:"upstream"`
	Remote   string `json:"remote"`
}

// MirrorOptions configure the mirrors a Server serves beside its registry.
type MirrorOptions struct {
	// StoreDir is the per-user store ($XDG_CACHE_HOME/devcluster/mirrors);
	// each upstream keeps Distribution's storage in StoreDir/<upstream>.
	StoreDir string
	Mirrors  []Mirror
	// TTL is Distribution's proxy.ttl: how long a fetched blob or manifest
	// is kept (0: for ever).
	TTL time.Duration
	// CredentialHelper is an executable speaking Docker's credential
	// helper protocol (`get`, the host on stdin), which Distribution runs
	// when an upstream asks for credentials; empty: anonymous.
	CredentialHelper string
	// StoreWait bounds the wait for a `mirror prune` that holds the store.
	StoreWait time.Duration
}

// MirrorQuery is the query parameter containerd adds to a request it sends
// to a mirror: the registry name the image belongs to.
const MirrorQuery = "ns"

// MirrorReleasePath asks (POST, from loopback) the process that serves the
// mirror store to let go of it; it takes it again on the next pull.
const MirrorReleasePath = "/devcluster/v1/mirrors/release"

// Files of the store: the lock every writer holds, and who holds it with
// the loopback address it serves on, for the other processes to forward to.
const (
	storeHolderFile = ".holder.json"
	usageFile       = ".devcluster-usage.json"
	// pruneIntentFile says a prune waits for the store (its PID inside):
	// a server that let go of the store does not take it again meanwhile,
	// or busy servers would hand it to each other and starve the prune.
	pruneIntentFile = ".prune-pending"
)

// pruneIntentTTL bounds how long an intent keeps servers away from the
// store even when its process lives on (a prune stuck elsewhere).
const pruneIntentTTL = 2 * time.Minute

// prunePending reports whether a live prune waits for the store.
func prunePending(storeDir string) bool {
	p := filepath.Join(storeDir, pruneIntentFile)
	st, err := os.Stat(p)
	if err != nil || time.Since(st.ModTime()) > pruneIntentTTL {
		return false
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	return err == nil && pid > 0 && proc.Exists(pid)
}

// StoreHolder is what the process serving the store writes beside its lock.
type StoreHolder struct {
	PID  int    `json:"pid"`
	Addr string `json:"addr,omitempty"`
	What string `json:"what"`
}

// mirrorSet serves the mirrors of one Server. At most one process writes
// the store: the one that holds its lock. The others forward their mirror
// requests to it over loopback, and take the lock when it is gone.
type mirrorSet struct {
	opts     MirrorOptions
	byName   map[string]Mirror
	self     string
	holder   string
	serving  sync.RWMutex // held (read) by every local request; release takes it
	mu       sync.Mutex
	lock     *lockfile.Lock
	apps     map[string]*handlers.App
	usage    map[string]*usageLog
	lastSave time.Time
	probes   *prober
}

func newMirrorSet(o MirrorOptions, self, holder string) (*mirrorSet, error) {
	m := &mirrorSet{opts: o, byName: map[string]Mirror{}, self: self, holder: holder}
	for _, mi := range o.Mirrors {
		u, err := url.Parse(mi.Remote)
		if err != nil || mi.Upstream == "" || u.Host == "" {
			return nil, fmt.Errorf("mirror %q: invalid remote %q", mi.Upstream, mi.Remote)
		}
		m.byName[mi.Upstream] = mi
	}
	m.probes = newProber()
	if err := os.MkdirAll(o.StoreDir, 0o700); err != nil {
		return nil, fmt.Errorf("creating the mirror store: %w", err)
	}
	return m, nil
}

// upstreamOf is the mirrored upstream a request names with ?ns=, or "".
func (m *mirrorSet) upstreamOf(r *http.Request) string {
	if m == nil || !strings.HasPrefix(r.URL.Path, "/v2/") {
		return ""
	}
	ns := r.URL.Query().Get(MirrorQuery)
	if _, ok := m.byName[ns]; ok {
		return ns
	}
	return ""
}

type forwardedKey struct{}

// errPrunePending: the store is free but a prune is about to take it.
var errPrunePending = errors.New("a mirror prune waits for the store")

func (m *mirrorSet) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		denyWrite(w, "a mirror of "+m.upstreamOf(r)+" is read-only")
		return
	}
	up := m.upstreamOf(r)
	for attempt := 0; ; attempt++ {
		m.serving.RLock()
		app, fwd, err := m.backend(r.Context())
		if err != nil {
			m.serving.RUnlock()
			http.Error(w, "the mirror store is busy: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		if app == nil {
			m.serving.RUnlock()
			// Another process serves the store: forward. When it is gone
			// meanwhile, take the store and serve it here (once).
			if r.Context().Value(forwardedKey{}) != nil {
				http.Error(w, "the mirror store is served by another process", http.StatusServiceUnavailable)
				return
			}
			failed := false
			rp := &httputil.ReverseProxy{
				Rewrite: func(pr *httputil.ProxyRequest) {
					pr.SetURL(&url.URL{Scheme: "http", Host: fwd})
					pr.Out.Host = fwd
				},
				ErrorHandler: func(http.ResponseWriter, *http.Request, error) { failed = true },
			}
			rp.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), forwardedKey{}, true)))
			if failed && attempt == 0 {
				continue
			}
			if failed {
				http.Error(w, "the mirror store's server does not answer", http.StatusBadGateway)
			}
			return
		}
		rec := &statusRecorder{ResponseWriter: w}
		app[up].ServeHTTP(rec, m.offlineTag(r, up))
		m.serving.RUnlock()
		if rec.status/100 == 2 {
			m.used(up, r.URL.Path)
		}
		return
	}
}

// backend returns the apps when this process holds the store (taking it
// when it is free), or the address of the process that holds it.
func (m *mirrorSet) backend(ctx context.Context) (map[string]*handlers.App, string, error) {
	deadline := time.Now().Add(m.opts.StoreWait)
	for {
		m.mu.Lock()
		if m.lock != nil {
			apps := m.apps
			m.mu.Unlock()
			return apps, "", nil
		}
		var err error
		if prunePending(m.opts.StoreDir) {
			err = errPrunePending
		} else {
			err = m.open(ctx)
		}
		apps := m.apps
		m.mu.Unlock()
		if err == nil {
			return apps, "", nil
		}
		var le *lockfile.LockedError
		switch {
		case errors.Is(err, errPrunePending):
			le = &lockfile.LockedError{Holder: "a waiting mirror prune"}
		case !errors.As(err, &le):
			return nil, "", err
		default:
			if h, herr := ReadStoreHolder(m.opts.StoreDir); herr == nil && h.PID == le.PID && h.Addr != "" && h.Addr != m.self {
				return nil, h.Addr, nil
			}
		}
		// A prune holds it, or its holder has not said where it serves yet.
		if !time.Now().Before(deadline) {
			return nil, "", fmt.Errorf("held by %s", le.Holder)
		}
		select {
		case <-ctx.Done():
			return nil, "", ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// open takes the store's lock (at once or not at all) and builds one
// Distribution proxy per upstream. Called with m.mu held.
func (m *mirrorSet) open(ctx context.Context) error {
	lock, err := lockfile.Acquire(ctx, filepath.Join(m.opts.StoreDir, LockFile), m.holder, 0)
	if err != nil {
		return err
	}
	apps := map[string]*handlers.App{}
	usage := map[string]*usageLog{}
	fail := func(err error) error {
		for _, a := range apps {
			_ = a.Shutdown()
		}
		_ = lock.Close()
		return err
	}
	for name, mi := range m.byName {
		dir := filepath.Join(m.opts.StoreDir, name)
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fail(err)
		}
		cfg, err := configuration.Parse(strings.NewReader(proxyConfig(dir, mi.Remote, m.opts.TTL, m.opts.CredentialHelper)))
		if err != nil {
			return fail(fmt.Errorf("mirror of %s: %w", name, err))
		}
		app, err := newApp(ctx, cfg)
		if err != nil {
			return fail(fmt.Errorf("mirror of %s: %w", name, err))
		}
		apps[name] = app
		usage[name] = readUsage(dir)
	}
	b, _ := json.Marshal(StoreHolder{PID: os.Getpid(), Addr: m.self, What: m.holder})
	if err := writeFileAtomic(filepath.Join(m.opts.StoreDir, storeHolderFile), b); err != nil {
		return fail(err)
	}
	m.lock, m.apps, m.usage = lock, apps, usage
	return nil
}

// release lets go of the store after the requests being served end; the
// next mirror request takes it again.
func (m *mirrorSet) release() {
	if m == nil {
		return
	}
	m.serving.Lock()
	defer m.serving.Unlock()
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.lock == nil {
		return
	}
	m.saveUsage(true)
	for _, a := range m.apps {
		_ = a.Shutdown()
	}
	if h, err := ReadStoreHolder(m.opts.StoreDir); err == nil && h.PID == os.Getpid() {
		_ = os.Remove(filepath.Join(m.opts.StoreDir, storeHolderFile))
	}
	_ = m.lock.Close()
	m.lock, m.apps, m.usage = nil, nil, nil
}

// ReadStoreHolder reads who serves the mirror store (it may be stale: only
// the lock says whether it still holds it).
func ReadStoreHolder(storeDir string) (*StoreHolder, error) {
	b, err := os.ReadFile(filepath.Join(storeDir, storeHolderFile))
	if err != nil {
		return nil, err
	}
	var h StoreHolder
	return &h, json.Unmarshal(b, &h)
}

// proxyConfig is Distribution's configuration of one upstream's proxy.
// Credentials come through the exec helper, never the file: Distribution's
// username/password mode also asks the upstream for its token realm when it
// starts, which an offline start cannot answer.
func proxyConfig(dir, remote string, ttl time.Duration, helper string) string {
	exec := ""
	if helper != "" {
		exec = fmt.Sprintf("\n  exec:\n    command: %q\n    lifetime: 5m", helper)
	} else {
		// Without a helper: one that has no credentials for anyone.
		exec = "\n  exec:\n    command: \"/bin/false\""
	}
	return fmt.Sprintf(`version: 0.1
log:
  level: warn
  formatter: text
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: %q
  delete:
    enabled: true
http:
  addr: 127.0.0.1:0
  headers:
    X-Content-Type-Options: [nosniff]
proxy:
  remoteurl: %q
  ttl: %s%s
`, dir, remote, ttl, exec)
}

func denyWrite(w http.ResponseWriter, detail string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusForbidden)
	b, _ := json.Marshal(detail)
	_, _ = fmt.Fprintf(w, `{"errors":[{"code":"DENIED","message":"requested access to the resource is denied","detail":%s}]}`+"\n", b)
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// ReadFrom keeps the server's own ReadFrom (sendfile from the blob's file)
// for the blobs Distribution copies out of the store.
func (s *statusRecorder) ReadFrom(r io.Reader) (int64, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	if rf, ok := s.ResponseWriter.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	return io.Copy(struct{ io.Writer }{s.ResponseWriter}, r)
}

// handleRelease is MirrorReleasePath.
func (s *Server) handleRelease(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || !fromLoopback(r) {
		http.Error(w, "POST from this host only", http.StatusForbidden)
		return
	}
	s.mirrors.release()
	w.WriteHeader(http.StatusNoContent)
}

// AskRelease asks the process serving the store at storeDir, if any, to
// let go of it (a `mirror prune` before it takes the lock).
func AskRelease(ctx context.Context, storeDir string) {
	h, err := ReadStoreHolder(storeDir)
	if err != nil || h.Addr == "" {
		return
	}
	if _, _, err := net.SplitHostPort(h.Addr); err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+h.Addr+MirrorReleasePath, nil)
	if err != nil {
		return
	}
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
	}
}

func writeFileAtomic(p string, b []byte) error {
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, p)
}
