package registry

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"golang.org/x/net/publicsuffix"
)

// credentialReply is a Docker credential helper's answer to `get`.
type credentialReply struct {
	ServerURL string `json:"ServerURL"`
	Username  string `json:"Username"`
	Secret    string `json:"Secret"`
}

// CredentialHelper answers Distribution's `get` for one host (read from
// in) with the user's credentials for the mirror that host belongs to,
// from kc (authn.DefaultKeychain: the Docker configuration and its
// credential helpers). A host that belongs to no mirror, or a mirror
// without credentials, gets empty ones: an anonymous pull.
//
// Distribution asks for the remote's own host (basic authentication) or
// for the host of the token realm the remote names, which it only accepts
// on the remote's host or domain (auth.docker.io for registry-1.docker.io).
func CredentialHelper(in io.Reader, out io.Writer, mirrors []Mirror, kc authn.Keychain) error {
	line, err := bufio.NewReader(io.LimitReader(in, 4096)).ReadString('\n')
	if err != nil && err != io.EOF {
		return err
	}
	host := strings.TrimSpace(line)
	if u, err := url.Parse(host); err == nil && u.Host != "" {
		host = u.Host
	}
	reply := credentialReply{ServerURL: host}
	if m, ok := mirrorOfHost(mirrors, host); ok {
		reg, err := name.NewRegistry(credentialKey(m), name.Insecure)
		if err != nil {
			return err
		}
		a, err := kc.Resolve(reg)
		if err != nil {
			return fmt.Errorf("reading the credentials for %s: %w", reg.Name(), err)
		}
		cfg, err := a.Authorization()
		if err != nil {
			return fmt.Errorf("reading the credentials for %s: %w", reg.Name(), err)
		}
		reply.Username, reply.Secret = cfg.Username, cfg.Password
		if cfg.Username == "" && cfg.Password == "" && cfg.Auth != "" {
			return fmt.Errorf("the credentials for %s are not a user name and password", reg.Name())
		}
	}
	return json.NewEncoder(out).Encode(reply)
}

// credentialKey is where the credentials of a mirror are looked up: the
// upstream's name (docker.io, as `docker login` keeps it) when the remote
// is on the upstream's own domain, else the remote's host: credentials for
// Docker Hub are never sent to another remote.
func credentialKey(m Mirror) string {
	u, err := url.Parse(m.Remote)
	if err != nil {
		return m.Upstream
	}
	upHost, _, err := net.SplitHostPort(m.Upstream)
	if err != nil {
		upHost = m.Upstream
	}
	if sameDomain(u.Hostname(), upHost) {
		return m.Upstream
	}
	return u.Host
}

// mirrorOfHost is the mirror whose remote is host, or on host's domain.
func mirrorOfHost(mirrors []Mirror, host string) (Mirror, bool) {
	h, _, err := net.SplitHostPort(host)
	if err != nil {
		h = host
	}
	for _, m := range mirrors {
		if u, err := url.Parse(m.Remote); err == nil && strings.EqualFold(u.Host, host) {
			return m, true
		}
	}
	for _, m := range mirrors {
		if u, err := url.Parse(m.Remote); err == nil && sameDomain(u.Hostname(), h) {
			return m, true
		}
	}
	return Mirror{}, false
}

// sameDomain: the same host, or two DNS names of one registrable domain
// (never for IP addresses or localhost).
func sameDomain(a, b string) bool {
	if strings.EqualFold(a, b) {
		return true
	}
	if net.ParseIP(a) != nil || net.ParseIP(b) != nil || a == "localhost" || b == "localhost" {
		return false
	}
	da, err1 := publicsuffix.EffectiveTLDPlusOne(strings.ToLower(a))
	db, err2 := publicsuffix.EffectiveTLDPlusOne(strings.ToLower(b))
	return err1 == nil && err2 == nil && da == db
}
