package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/devcluster/devcluster/registry"
)

// Run is the agent process itself: it serves the registry on every listen
// address, records itself in the state directory once it is listening, and
// runs until ctx is cancelled (SIGTERM), then removes its record.
func Run(ctx context.Context, s Spec, log io.Writer, version string) error {
	if err := os.MkdirAll(s.StateDir, 0o700); err != nil {
		return err
	}
	srv, err := registry.New(ctx, registry.Options{
		DataDir: s.DataDir, Listen: s.Listen, Log: log, Verbose: s.Verbose,
		Identity: map[string]string{"cluster": s.Name, "stateDir": s.StateDir, "version": version},
	})
	if err != nil {
		return err
	}
	rec := record{PID: os.Getpid(), Listen: srv.Addrs(), DataDir: s.DataDir, StartedAt: time.Now()}
	b, _ := json.MarshalIndent(rec, "", "  ")
	tmp := filepath.Join(s.StateDir, recordFile+".tmp")
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(s.StateDir, recordFile)); err != nil {
		return err
	}
	fmt.Fprintf(log, "%s agent for cluster %q: registry on %v, data in %s (pid %d)\n",
		time.Now().Format(time.RFC3339), s.Name, srv.Addrs(), s.DataDir, os.Getpid())
	err = srv.Serve(ctx)
	// Remove the record only if it is still ours (a replacement may have
	// written its own).
	if r, rerr := readRecord(s.StateDir); rerr == nil && r.PID == os.Getpid() {
		_ = os.Remove(filepath.Join(s.StateDir, recordFile))
	}
	fmt.Fprintf(log, "%s agent stopped\n", time.Now().Format(time.RFC3339))
	return err
}
