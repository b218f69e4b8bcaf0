// Package registry is devcluster's local container registry.
//
// The server side embeds CNCF Distribution (the registry behind Docker
// Hub's open-source image, conformant to the OCI distribution spec) with
// filesystem storage, so pushed images survive restarts and no Docker
// engine is needed. devcluster adds one policy on top: writes (POST, PUT,
// PATCH, DELETE) are accepted only from loopback, so the address the
// cluster pulls from is read-only. The client side (push, list) uses
// go-containerregistry.
package registry

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/distribution/distribution/v3/configuration"
	"github.com/distribution/distribution/v3/registry/handlers"
	_ "github.com/distribution/distribution/v3/registry/storage/driver/filesystem" // storage driver "filesystem"
	"github.com/sirupsen/logrus"

	"github.com/devcluster/devcluster/internal/lockfile"
)

// HealthPath answers GET with the server's identity (see Health).
const HealthPath = "/devcluster/v1/health"

// Options configure a Server.
type Options struct {
	// DataDir holds the registry's storage; created 0700 if missing. Empty
	// means no registry: only the health endpoint is served (an agent that
	// runs just the LoadBalancer controller).
	DataDir string
	// Listen are host:port addresses to serve on (e.g. 127.0.0.1:5001 and
	// the cluster-facing 192.168.49.1:5001). Port 0 picks a free port.
	Listen []string
	// Log receives Distribution's log lines; nil discards them.
	Log io.Writer
	// Verbose logs every request.
	Verbose bool
	// Identity is extra information served on the health endpoint (the
	// agent puts its cluster name and version there).
	Identity map[string]string
	// Holder describes this server in the data directory's lock file, for
	// the message a second process gets ("devcluster registry serve").
	Holder string
	// LockWait is how long New waits for a garbage collection that holds
	// the data directory to end (0: refuse at once). Beside any other
	// holder, which does not let go by itself (a `registry serve`), it
	// refuses at once.
	LockWait time.Duration
	// Mirrors, when set, are pull-through mirrors served beside the
	// registry (needs DataDir): a pull with ?ns=<upstream> (containerd's
	// mirror requests) goes to that upstream's mirror.
	Mirrors *MirrorOptions
}

// Health is what HealthPath returns.
type Health struct {
	Status    string            `json:"status"`
	PID       int               `json:"pid"`
	DataDir   string            `json:"dataDir"`
	Listen    []string          `json:"listen"`
	StartedAt time.Time         `json:"startedAt"`
	Identity  map[string]string `json:"identity,omitempty"`
}

// Server is a running registry.
type Server struct {
	opts      Options
	app       *handlers.App
	handler   http.Handler
	listeners []net.Listener
	started   time.Time
	mu        sync.Mutex
	servers   []*http.Server
	lock      *lockfile.Lock
	mirrors   *mirrorSet
}

// logMu guards logrus' global configuration (Distribution logs through it).
var logMu sync.Mutex

// New prepares the storage directory (created 0700 and marked as
// devcluster's when it is new), takes its exclusive lock, builds Distribution
// from its YAML configuration (configuration.Parse, as the registry binary
// does) and binds every listen address. It serves nothing until Serve; Close
// (or the end of Serve) releases the lock and the listeners.
//
// A second server, or a garbage collection, on the same directory is refused
// with ErrLocked, naming the holder; a taken port names the process holding it where this
// host lets devcluster see it.
func New(ctx context.Context, o Options) (*Server, error) {
	if len(o.Listen) == 0 {
		return nil, errors.New("registry: no listen address")
	}
	s := &Server{opts: o, started: time.Now()}
	ok := false
	defer func() {
		if !ok {
			s.Close()
		}
	}()
	if o.DataDir != "" {
		if err := PrepareDataDir(o.DataDir); err != nil {
			return nil, err
		}
		what := o.Holder
		if what == "" {
			what = "a devcluster registry"
		}
		lock, err := lockDir(ctx, o.DataDir, what, o.LockWait, func(_ int, holder string) bool { return holder == gcHolder })
		if err != nil {
			return nil, err
		}
		s.lock = lock
	}
	for _, addr := range o.Listen {
		l, err := listen(addr)
		if err != nil {
			return nil, err
		}
		s.listeners = append(s.listeners, l)
	}
	mux := http.NewServeMux()
	mux.HandleFunc(HealthPath, s.health)
	s.handler = mux
	if o.DataDir == "" {
		ok = true
		return s, nil
	}
	// Distribution's tracing would otherwise try to export to localhost:4318.
	if _, set := os.LookupEnv("OTEL_TRACES_EXPORTER"); !set {
		_ = os.Setenv("OTEL_TRACES_EXPORTER", "none")
	}
	secret, err := httpSecret(o.DataDir)
	if err != nil {
		return nil, err
	}
	cfg, err := configuration.Parse(strings.NewReader(distributionConfig(o.DataDir, secret, o.Verbose)))
	if err != nil {
		return nil, fmt.Errorf("building the registry configuration: %w", err)
	}
	setLogging(o.Log, o.Verbose)
	app, err := newApp(ctx, cfg)
	if err != nil {
		return nil, err
	}
	s.app = app
	local := loopbackWritesOnly(s.app)
	if o.Mirrors != nil && len(o.Mirrors.Mirrors) > 0 {
		if s.mirrors, err = newMirrorSet(*o.Mirrors, s.loopbackAddr(), s.holderName()); err != nil {
			return nil, err
		}
		mux.HandleFunc(MirrorReleasePath, s.handleRelease)
	}
	mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case s.mirrors.upstreamOf(r) != "":
			s.mirrors.ServeHTTP(w, r)
		case !s.servesName(r):
			notMirrored(w, r.URL.Query().Get(MirrorQuery))
		default:
			local.ServeHTTP(w, r)
		}
	}))
	ok = true
	return s, nil
}

// newApp builds Distribution's application, which panics on configuration
// problems.
func newApp(ctx context.Context, cfg *configuration.Configuration) (app *handlers.App, err error) {
	defer func() {
		if r := recover(); r != nil {
			app, err = nil, fmt.Errorf("starting the registry: %v", r)
		}
	}()
	return handlers.NewApp(ctx, cfg), nil
}

// setLogging points Distribution's logger (logrus) at w.
func setLogging(w io.Writer, verbose bool) {
	logMu.Lock()
	defer logMu.Unlock()
	logrus.SetOutput(orDiscard(w))
	logrus.SetFormatter(existenceChecksAreDebug{&logrus.TextFormatter{}})
	if verbose {
		logrus.SetLevel(logrus.InfoLevel)
	} else {
		logrus.SetLevel(logrus.WarnLevel)
	}
}

// existenceChecksAreDebug is logrus' text format, except for the 404
// answers to HEAD requests: a push asks that way whether the registry has
// each blob and the manifest, and a 404 tells it what to upload. Distribution
// logs every one as level=error "response completed with error"; here it is
// a debug line (not shown at devcluster's levels). A 404 to a GET, a pull of
// something missing, stays an error.
type existenceChecksAreDebug struct{ logrus.Formatter }

func (f existenceChecksAreDebug) Format(e *logrus.Entry) ([]byte, error) {
	if e.Level < logrus.DebugLevel && e.Data["http.request.method"] == http.MethodHead && fmt.Sprint(e.Data["http.response.status"]) == "404" {
		if !e.Logger.IsLevelEnabled(logrus.DebugLevel) {
			return nil, nil
		}
		e.Level = logrus.DebugLevel
	}
	return f.Formatter.Format(e)
}

// Close releases the listeners and the data directory's lock; Serve does
// it by itself when it returns. It is safe to call more than once and from
// several goroutines (a signal handler and the end of Serve).
func (s *Server) Close() {
	s.closeListeners()
	s.mirrors.release()
	s.mu.Lock()
	l := s.lock
	s.lock = nil
	s.mu.Unlock()
	if l != nil {
		_ = l.Close()
	}
}

func orDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}

// distributionConfig is the registry's configuration file.
func distributionConfig(dataDir, secret string, verbose bool) string {
	level := "warn"
	if verbose {
		level = "info"
	}
	return fmt.Sprintf(`version: 0.1
log:
  level: %s
  formatter: text
  accesslog:
    disabled: %t
storage:
  filesystem:
    rootdirectory: %q
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: true
      age: 24h
      interval: 1h
      dryrun: false
http:
  addr: 127.0.0.1:0
  secret: %q
  headers:
    X-Content-Type-Options: [nosniff]
validation:
  manifests:
    urls:
      allow:
        - ^https?://
`, level, !verbose, dataDir, secret)
}

// httpSecret returns the secret that signs upload state, kept in the data
// directory so resumable uploads survive a restart.
func httpSecret(dataDir string) (string, error) {
	p := filepath.Join(dataDir, secretFile)
	if b, err := os.ReadFile(p); err == nil && len(b) >= 32 {
		return strings.TrimSpace(string(b)), nil
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	secret := hex.EncodeToString(b)
	if err := os.WriteFile(p, []byte(secret), 0o600); err != nil {
		return "", fmt.Errorf("writing the registry secret: %w", err)
	}
	return secret, nil
}

// servesName reports whether a request is for the local registry: it names
// no registry (ns, which containerd adds when it asks a mirror), or one
// with the local registry's port (localhost:5001, the cluster address). A
// request for another registry (a hosts.toml left from a mirror since
// turned off, or one this server does not mirror) must not be answered
// from what was pushed here under the same repository name.
func (s *Server) servesName(r *http.Request) bool {
	ns := r.URL.Query().Get(MirrorQuery)
	if ns == "" {
		return true
	}
	_, port, err := net.SplitHostPort(ns)
	if err != nil {
		return false
	}
	for _, a := range s.Addrs() {
		if _, p, err := net.SplitHostPort(a); err == nil && p == port {
			return true
		}
	}
	return false
}

// notMirrored answers a request for a registry this server does not
// mirror as the registry API does for an unknown name, so containerd goes
// on to the registry itself.
func notMirrored(w http.ResponseWriter, ns string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusNotFound)
	b, _ := json.Marshal(map[string]any{"errors": []map[string]string{{"code": "NAME_UNKNOWN",
		"message": "devcluster does not mirror " + ns + "; pull from it directly"}}})
	_, _ = w.Write(b)
}

// loopbackAddr is the first bound loopback address ("" when none).
func (s *Server) loopbackAddr() string {
	for _, a := range s.Addrs() {
		if h, _, err := net.SplitHostPort(a); err == nil && net.ParseIP(h) != nil && net.ParseIP(h).IsLoopback() {
			return a
		}
	}
	return ""
}

func (s *Server) holderName() string {
	if s.opts.Holder != "" {
		return s.opts.Holder
	}
	return "a devcluster registry"
}

// Addrs returns the bound addresses (with the real port when 0 was asked).
func (s *Server) Addrs() []string {
	out := make([]string, len(s.listeners))
	for i, l := range s.listeners {
		out[i] = l.Addr().String()
	}
	return out
}

// Handler returns the HTTP handler (registry API, write policy, health).
func (s *Server) Handler() http.Handler { return s.handler }

// Serve serves on every listener until ctx is done, then shuts down
// gracefully: in-flight requests get up to 10 s to finish.
func (s *Server) Serve(ctx context.Context) error {
	errs := make(chan error, len(s.listeners))
	s.mu.Lock()
	for _, l := range s.listeners {
		srv := &http.Server{Handler: s.handler, ReadHeaderTimeout: readHeaderTimeout, IdleTimeout: idleTimeout}
		s.servers = append(s.servers, srv)
		go func(l net.Listener) {
			if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errs <- err
			}
		}(l)
	}
	s.mu.Unlock()
	var err error
	select {
	case <-ctx.Done():
	case err = <-errs:
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s.mu.Lock()
	for _, srv := range s.servers {
		_ = srv.Shutdown(shutdownCtx)
	}
	s.mu.Unlock()
	if s.app != nil {
		_ = s.app.Shutdown()
	}
	s.Close()
	return err
}

// Connection timeouts: a client gets readHeaderTimeout to send its request
// headers, and an idle keep-alive connection is closed after idleTimeout.
// Bodies (layer uploads) have no deadline: a large push may take long.
var (
	readHeaderTimeout = 30 * time.Second
	idleTimeout       = 90 * time.Second
)

func (s *Server) closeListeners() {
	for _, l := range s.listeners {
		_ = l.Close()
	}
}

func (s *Server) health(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(Health{Status: "ok", PID: os.Getpid(), DataDir: s.opts.DataDir,
		Listen: s.Addrs(), StartedAt: s.started, Identity: s.opts.Identity})
}

// loopbackWritesOnly refuses writes from anything but loopback with the
// distribution spec's DENIED error: the cluster-facing address serves pulls
// only.
func loopbackWritesOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			next.ServeHTTP(w, r)
			return
		}
		if !fromLoopback(r) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusForbidden)
			_, _ = io.WriteString(w, `{"errors":[{"code":"DENIED","message":"requested access to the resource is denied","detail":"the devcluster registry accepts pushes and deletes only from this host (127.0.0.1); its cluster-facing address is read-only"}]}`+"\n")
			return
		}
		next.ServeHTTP(w, r)
	})
}

func fromLoopback(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
