package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// completeMirrors checks registry.mirrors and registry.mirrorTTL and fills
// in each default remote.
func completeMirrors(r RegistryFile, add func(string, error)) ([]Mirror, time.Duration) {
	out := []Mirror{}
	seen := map[string]int{}
	for i, m := range r.Mirrors {
		field := fmt.Sprintf("registry.mirrors[%d]", i)
		ok := true
		if err := validUpstream(m.Upstream); err != nil {
			add(field+".upstream", err)
			ok = false
		} else if j, dup := seen[m.Upstream]; dup {
			add(field+".upstream", fmt.Errorf("%s is mirrored twice (registry.mirrors[%d] too): one remote per upstream", m.Upstream, j))
			ok = false
		}
		seen[m.Upstream] = i
		remote := m.Remote
		if remote == "" {
			remote = DefaultRemote(m.Upstream)
		} else if err := validRemote(remote); err != nil {
			add(field+".remote", err)
			ok = false
		}
		if ok {
			out = append(out, Mirror{Upstream: m.Upstream, Remote: strings.TrimSuffix(remote, "/")})
		}
	}
	ttl, err := ParseDays(r.MirrorTTL)
	if err != nil || ttl < 0 {
		add("registry.mirrorTTL", fmt.Errorf("invalid duration %q: use days (7d), a duration such as 72h, or 0 to keep mirrored images for ever", r.MirrorTTL))
	}
	return out, ttl
}

// ParseDays parses a duration that may also be given in days ("7d",
// "1.5d"), as prune's --older-than and registry.mirrorTTL take it.
func ParseDays(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.ParseFloat(d, 64)
		if err != nil || n < 0 || n > 100*365 {
			return 0, fmt.Errorf("invalid number of days %q", s)
		}
		return time.Duration(n * float64(24*time.Hour)), nil
	}
	if s == "0" {
		return 0, nil
	}
	return time.ParseDuration(s)
}

// validUpstream checks a registry name as images carry it: a host name or
// IP with an optional port, no scheme and no path.
func validUpstream(u string) error {
	switch {
	case u == "":
		return errors.New("empty: name the registry as images do (docker.io, ghcr.io)")
	case strings.Contains(u, "://"):
		return fmt.Errorf("%q is a URL: the upstream is the registry's name as images carry it (docker.io); the URL goes in remote", u)
	case strings.ContainsAny(u, "/ @?#"):
		return fmt.Errorf("%q is not a registry name: a host with an optional port, such as docker.io or registry.example.com:5000", u)
	}
	host := u
	if h, port, err := net.SplitHostPort(u); err == nil {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("%q: invalid port %q", u, port)
		}
		host = h
	}
	if err := ValidHost(host); err != nil {
		return fmt.Errorf("%q is not a registry name: a host with an optional port, such as docker.io or registry.example.com:5000", u)
	}
	return nil
}

// validRemote checks an upstream endpoint: an http or https URL with a host,
// no credentials (they come from the Docker configuration), no query.
func validRemote(s string) error {
	u, err := url.Parse(s)
	switch {
	case err != nil || u.Host == "":
		return fmt.Errorf("invalid URL %q: use https://host[:port]", s)
	case u.Scheme != "https" && u.Scheme != "http":
		return fmt.Errorf("invalid URL %q: use an http or https URL", s)
	case u.User != nil:
		return errors.New("the URL carries credentials: remove them; devcluster reads the upstream's credentials from your Docker configuration (docker login)")
	case u.RawQuery != "" || u.Fragment != "" || strings.Trim(u.Path, "/") != "":
		return fmt.Errorf("invalid URL %q: only scheme, host and port (a registry is served at its root)", s)
	}
	return nil
}
