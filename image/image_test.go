package image

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// A base image from a public registry is fetched over HTTPS only: the old
// name.Insecure parse let go-containerregistry fall back to plain HTTP for
// any host. Loopback and devcluster's own registry may use plain HTTP.
func TestLoadBaseUsesPlainHTTPOnlyForLoopbackAndTheLocalRegistry(t *testing.T) {
	// An HTTPS-only reference to a host that answers nothing: the scheme
	// is observed through a transport that records the request instead of
	// dialling out.
	var schemes []string
	rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		schemes = append(schemes, r.URL.Scheme+"://"+r.URL.Host)
		return nil, errors.New("no network in this test")
	})
	saved := remoteTransport
	remoteTransport = rt
	defer func() { remoteTransport = saved }()
	for _, tc := range []struct {
		ref       string
		plainHTTP []string
		want      string
	}{
		{"docker.io/library/nginx:stable", nil, "https://index.docker.io"},
		{"registry.example:5000/base:1", nil, "https://registry.example:5000"},
		{"registry.example:5000/base:1", []string{"registry.example:5000"}, "http://registry.example:5000"},
		{"localhost:5001/base:1", nil, "http://localhost:5001"},
		{"127.0.0.1:5001/base:1", nil, "http://127.0.0.1:5001"},
	} {
		schemes = nil
		_, _ = LoadBase(context.Background(), tc.ref, tc.plainHTTP...)
		if len(schemes) == 0 {
			t.Errorf("%s: no request made", tc.ref)
			continue
		}
		plain := strings.HasPrefix(tc.want, "http://")
		sawPlain := false
		for _, s := range schemes {
			if strings.HasPrefix(s, "http://") {
				sawPlain = true
			}
		}
		if plain != sawPlain || !slices.Contains(schemes, tc.want) {
			t.Errorf("%s: requested %q; want %s, plain HTTP %v", tc.ref, schemes, tc.want, plain)
		}
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
