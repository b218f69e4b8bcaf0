package kube

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/version"
	"k8s.io/client-go/kubernetes"
)

// VersionTimeout bounds ServerVersion: a local or CI cluster answers
// /version in milliseconds.
const VersionTimeout = 15 * time.Second

// ServerVersion asks the API server for its version, bounded by ctx and
// within. Discovery's ServerVersion takes no context and the clients have
// no overall timeout (it would cut their watches), so a server that accepts
// the connection and never answers would hold the caller for good; the
// request is made with ctx instead.
func ServerVersion(ctx context.Context, k kubernetes.Interface, within time.Duration) (*version.Info, error) {
	ctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	if rc := k.Discovery().RESTClient(); rc != nil {
		// The real client: the request itself ends with ctx.
		body, err := rc.Get().AbsPath("/version").Do(ctx).Raw()
		if err != nil {
			if ctx.Err() == context.DeadlineExceeded {
				return nil, fmt.Errorf("the API server did not answer /version within %s", within)
			}
			return nil, err
		}
		var info version.Info
		if err := json.Unmarshal(body, &info); err != nil {
			return nil, fmt.Errorf("the API server's /version: %w", err)
		}
		return &info, nil
	}
	// Fake clientsets have no REST client: ask discovery, bounded.
	type answer struct {
		v   *version.Info
		err error
	}
	ch := make(chan answer, 1)
	go func() {
		v, err := k.Discovery().ServerVersion()
		ch <- answer{v, err}
	}()
	select {
	case a := <-ch:
		return a.v, a.err
	case <-ctx.Done():
		if ctx.Err() == context.DeadlineExceeded {
			return nil, fmt.Errorf("the API server did not answer /version within %s", within)
		}
		return nil, ctx.Err()
	}
}
