package app

import (
	"fmt"
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
