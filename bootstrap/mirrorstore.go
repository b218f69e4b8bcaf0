package bootstrap

import (
	"context"
	"io"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"

	"github.com/devcluster/devcluster/agent"
	"github.com/devcluster/devcluster/internal/problem"
	"github.com/devcluster/devcluster/registry"
)

// MirrorUpstream is what the mirror store holds of one upstream.
type MirrorUpstream = registry.MirrorUpstream

// PruneResult is what a prune of the mirror store did.
type PruneResult = registry.PruneResult

// ListMirrors lists what the pull-through mirrors' store holds, per
// upstream.
func ListMirrors(store string) ([]MirrorUpstream, error) {
	ups, err := registry.ListMirrors(store)
	if err != nil {
		return nil, problem.New(problem.Failed, "reading the mirror store", err, "")
	}
	return ups, nil
}

// PruneMirrorsOptions select what PruneMirrors deletes: everything, or
// the repositories not pulled for OlderThan.
type PruneMirrorsOptions struct {
	All       bool
	OlderThan time.Duration
	DryRun    bool
}

// PruneMirrors deletes from the mirror store what o selects, and the blobs
// nothing references any more. The agent serving the store lets go of it
// meanwhile; it waits at most a minute for that.
func PruneMirrors(ctx context.Context, store string, o PruneMirrorsOptions) (*PruneResult, error) {
	res, err := registry.PruneMirrors(ctx, store, registry.PruneOptions{All: o.All, OlderThan: o.OlderThan, DryRun: o.DryRun, LockWait: time.Minute})
	if err != nil {
		return nil, problem.New(problem.Failed, "pruning the mirror store", err, "another prune may be running; try again")
	}
	return res, nil
}

// MirrorCredentials answers a Docker credential helper `get` for the
// mirrors given as the agent's --mirror values: the host on in, the
// upstream's credentials from the user's Docker configuration on out.
func MirrorCredentials(in io.Reader, out io.Writer, mirrors []string) error {
	var ms []registry.Mirror
	for _, s := range mirrors {
		m, err := agent.ParseMirror(s)
		if err != nil {
			return problem.New(problem.Usage, "", err, "")
		}
		ms = append(ms, m)
	}
	if err := registry.CredentialHelper(in, out, ms, authn.DefaultKeychain); err != nil {
		return problem.New(problem.Failed, "reading the upstream's credentials", err, "check `docker login` and the credential helper of your Docker configuration")
	}
	return nil
}
