package registry

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/devcluster/devcluster/image"
)

// Repository is one repository and its tags.
type Repository struct {
	Name string   `json:"name"`
	Tags []string `json:"tags"`
}

// List returns every repository and its tags at host (e.g. 127.0.0.1:5001),
// sorted by name.
func List(ctx context.Context, host string) ([]Repository, error) {
	reg, err := name.NewRegistry(host, name.Insecure)
	if err != nil {
		return nil, fmt.Errorf("parsing registry address %q: %w", host, err)
	}
	if err := answers(ctx, host); err != nil {
		return nil, err
	}
	repos, err := remote.Catalog(ctx, reg, remote.WithContext(ctx))
	if err != nil {
		return nil, fmt.Errorf("listing repositories at %s: %w", host, err)
	}
	sort.Strings(repos)
	out := make([]Repository, 0, len(repos))
	for _, r := range repos {
		repo, err := name.NewRepository(host+"/"+r, name.Insecure)
		if err != nil {
			return nil, err
		}
		tags, err := remote.List(repo, remote.WithContext(ctx))
		if err != nil {
			return nil, fmt.Errorf("listing tags of %s: %w", r, err)
		}
		sort.Strings(tags)
		out = append(out, Repository{Name: r, Tags: tags})
	}
	return out, nil
}

// answers checks that something serves HTTP at host before
// go-containerregistry talks to it: for a registry that is not running it
// would report two errors, one for https and one for http, where one says
// it all.
func answers(ctx context.Context, host string) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+host+"/v2/", nil)
	if err != nil {
		return fmt.Errorf("invalid registry address %q: %w", host, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		var op *net.OpError
		if errors.As(err, &op) {
			return fmt.Errorf("no registry answers at %s: %w", host, op.Err)
		}
		return fmt.Errorf("no registry answers at %s: %w", host, err)
	}
	_ = resp.Body.Close()
	return nil
}

// PushResult says what was pushed.
type PushResult struct {
	Reference string `json:"reference"`
	Digest    string `json:"digest"`
}

// Push pushes src to host/target (target is NAME[:TAG], default tag
// latest). Blobs the registry already has are not uploaded again.
// progress, when non-nil, receives byte counts as the upload goes, and is
// closed when Push returns.
func Push(ctx context.Context, src *image.Source, host, target string, progress chan<- v1.Update) (*PushResult, error) {
	// go-containerregistry closes the channel once it is handed over.
	handed := false
	defer func() {
		if progress != nil && !handed {
			close(progress)
		}
	}()
	if strings.Contains(target, "/") && strings.Contains(strings.SplitN(target, "/", 2)[0], ":") {
		return nil, fmt.Errorf("target %q must be a repository name such as myapp:dev, not a full reference", target)
	}
	ref, err := name.ParseReference(host+"/"+target, name.Insecure, name.WithDefaultTag("latest"))
	if err != nil {
		return nil, fmt.Errorf("parsing target %q: %w", target, err)
	}
	if err := answers(ctx, host); err != nil {
		return nil, err
	}
	opts := []remote.Option{remote.WithContext(ctx)}
	if progress != nil {
		opts = append(opts, remote.WithProgress(progress))
	}
	var digest v1.Hash
	switch {
	case src.Image != nil:
		handed = true
		if err := remote.Write(ref, src.Image, opts...); err != nil {
			return nil, fmt.Errorf("pushing %s to %s: %w", src.Desc, ref, err)
		}
		digest, err = src.Image.Digest()
	case src.Index != nil:
		handed = true
		if err := remote.WriteIndex(ref, src.Index, opts...); err != nil {
			return nil, fmt.Errorf("pushing %s to %s: %w", src.Desc, ref, err)
		}
		digest, err = src.Index.Digest()
	default:
		return nil, errors.New("empty source")
	}
	if err != nil {
		return nil, err
	}
	return &PushResult{Reference: ref.String(), Digest: digest.String()}, nil
}

// PushImage pushes img to host/repo:tag and returns the reference.
func PushImage(ctx context.Context, img v1.Image, host, repoTag string) (*PushResult, error) {
	return Push(ctx, &image.Source{Image: img, Desc: "image"}, host, repoTag, nil)
}

// Has reports whether the registry at host already holds repoTag
// (NAME:TAG) as exactly digest, so an unchanged image is not pushed again.
func Has(ctx context.Context, host, repoTag string, digest v1.Hash) bool {
	ref, err := name.ParseReference(host+"/"+repoTag, name.Insecure)
	if err != nil {
		return false
	}
	desc, err := remote.Head(ref, remote.WithContext(ctx))
	return err == nil && desc.Digest == digest
}
