package bootstrap

import (
	"context"
	"errors"
	"io"
	"net"
	"strconv"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/devcluster/devcluster/agent"
	"github.com/devcluster/devcluster/config"
	"github.com/devcluster/devcluster/image"
	"github.com/devcluster/devcluster/install"
	"github.com/devcluster/devcluster/internal/problem"
	"github.com/devcluster/devcluster/registry"
)

// RegistryEndpoint is the local registry of a cluster as the `registry`
// commands reach it.
type RegistryEndpoint struct {
	// Host is its host:port on loopback.
	Host string
	// DataDir is its storage.
	DataDir string
	// Agent is the cluster's agent, when its status could be read.
	Agent *agent.Status
}

// FindRegistry locates cluster cfg's registry: at address when given, else
// where its running agent listens, else on loopback at the configured
// port.
func FindRegistry(ctx context.Context, d Deps, cfg *config.Config, address string) (*RegistryEndpoint, error) {
	dirs, err := d.Dirs(cfg.Name)
	if err != nil {
		return nil, problem.New(problem.Failed, "locating devcluster's data directory", err, "set HOME or XDG_DATA_HOME")
	}
	e := &RegistryEndpoint{DataDir: RegistryDataDir(cfg, dirs)}
	if st, err := d.Agent.Status(ctx, dirs.State); err == nil {
		e.Agent = st
	}
	switch {
	case address != "":
		e.Host = address
	case e.Agent != nil && e.Agent.Running && len(e.Agent.Listen) > 0:
		e.Host = e.Agent.Listen[0]
	default:
		e.Host = loopback(cfg.Registry.Port)
	}
	return e, nil
}

func loopback(port int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) }

// ListRegistry lists the repositories of the registry at host and their
// tags.
func ListRegistry(ctx context.Context, host string) ([]registry.Repository, error) {
	repos, err := registry.List(ctx, host)
	if err != nil {
		return nil, problem.New(problem.Failed, "listing the registry", err, "start it with `devcluster up` (or `devcluster registry serve`)")
	}
	return repos, nil
}

// ClusterPlatform is the platform of a local cluster's nodes, which
// `registry push` pushes by default.
func ClusterPlatform() v1.Platform { return image.ClusterPlatform() }

// PushOptions say what `registry push` pushes.
type PushOptions struct {
	// Source is SRC as given (see image.Read).
	Source string
	// Target is NAME[:TAG] in the registry.
	Target string
	// Read finds the source.
	Read image.ReadOptions
	// Progress reports the upload's bytes; nil reports nothing.
	Progress func(install.Progress)
}

// Push reads the image o names and pushes it to the registry at host: of
// a multi-platform image only o.Read.Platform's (all of them without
// one). Layers the registry already has are not uploaded again.
func Push(ctx context.Context, host string, o PushOptions) (*registry.PushResult, error) {
	source, cleanup, err := image.Read(ctx, o.Source, o.Read)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	if o.Read.Platform != nil {
		if source, err = source.ForPlatform(*o.Read.Platform); err != nil {
			return nil, problem.New(problem.Usage, "", err, "give --platform with one the image has, or --platform all to push every one")
		}
	}
	var updates chan v1.Update
	reported := make(chan struct{})
	if o.Progress == nil {
		close(reported)
	} else {
		updates = make(chan v1.Update, 16)
		go reportUpload(updates, o.Progress, reported)
	}
	res, err := registry.Push(ctx, source, host, o.Target, updates)
	<-reported
	if err != nil {
		return nil, problem.New(problem.Failed, "pushing "+o.Source, err, "is the registry running? `devcluster status` shows it")
	}
	return res, nil
}

// reportUpload turns go-containerregistry's updates into progress until
// the channel closes, then closes done.
func reportUpload(updates <-chan v1.Update, report func(install.Progress), done chan<- struct{}) {
	defer close(done)
	start := time.Now()
	var last v1.Update
	failed := false
	for u := range updates {
		if u.Error != nil {
			failed = true
			continue
		}
		last = u
		report(install.Progress{Attempt: 1, Done: u.Complete, Total: u.Total, Elapsed: time.Since(start)})
	}
	// The channel closes once everything is written; its updates may stop
	// short of the last read.
	if !failed && last.Total > 0 {
		report(install.Progress{Attempt: 1, Done: last.Total, Total: last.Total, Elapsed: time.Since(start), Final: true})
	}
}

// ServeOptions say how `registry serve` runs the registry.
type ServeOptions struct {
	// DataDir is the storage ("" = the cluster's registry data directory).
	DataDir string
	// Listen are the addresses ("" = loopback at the configured port).
	Listen []string
	// Log receives the registry's log lines; Verbose logs every request.
	Log     io.Writer
	Verbose bool
	// Serving is told the addresses and the storage once the registry
	// listens.
	Serving func(addrs []string, dataDir string)
}

// ServeRegistry runs cluster cfg's registry in the foreground until ctx
// ends. It refuses a data directory another registry uses.
func ServeRegistry(ctx context.Context, e *RegistryEndpoint, cfg *config.Config, o ServeOptions) error {
	if o.DataDir == "" {
		o.DataDir = e.DataDir
	}
	if len(o.Listen) == 0 {
		o.Listen = []string{loopback(cfg.Registry.Port)}
	}
	srv, err := registry.New(ctx, registry.Options{DataDir: o.DataDir, Listen: o.Listen, Log: o.Log, Verbose: o.Verbose, Holder: registry.ServeHolder})
	if err != nil {
		fix := "pick a free port with --listen"
		if errors.Is(err, registry.ErrLocked) {
			fix = "stop the other registry first, or serve another directory with --data-dir"
		}
		return problem.New(problem.Failed, "starting the registry", err, fix)
	}
	if o.Serving != nil {
		o.Serving(srv.Addrs(), o.DataDir)
	}
	if err := srv.Serve(ctx); err != nil {
		return problem.New(problem.Failed, "serving the registry", err, "")
	}
	return nil
}
