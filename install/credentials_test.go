package install

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/devcluster/devcluster/internal/problem"
)

// A mirror's URL may carry credentials (https://user:token@mirror/...; a
// token alone as the user name is common too). No message, progress line,
// retry note or fix may show them, whatever fails: the error text ends up
// in CI logs, annotations and job summaries.
func TestCredentialsInTheURLAreNeverShown(t *testing.T) {
	const secret = "s3cr3tT0KEN"
	closed := func() string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		_ = l.Close()
		return "http://" + addr + "/releases"
	}
	other := append([]byte(nil), binary...)
	other[0] ^= 1
	for _, tc := range []struct {
		name     string
		handler  func(int, http.ResponseWriter, *http.Request)
		base     func() string
		userinfo string
		// proxy serves as HTTP_PROXY, with credentials; proxyDown
		// names a closed port instead.
		proxy     func(int, http.ResponseWriter, *http.Request)
		proxyDown bool
		want      string
	}{
		{name: "not found", handler: func(_ int, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNotFound) }, userinfo: "user:" + secret, want: "404"},
		{name: "server errors, retried", handler: func(_ int, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusBadGateway) }, userinfo: "user:" + secret, want: "502"},
		{name: "token as the user name", handler: func(_ int, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusBadGateway) }, userinfo: secret, want: "502"},
		{name: "percent-encoded password", handler: func(_ int, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusForbidden) }, userinfo: "user:" + secret + "%2Fx", want: "403"},
		{name: "web page", handler: serve([]byte("<html><body>sign in</body></html>")), userinfo: "user:" + secret, want: "web page"},
		{name: "wrong checksum", handler: serve(other), userinfo: "user:" + secret, want: "sha256 is"},
		{name: "connection refused", base: closed, userinfo: "user:" + secret, want: "refused"},
		{name: "truncated, retried", handler: truncate, userinfo: "user:" + secret, want: "ended after"},
		// Loopback is never proxied: the release host is a name that is
		// never resolved, since the proxy on loopback answers first.
		{name: "proxy with a password answers 502", base: func() string { return "http://releases.invalid/releases" }, userinfo: "user:" + secret,
			proxy: func(_ int, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusBadGateway) }, want: "502"},
		{name: "proxy with a password is down", base: func() string { return "http://releases.invalid/releases" }, userinfo: "user:" + secret,
			proxy: nil, proxyDown: true, want: "refused"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var base string
			if tc.base != nil {
				base = tc.base()
			} else {
				base, _ = server(t, tc.handler)
			}
			if tc.userinfo != "" {
				base = strings.Replace(base, "http://", "http://"+tc.userinfo+"@", 1)
			}
			i := newInstaller(t)
			if tc.proxy != nil || tc.proxyDown {
				proxy := closed()
				if tc.proxy != nil {
					ps := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { tc.proxy(1, w, r) }))
					t.Cleanup(ps.Close)
					proxy = ps.URL
				}
				proxy = strings.Replace(proxy, "http://", "http://proxyuser:"+secret+"@", 1)
				i.Getenv = func(k string) (string, bool) { return proxy, k == "HTTP_PROXY" }
			}
			var shown []string
			i.OnRetry = func(n, attempts int, err error) {
				shown = append(shown, fmt.Sprintf("retry %d/%d: %v", n, attempts, err))
			}
			i.OnProgress = func(p Progress) { shown = append(shown, Describe(p)) }
			_, err := i.Install(context.Background(), testRelease(), base)
			if err == nil {
				t.Fatal("the download succeeded")
			}
			shown = append(shown, err.Error(), fmt.Sprintf("%+v", err), problem.FixOf(err))
			all := strings.Join(shown, "\n")
			if strings.Contains(all, secret) {
				t.Errorf("the credential is shown:\n%s", all)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("the error does not say %q: %v", tc.want, err)
			}
			if tc.userinfo != "" && !strings.Contains(err.Error(), "127.0.0.1") && tc.proxy == nil && !tc.proxyDown {
				t.Errorf("the error does not name the server: %v", err)
			}
			assertNothingInstalled(t, i)
		})
	}
}
