package app

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/devcluster/devcluster/bootstrap"
	"github.com/devcluster/devcluster/config"
)

// registryEndpoint is the registry a `registry` subcommand talks to:
// --address, else the running agent's, else loopback at the configured
// port.
func (g *globals) registryEndpoint(c *cli.Context, name, address string) (*config.Config, *bootstrap.RegistryEndpoint, error) {
	cfg, err := g.clusterConfig(c, name, true)
	if err != nil {
		return nil, nil, err
	}
	e, err := bootstrap.FindRegistry(c.Context, g.common(), cfg, address)
	return cfg, e, err
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
			_, t, err := g.registryEndpoint(c, *name, *address)
			if err != nil {
				return err
			}
			repos, err := bootstrap.ListRegistry(c.Context, t.Host)
			if err != nil {
				return err
			}
			if isData(output) {
				return writeData(g.env.Stdout, output, repos)
			}
			if len(repos) == 0 {
				fmt.Fprintf(g.env.Stdout, "No repositories at %s.\n", t.Host)
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
				// Distribution's lines go through the printer, as
				// registry serve's do.
				log := &logLines{p: g.printer()}
				defer log.flush()
				o.Log = log
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
