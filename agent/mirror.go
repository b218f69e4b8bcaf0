package agent

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/devcluster/devcluster/registry"
)

// MirrorSpec is the pull-through mirrors an agent serves beside its
// registry (none when Mirrors is empty).
type MirrorSpec struct {
	// Store is the per-user mirror store every cluster's agent shares.
	Store   string            `json:"store,omitempty"`
	Mirrors []registry.Mirror `json:"mirrors,omitempty"`
	TTL     time.Duration     `json:"ttl,omitempty"`
	// Helper is the devcluster executable whose `mirror credential-helper`
	// gives upstreams the user's credentials; empty: anonymous pulls.
	Helper string `json:"-"`
}

func (m MirrorSpec) equal(o MirrorSpec) bool {
	return m.Store == o.Store && m.TTL == o.TTL && slices.Equal(m.Mirrors, o.Mirrors)
}

// args are the agent flags that carry m.
func (m MirrorSpec) args() []string {
	if len(m.Mirrors) == 0 {
		return nil
	}
	out := []string{"--mirror-store", m.Store, "--mirror-ttl", m.TTL.String()}
	for _, mi := range m.Mirrors {
		out = append(out, "--mirror", mi.Upstream+"="+mi.Remote)
	}
	return out
}

// ParseMirror reads an agent's --mirror UPSTREAM=REMOTE.
func ParseMirror(s string) (registry.Mirror, error) {
	up, remote, ok := strings.Cut(s, "=")
	if !ok || up == "" || remote == "" {
		return registry.Mirror{}, fmt.Errorf("invalid mirror %q: use UPSTREAM=REMOTE", s)
	}
	return registry.Mirror{Upstream: up, Remote: remote}, nil
}

// mirrorHelperFile is the credential helper an agent writes in its state
// directory: a two-line script that runs devcluster's own helper. It holds
// no credentials; those are read from the Docker configuration when an
// upstream asks for them, and never written down.
const mirrorHelperFile = "mirror-credentials"

// options are the registry's mirror options, writing the credential
// helper script first.
func (m MirrorSpec) options(stateDir string) (*registry.MirrorOptions, error) {
	if len(m.Mirrors) == 0 {
		return nil, nil
	}
	o := &registry.MirrorOptions{StoreDir: m.Store, Mirrors: m.Mirrors, TTL: m.TTL, StoreWait: 60 * time.Second}
	if m.Helper != "" {
		script := "#!/bin/sh\nexec " + shellQuote(m.Helper) + " mirror credential-helper"
		for _, mi := range m.Mirrors {
			script += " --mirror " + shellQuote(mi.Upstream+"="+mi.Remote)
		}
		script += " \"$@\"\n"
		p := filepath.Join(stateDir, mirrorHelperFile)
		if err := os.WriteFile(p+".tmp", []byte(script), 0o700); err != nil {
			return nil, fmt.Errorf("writing the mirrors' credential helper: %w", err)
		}
		if err := os.Rename(p+".tmp", p); err != nil {
			return nil, err
		}
		o.CredentialHelper = p
	}
	return o, nil
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
