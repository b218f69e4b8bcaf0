package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/urfave/cli/v2"

	"github.com/devcluster/devcluster/agent"
	"github.com/devcluster/devcluster/bootstrap"
	"github.com/devcluster/devcluster/config"
	"github.com/devcluster/devcluster/install"
	"github.com/devcluster/devcluster/internal/paths"
	"github.com/devcluster/devcluster/internal/problem"
	"github.com/devcluster/devcluster/internal/run"
	"github.com/devcluster/devcluster/registry"
)

// registryTarget is the registry a `registry` subcommand talks to.
type registryTarget struct {
	cfg     *config.Config
	dirs    paths.Dirs
	dataDir string
	// host is host:port on loopback.
	host  string
	agent *agent.Status
}

func (g *globals) registryTarget(c *cli.Context, name, address string) (*registryTarget, error) {
	cfg, err := g.clusterConfig(c, name, true)
	if err != nil {
		return nil, err
	}
	deps := g.deps()
	dirs, err := deps.Dirs(cfg.Name)
	if err != nil {
		return nil, problem.New(problem.Failed, "locating devcluster's data directory", err, "set HOME or XDG_DATA_HOME")
	}
	t := &registryTarget{cfg: cfg, dirs: dirs, dataDir: bootstrap.RegistryDataDir(cfg, dirs)}
	if st, err := deps.Agent.Status(c.Context, dirs.State); err == nil {
		t.agent = st
	}
	switch {
	case address != "":
		t.host = address
	case t.agent != nil && t.agent.Running && len(t.agent.Listen) > 0:
		t.host = t.agent.Listen[0]
	default:
		t.host = net.JoinHostPort("127.0.0.1", strconv.Itoa(cfg.Registry.Port))
	}
	return t, nil
}

func newRegistryCommand(g *globals) *cli.Command {
	var name, address string
	common := []cli.Flag{
		nameFlag(&name), providerFlag(), contextFlag(),
		&cli.StringFlag{Name: "address", Usage: "registry `HOST:PORT`", DefaultText: "the running agent's loopback address", Destination: &address},
	}
	return &cli.Command{
		Name:  "registry",
		Usage: "the local registry: list, push, garbage-collect, or serve it in the foreground",
		Description: "devcluster runs a container registry (CNCF Distribution, embedded) in its background agent. The host\n" +
			"pushes to localhost:<port>; the cluster pulls from the host's address on the cluster network. Images are\n" +
			"stored under the user's data directory and survive agent restarts, `down` and `up --recreate`.",
		Subcommands: []*cli.Command{
			newRegistryLsCommand(g, common, &name, &address),
			newRegistryPushCommand(g, common, &name, &address),
			newRegistryGCCommand(g, &name),
			newRegistryServeCommand(g),
		},
	}
}

func newRegistryLsCommand(g *globals, common []cli.Flag, name, address *string) *cli.Command {
	var output string
	return &cli.Command{
		Name:  "ls",
		Usage: "list repositories and their tags",
		Flags: append(append([]cli.Flag(nil), common...), outputFlag(&output)),
		Action: func(c *cli.Context) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			t, err := g.registryTarget(c, *name, *address)
			if err != nil {
				return err
			}
			repos, err := registry.List(c.Context, t.host)
			if err != nil {
				return problem.New(problem.Failed, "listing the registry", err, "start it with `devcluster up` (or `devcluster registry serve`)")
			}
			if isData(output) {
				return writeData(g.env.Stdout, output, repos)
			}
			if len(repos) == 0 {
				fmt.Fprintf(g.env.Stdout, "No repositories at %s.\n", t.host)
				return nil
			}
			tw := tabwriter.NewWriter(g.env.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "REPOSITORY\tTAGS")
			for _, r := range repos {
				fmt.Fprintf(tw, "%s\t%s\n", r.Name, strings.Join(r.Tags, ", "))
			}
			return tw.Flush()
		},
	}
}

func newRegistryPushCommand(g *globals, common []cli.Flag, name, address *string) *cli.Command {
	var output, platform string
	return &cli.Command{
		Name:      "push",
		Usage:     "push an image to the local registry",
		ArgsUsage: "SRC NAME[:TAG]",
		Description: "SRC is a docker-archive tarball (docker save), an OCI image layout directory, or — when a Docker\n" +
			"engine is available — an image name in the local Docker daemon. NAME[:TAG] is the repository in the\n" +
			"local registry (tag defaults to latest). Layers the registry already has are not uploaded again.\n" +
			"Of a multi-platform image only the cluster's platform is pushed (linux and this host's architecture,\n" +
			"as kind's and minikube's nodes run; --platform names another, --platform all pushes every one).\n\n" +
			"Example: devcluster registry push ./app.tar myapp:dev   → pods use image localhost:5001/myapp:dev",
		Flags: append(append([]cli.Flag(nil), common...), outputFlag(&output),
			&cli.StringFlag{Name: "platform", Usage: "`OS/ARCH[/VARIANT]` to push of a multi-platform image, or all", DefaultText: registry.ClusterPlatform().String(), Destination: &platform}),
		Action: func(c *cli.Context) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			want, err := pushPlatform(platform)
			if err != nil {
				return err
			}
			if c.NArg() != 2 {
				return problem.New(problem.Usage, "", fmt.Errorf("registry push takes SRC and NAME[:TAG], got %d argument(s)", c.NArg()),
					"for example: devcluster registry push ./app.tar myapp:dev")
			}
			src, target := c.Args().Get(0), c.Args().Get(1)
			t, err := g.registryTarget(c, *name, *address)
			if err != nil {
				return err
			}
			p := g.printer()
			defer p.Close()
			p.Start(fmt.Sprintf("Pushing %s to %s/%s", src, t.host, target))
			source, cleanup, err := g.openSource(c.Context, src, want)
			if err != nil {
				return err
			}
			defer cleanup()
			if want != nil {
				if source, err = source.ForPlatform(*want); err != nil {
					return problem.New(problem.Usage, "", err, "give --platform with one the image has, or --platform all to push every one")
				}
			}
			updates := make(chan v1.Update, 16)
			reported := make(chan struct{})
			go func() {
				defer close(reported)
				report, start := progressLines(p, "pushing "+target), time.Now()
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
				// The channel closes once everything is written; its updates
				// may stop short of the last read.
				if !failed && last.Total > 0 {
					report(install.Progress{Attempt: 1, Done: last.Total, Total: last.Total, Elapsed: time.Since(start), Final: true})
				}
			}()
			res, err := registry.Push(c.Context, source, t.host, target, updates)
			<-reported
			if err != nil {
				return problem.New(problem.Failed, "pushing "+src, err, "is the registry running? `devcluster status` shows it")
			}
			p.End(true, res.Digest)
			if isData(output) {
				return writeData(g.env.Stdout, output, res)
			}
			fmt.Fprintf(g.env.Stdout, "Pushed %s (%s).\n", res.Reference, res.Digest)
			return nil
		},
	}
}

// pushPlatform parses --platform: nil for all, the cluster's by default.
func pushPlatform(flag string) (*v1.Platform, error) {
	switch flag {
	case "all":
		return nil, nil
	case "":
		p := registry.ClusterPlatform()
		return &p, nil
	}
	p, err := v1.ParsePlatform(flag)
	if err != nil || p.OS == "" || p.Architecture == "" {
		return nil, problem.New(problem.Usage, "", fmt.Errorf("--platform %q is not OS/ARCH[/VARIANT] or all", flag), "for example: --platform linux/arm64")
	}
	return p, nil
}

// dockerSave writes the image src of the local Docker engine to file with
// `docker save`: only the platform's image when the engine can tell
// platforms apart (API 1.48, Docker 28, with the containerd image store,
// which can hold several); an older engine holds one platform per image
// and refuses the flag, so it is asked again without it.
func (g *globals) dockerSave(ctx context.Context, src, file string, platform *v1.Platform) error {
	args := []string{"save", "-o", file, src}
	if platform != nil {
		_, err := g.env.Runner.Run(ctx, run.Cmd{Name: "docker", Args: []string{"save", "--platform", platform.String(), "-o", file, src}})
		var re *run.Error
		if err == nil || !errors.As(err, &re) || !strings.Contains(string(re.Stderr), "requires API version") && !strings.Contains(string(re.Stderr), "unknown flag: --platform") {
			return err
		}
	}
	_, err := g.env.Runner.Run(ctx, run.Cmd{Name: "docker", Args: args})
	return err
}

// openSource opens a tarball or OCI layout (a path relative to the working
// directory; ~/ is the home directory), or saves an image from the local
// Docker daemon through `docker save`. A source that looks like a path and
// does not exist is "no such file", not an image name.
func (g *globals) openSource(ctx context.Context, src string, platform *v1.Platform) (*registry.Source, func(), error) {
	path := src
	if rest, ok := strings.CutPrefix(src, "~/"); ok {
		if home := paths.Home(paths.Env(g.env.LookupEnv)); home != "" {
			path = filepath.Join(home, rest)
		}
	}
	if !filepath.IsAbs(path) {
		path = filepath.Join(g.env.Dir, path)
	}
	const fix = "give a `docker save` tarball or an OCI image layout directory, or the name of an image in the local Docker engine (myapp:dev)"
	switch _, err := os.Stat(path); {
	case err == nil:
		s, err := registry.OpenSource(path)
		if err != nil {
			return nil, func() {}, problem.New(problem.Usage, "", err, "give a `docker save` tarball or an OCI image layout directory")
		}
		return s, func() {}, nil
	case !errors.Is(err, fs.ErrNotExist):
		return nil, func() {}, problem.New(problem.Usage, "", fmt.Errorf("reading %s: %w", src, err), fix)
	case paths.LooksLikePath(src, g.env.Dir):
		return nil, func() {}, problem.New(problem.Usage, "", fmt.Errorf("%s: no such file or directory", src), fix)
	}
	dir, err := os.MkdirTemp("", "devcluster-push-")
	if err != nil {
		return nil, func() {}, err
	}
	cleanup := func() { _ = os.RemoveAll(dir) }
	tar := filepath.Join(dir, "image.tar")
	if err := g.dockerSave(ctx, src, tar, platform); err != nil {
		cleanup()
		if run.IsNotFound(err) {
			return nil, func() {}, problem.New(problem.Usage, "", fmt.Errorf("%q is not a file or directory, and there is no docker command to read it from a Docker engine", src),
				"give a `docker save` tarball or an OCI image layout directory")
		}
		return nil, func() {}, problem.New(problem.Failed, fmt.Sprintf("reading %q from the Docker engine", src), err, "check the image name with `docker images`")
	}
	s, err := registry.OpenSource(tar)
	if err != nil {
		cleanup()
		return nil, func() {}, err
	}
	s.Desc = "docker image " + src
	return s, cleanup, nil
}

func newRegistryGCCommand(g *globals, name *string) *cli.Command {
	var o bootstrap.GCOptions
	var output string
	return &cli.Command{
		Name:  "gc",
		Usage: "delete unreferenced blobs (stops the agent's registry while it runs)",
		Description: "Distribution's garbage collector is stop-the-world: gc stops the agent if it runs, marks and sweeps\n" +
			"the storage while holding the data directory's lock, and starts the agent again with all its previous\n" +
			"settings (registry addresses and LoadBalancer controller). It refuses while another registry (such as\n" +
			"`devcluster registry serve`) uses the same directory.",
		Flags: []cli.Flag{
			nameFlag(name), providerFlag(), contextFlag(), outputFlag(&output),
			&cli.BoolFlag{Name: "delete-untagged", Usage: "also delete manifests no tag points to", Destination: &o.RemoveUntagged},
			&cli.BoolFlag{Name: "dry-run", Usage: "only report what would be deleted", Destination: &o.DryRun},
		},
		Action: func(c *cli.Context) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			if err := noArgs(c); err != nil {
				return err
			}
			cfg, err := g.clusterConfig(c, *name, true)
			if err != nil {
				return err
			}
			if g.verbose {
				o.Log = g.env.Stderr
			}
			defer g.printer().Close()
			res, err := bootstrap.CollectGarbage(c.Context, g.clusterDeps(cfg), cfg, o)
			if err != nil {
				return err
			}
			if isData(output) {
				return writeData(g.env.Stdout, output, res)
			}
			if !g.quiet {
				printGC(g.env.Stdout, res)
			}
			return nil
		},
	}
}

// printGC lists what a collection deleted (would delete, in a dry run)
// and the storage's size.
func printGC(w io.Writer, res *bootstrap.GCResult) {
	verb := "Deleted"
	if res.DryRun {
		verb = "Would delete"
	}
	if len(res.Manifests)+len(res.Blobs) == 0 {
		fmt.Fprintf(w, "Nothing to delete. Registry storage: %s.\n", bootstrap.HumanBytes(res.BytesAfter))
		return
	}
	fmt.Fprintf(w, "%s %s, %s:\n", verb, bootstrap.GCCounts(res.GCResult), bootstrap.HumanBytes(res.Bytes))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, m := range res.Manifests {
		fmt.Fprintf(tw, "  manifest\t%s@%s\t%s\n", m.Repository, m.Digest, bootstrap.HumanBytes(m.Size))
	}
	for _, b := range res.Blobs {
		fmt.Fprintf(tw, "  blob\t%s\t%s\n", b.Digest, bootstrap.HumanBytes(b.Size))
	}
	_ = tw.Flush()
	if res.DryRun {
		fmt.Fprintf(w, "Registry storage: %s; nothing was deleted (dry run).\n", bootstrap.HumanBytes(res.BytesBefore))
		return
	}
	fmt.Fprintf(w, "Registry storage: %s before, %s after.\n", bootstrap.HumanBytes(res.BytesBefore), bootstrap.HumanBytes(res.BytesAfter))
}

func newRegistryServeCommand(g *globals) *cli.Command {
	var name, dataDir string
	var listen cli.StringSlice
	return &cli.Command{
		Name:  "serve",
		Usage: "run the registry in the foreground (Ctrl-C stops it)",
		Flags: []cli.Flag{
			nameFlag(&name), providerFlag(), contextFlag(),
			&cli.StringFlag{Name: "data-dir", Usage: "storage `DIR`", DefaultText: "the cluster's registry data directory", Destination: &dataDir},
			&cli.StringSliceFlag{Name: "listen", Usage: "`HOST:PORT` to listen on (repeatable)", DefaultText: "127.0.0.1:<registry port>", Destination: &listen},
		},
		Action: func(c *cli.Context) error {
			t, err := g.registryTarget(c, name, "")
			if err != nil {
				return err
			}
			if dataDir == "" {
				dataDir = t.dataDir
			}
			addrs := listen.Value()
			if len(addrs) == 0 {
				addrs = []string{net.JoinHostPort("127.0.0.1", strconv.Itoa(t.cfg.Registry.Port))}
			}
			srv, err := registry.New(c.Context, registry.Options{DataDir: dataDir, Listen: addrs, Log: g.env.Stderr, Verbose: g.verbose,
				Holder: registry.ServeHolder})
			if err != nil {
				fix := "pick a free port with --listen"
				if errors.Is(err, registry.ErrLocked) {
					fix = "stop the other registry first, or serve another directory with --data-dir"
				}
				return problem.New(problem.Failed, "starting the registry", err, fix)
			}
			fmt.Fprintf(g.env.Stderr, "Serving the registry on %s (data in %s). Ctrl-C stops it.\n", strings.Join(srv.Addrs(), ", "), dataDir)
			if err := srv.Serve(c.Context); err != nil {
				return problem.New(problem.Failed, "serving the registry", err, "")
			}
			return nil
		},
	}
}

// newAgentCommand is the hidden command the agent process runs.
func newAgentCommand(g *globals) *cli.Command {
	var s agent.Spec
	var listen, mirrors cli.StringSlice
	return &cli.Command{
		Name:   "agent",
		Usage:  "run the background agent (started by `devcluster up`)",
		Hidden: true,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "name", Required: true, Destination: &s.Name},
			&cli.StringFlag{Name: "state-dir", Required: true, Destination: &s.StateDir},
			&cli.StringFlag{Name: "data-dir", Destination: &s.DataDir},
			&cli.StringSliceFlag{Name: "listen", Required: true, Destination: &listen},
			&cli.StringFlag{Name: "lb-ip", Destination: &s.LB.NodeIP},
			&cli.StringFlag{Name: "lb-address", Destination: &s.LB.Address},
			&cli.StringFlag{Name: "context", Destination: &s.LB.Context},
			&cli.StringFlag{Name: "kubeconfig", Destination: &s.LB.Kubeconfig},
			&cli.StringFlag{Name: "mirror-store", Destination: &s.Mirrors.Store},
			&cli.DurationFlag{Name: "mirror-ttl", Destination: &s.Mirrors.TTL},
			&cli.StringSliceFlag{Name: "mirror", Destination: &mirrors},
		},
		Action: func(c *cli.Context) error {
			s.Listen = listen.Value()
			for _, m := range mirrors.Value() {
				mi, err := agent.ParseMirror(m)
				if err != nil {
					return err
				}
				s.Mirrors.Mirrors = append(s.Mirrors.Mirrors, mi)
			}
			s.Mirrors.Helper = selfExecutable()
			s.Verbose = g.verbose
			// The identity `up` compares to reuse this agent.
			return agent.Run(c.Context, s, g.env.Stderr, agent.BuildVersion(Version, selfExecutable()), nil)
		},
	}
}

// selfExecutable is devcluster's own executable, which runs the agent.
func selfExecutable() string {
	exe, err := os.Executable()
	if err != nil {
		return os.Args[0]
	}
	return exe
}
