package install

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"golang.org/x/net/http/httpproxy"

	"github.com/devcluster/devcluster/internal/problem"
	"github.com/devcluster/devcluster/internal/run"
	"github.com/devcluster/devcluster/internal/text"
)

// Defaults of an Installer.
const (
	// DefaultStallTimeout aborts an attempt that receives nothing for this
	// long.
	DefaultStallTimeout = 60 * time.Second
	// DefaultTimeout bounds a whole installation, retries included.
	DefaultTimeout = 20 * time.Minute
	// DefaultAttempts is how often a download that broke off is tried.
	DefaultAttempts = 3
	// MaxSize refuses a download larger than any release binary (minikube's
	// are about 140 MB).
	MaxSize = 512 << 20
	// staleParts is the age after which a partial download left by a killed
	// process is removed.
	staleParts = 24 * time.Hour
)

// Progress is the state of a running download.
type Progress struct {
	// Attempt counts from 1.
	Attempt int
	// Done and Total are bytes; Total is -1 while unknown.
	Done, Total int64
	// Elapsed is the time since the attempt began.
	Elapsed time.Duration
	// Final is true for the last report of an attempt that completed.
	Final bool
}

// Installer downloads and installs pinned releases.
type Installer struct {
	// Dir holds the installed executables.
	Dir string
	// GOOS and GOARCH select the binary; empty means this host's.
	GOOS, GOARCH string
	// Getenv reads the proxy variables (HTTPS_PROXY, HTTP_PROXY,
	// NO_PROXY and their lower-case forms); nil means no proxy. A client
	// set in Client ignores it.
	Getenv func(string) (string, bool)
	// Client overrides the HTTP client.
	Client *http.Client
	// OnProgress receives progress, at most every ProgressEvery.
	OnProgress func(Progress)
	// ProgressEvery throttles OnProgress; default 200ms.
	ProgressEvery time.Duration
	// StallTimeout, Timeout and Attempts default to the constants above.
	StallTimeout, Timeout time.Duration
	Attempts              int
	// Backoff is the wait before attempt n+1 (n ≥ 1); default n seconds.
	Backoff func(n int) time.Duration
	// OnRetry is told why attempt n failed before attempt n+1 begins.
	OnRetry func(n, attempts int, err error)
}

func (i *Installer) platform() (string, string) {
	goos, goarch := i.GOOS, i.GOARCH
	if goos == "" {
		goos = runtime.GOOS
	}
	if goarch == "" {
		goarch = runtime.GOARCH
	}
	return goos, goarch
}

// Path is where the release's executable is (or would be) installed.
func (i *Installer) Path(r Release) string { return filepath.Join(i.Dir, r.FileName()) }

// Installed returns the path of an installed release, if it is there: a
// regular, executable file (it exists only once verified).
func (i *Installer) Installed(r Release) (string, bool) {
	p := i.Path(r)
	st, err := os.Stat(p)
	if err != nil || !st.Mode().IsRegular() || st.Mode().Perm()&0o100 == 0 {
		return "", false
	}
	return p, true
}

// Sum returns the pinned checksum of this host's binary, or a problem
// saying the platform has none.
func (i *Installer) Sum(r Release) (string, error) {
	goos, goarch := i.platform()
	sum, ok := r.SHA256[goos+"/"+goarch]
	if !ok {
		return "", problem.New(problem.Missing, fmt.Sprintf("devcluster cannot install %s for %s/%s", r.Tool, goos, goarch),
			fmt.Errorf("%s %s is pinned for %s only", r.Tool, r.Version, strings.Join(r.Platforms(), ", ")),
			"install "+r.Tool+" yourself: "+r.Docs)
	}
	return sum, nil
}

// Install downloads the release's binary for this host from base (the
// release's BaseURL when empty), verifies it and installs it, returning
// its path. An installed release is returned as it is. Whatever fails,
// nothing but a verified binary is ever left at the returned path.
func (i *Installer) Install(ctx context.Context, r Release, base string) (string, error) {
	if p, ok := i.Installed(r); ok {
		return p, nil
	}
	sum, err := i.Sum(r)
	if err != nil {
		return "", err
	}
	goos, goarch := i.platform()
	src := r.URL(base, goos, goarch)
	// Messages show the URL without its credentials (a mirror's token).
	shown := run.RedactURL(src)
	u, err := url.Parse(src)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", problem.New(problem.Config, "downloading "+r.Tool, fmt.Errorf("%q is not an http(s) URL", shown), "fix the download base URL of "+r.Tool)
	}
	if err := os.MkdirAll(i.Dir, 0o755); err != nil {
		return "", problem.New(problem.Failed, "installing "+r.Tool, err, "make "+i.Dir+" writable, or set XDG_CACHE_HOME")
	}
	i.removeStaleParts(r)

	timeout := i.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	attempts := i.Attempts
	if attempts <= 0 {
		attempts = DefaultAttempts
	}
	var last error
	for n := 1; n <= attempts; n++ {
		if n > 1 {
			if i.OnRetry != nil {
				i.OnRetry(n-1, attempts, last)
			}
			wait := time.Duration(n-1) * time.Second
			if i.Backoff != nil {
				wait = i.Backoff(n - 1)
			}
			select {
			case <-ctx.Done():
				return "", i.failed(r, shown, ctx.Err())
			case <-time.After(wait):
			}
		}
		var p string
		p, last = i.attempt(ctx, r, src, shown, sum, n)
		if last == nil {
			return p, nil
		}
		if !retryable(last) || ctx.Err() != nil {
			break
		}
	}
	return "", i.failed(r, shown, last)
}

// failed turns a download error into the problem shown to the user; shown
// is the URL as messages show it.
func (i *Installer) failed(r Release, shown string, err error) error {
	var p *problem.Error
	if errors.As(err, &p) {
		return err
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return problem.New(problem.Timeout, fmt.Sprintf("downloading %s %s from %s", r.Tool, r.Version, shown), err,
			"check the connection (and HTTPS_PROXY), or install "+r.Tool+" yourself: "+r.Docs)
	}
	if errors.Is(err, context.Canceled) {
		return err
	}
	return problem.New(problem.Failed, fmt.Sprintf("downloading %s %s from %s", r.Tool, r.Version, shown), err,
		"check the connection, HTTPS_PROXY/NO_PROXY and the download base URL (for a mirror), or install "+r.Tool+" yourself: "+r.Docs)
}

// transient marks errors worth another attempt.
type transient struct{ error }

func (t transient) Unwrap() error { return t.error }

func retryable(err error) bool {
	var t transient
	return errors.As(err, &t)
}

// attempt downloads src once into a temporary file beside the destination
// and renames it into place when its checksum matches; its messages name
// the URL as shown.
func (i *Installer) attempt(ctx context.Context, r Release, src, shown, sum string, n int) (string, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, src, nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("User-Agent", "devcluster (installing "+r.Tool+" "+r.Version+")")
	stall := i.StallTimeout
	if stall <= 0 {
		stall = DefaultStallTimeout
	}
	errStalled := fmt.Errorf("nothing received for %s", stall)
	watchdog := time.AfterFunc(stall, func() { cancel(errStalled) })
	defer watchdog.Stop()

	resp, err := i.client().Do(req)
	if err != nil {
		// net/http names the URL in its error with the password masked,
		// but not a token given as the user name.
		var ue *url.Error
		if errors.As(err, &ue) {
			ue.URL = run.RedactURL(ue.URL)
		}
		if context.Cause(ctx) == errStalled {
			return "", transient{errStalled}
		}
		if ctx.Err() != nil {
			return "", err
		}
		return "", transient{err}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		err := fmt.Errorf("the server answered %s", resp.Status)
		if resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests {
			return "", transient{err}
		}
		return "", problem.New(problem.Failed, fmt.Sprintf("downloading %s %s from %s", r.Tool, r.Version, shown), err,
			"check the download base URL: it must serve <base>/"+r.Version+"/"+r.Asset(i.platform())+"; or install "+r.Tool+" yourself: "+r.Docs)
	}
	if resp.ContentLength > MaxSize {
		return "", i.refuse(r, shown, fmt.Errorf("the server announces %s, more than any %s binary", text.Bytes(resp.ContentLength), r.Tool))
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt == "text/html" {
		return "", i.refuse(r, shown, errors.New("the server sent a web page (text/html) instead of the binary (a proxy's login or error page?)"))
	}

	tmp, err := os.CreateTemp(i.Dir, "."+r.FileName()+".*.part")
	if err != nil {
		return "", problem.New(problem.Failed, "installing "+r.Tool, err, "make "+i.Dir+" writable, or set XDG_CACHE_HOME")
	}
	installed := false
	defer func() {
		if !installed {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()

	h := sha256.New()
	start := time.Now()
	rep := &reporter{i: i, p: Progress{Attempt: n, Total: resp.ContentLength}, start: start}
	body := &watchedReader{r: resp.Body, onRead: func(k int) {
		watchdog.Reset(stall)
		rep.add(int64(k))
	}}
	head := make([]byte, 512)
	k, err := io.ReadFull(body, head)
	head = head[:k]
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return "", i.readFailed(ctx, errStalled, rep, err)
	}
	if ct, _, _ := strings.Cut(http.DetectContentType(head), ";"); ct == "text/html" || ct == "text/xml" {
		// An error page of a proxy, a login portal or a storage service:
		// say so rather than "wrong checksum".
		first, _, _ := strings.Cut(strings.TrimSpace(string(head)), "\n")
		return "", i.refuse(r, shown, fmt.Errorf("the server sent a web page (%s) instead of the binary, starting %q", ct, clip(first, 80)))
	}
	w := io.MultiWriter(fileWriter{tmp}, h)
	if _, err := w.Write(head); err != nil {
		return "", problem.New(problem.Failed, "writing "+tmp.Name(), err, "free some disk space in "+i.Dir)
	}
	if _, err := io.Copy(w, io.LimitReader(body, MaxSize-int64(len(head)))); err != nil {
		if werr := (*writeError)(nil); errors.As(err, &werr) {
			return "", problem.New(problem.Failed, "writing "+tmp.Name(), err, "free some disk space in "+i.Dir)
		}
		return "", i.readFailed(ctx, errStalled, rep, err)
	}
	done := rep.p.Done
	if resp.ContentLength >= 0 && done != resp.ContentLength {
		return "", transient{fmt.Errorf("the download ended after %s of %s", text.Bytes(done), text.Bytes(resp.ContentLength))}
	}
	if done >= MaxSize {
		return "", i.refuse(r, shown, fmt.Errorf("the download is larger than %s, more than any %s binary", text.Bytes(MaxSize), r.Tool))
	}
	rep.final()
	if got := hex.EncodeToString(h.Sum(nil)); got != sum {
		goos, goarch := i.platform()
		return "", i.refuse(r, shown, fmt.Errorf("its sha256 is %s, but %s %s for %s/%s is pinned as %s (%s received)", got, r.Tool, r.Version, goos, goarch, sum, text.Bytes(done)))
	}
	if err := tmp.Sync(); err != nil {
		return "", problem.New(problem.Failed, "writing "+tmp.Name(), err, "free some disk space in "+i.Dir)
	}
	if err := tmp.Close(); err != nil {
		return "", problem.New(problem.Failed, "writing "+tmp.Name(), err, "free some disk space in "+i.Dir)
	}
	if err := os.Chmod(tmp.Name(), 0o755); err != nil {
		return "", problem.New(problem.Failed, "installing "+r.Tool, err, "")
	}
	dst := i.Path(r)
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return "", problem.New(problem.Failed, "installing "+r.Tool, err, "make "+i.Dir+" writable, or set XDG_CACHE_HOME")
	}
	installed = true
	syncDir(i.Dir)
	return dst, nil
}

// readFailed classifies an error while reading the body.
func (i *Installer) readFailed(ctx context.Context, errStalled error, rep *reporter, err error) error {
	if context.Cause(ctx) == errStalled {
		return transient{fmt.Errorf("%w after %s", errStalled, text.Bytes(rep.p.Done))}
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		if rep.p.Total >= 0 {
			return transient{fmt.Errorf("the download ended after %s of %s", text.Bytes(rep.p.Done), text.Bytes(rep.p.Total))}
		}
		return transient{fmt.Errorf("the download broke off after %s", text.Bytes(rep.p.Done))}
	}
	if ctx.Err() != nil {
		return err
	}
	return transient{err}
}

// refuse is a download that must not be installed; shown is its URL as
// messages show it.
func (i *Installer) refuse(r Release, shown string, err error) error {
	return problem.New(problem.Failed, fmt.Sprintf("refusing the %s %s download from %s", r.Tool, r.Version, shown), err,
		"nothing was installed; if you use a mirror, make sure it serves the official release files unchanged, or install "+r.Tool+" yourself: "+r.Docs)
}

func (i *Installer) client() *http.Client {
	if i.Client != nil {
		return i.Client
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.Proxy = nil
	if i.Getenv != nil {
		cfg := proxyConfig(i.Getenv)
		proxy := cfg.ProxyFunc()
		t.Proxy = func(req *http.Request) (*url.URL, error) { return proxy(req.URL) }
	}
	t.ResponseHeaderTimeout = DefaultStallTimeout
	return &http.Client{Transport: t}
}

// proxyConfig reads the proxy variables as Go's own
// http.ProxyFromEnvironment does, from getenv.
func proxyConfig(getenv func(string) (string, bool)) *httpproxy.Config {
	get := func(names ...string) string {
		for _, n := range names {
			if v, ok := getenv(n); ok && v != "" {
				return v
			}
		}
		return ""
	}
	return &httpproxy.Config{
		HTTPProxy:  get("HTTP_PROXY", "http_proxy"),
		HTTPSProxy: get("HTTPS_PROXY", "https_proxy"),
		NoProxy:    get("NO_PROXY", "no_proxy"),
		CGI:        false,
	}
}

// removeStaleParts deletes partial downloads of this release left by a
// process that was killed; recent ones may belong to a running devcluster.
func (i *Installer) removeStaleParts(r Release) {
	parts, _ := filepath.Glob(filepath.Join(i.Dir, "."+r.FileName()+".*.part"))
	for _, p := range parts {
		if st, err := os.Stat(p); err == nil && time.Since(st.ModTime()) > staleParts {
			_ = os.Remove(p)
		}
	}
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
}
