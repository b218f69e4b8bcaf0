package bootstrap

import (
	"context"
	"fmt"

	"github.com/devcluster/devcluster/bootstrap/provider"
)

// DownResult is what `down` reports.
type DownResult struct {
	Name    string `json:"name"`
	Deleted bool   `json:"deleted"`
}

// Down deletes the named cluster. Deleting a cluster that does not exist is
// not an error: it reports that nothing was there.
func Down(ctx context.Context, deps Deps, name string) (*DownResult, error) {
	s := &session{deps: deps}
	out := &DownResult{Name: name}
	steps := []step{
		{title: "Checking " + deps.Provider.Name(), run: checkProvider},
		{title: fmt.Sprintf("Deleting cluster %q", name), run: func(ctx context.Context, s *session) (string, error) {
			have, err := deps.Provider.Get(ctx, name)
			if err != nil {
				return "", err
			}
			if have.State == provider.Absent {
				return "not found, nothing to delete", nil
			}
			if err := deps.Provider.Delete(ctx, name, deps.Report.Progress); err != nil {
				return "", err
			}
			out.Deleted = true
			return "deleted", nil
		}},
	}
	return out, runSteps(ctx, s, steps)
}
