package app

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/devcluster/devcluster/bootstrap"
)

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
