package app

import (
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/devcluster/devcluster/bootstrap"
	"github.com/devcluster/devcluster/config"
	"github.com/devcluster/devcluster/internal/paths"
)

func newDownCommand(g *globals) *cli.Command {
	var name, output string
	var purge bool
	return &cli.Command{
		Name:  "down",
		Usage: "stop the registry agent and delete the cluster",
		Description: "down stops the cluster's background agent and deletes the cluster (the minikube profile or the kind\n" +
			"cluster) and its kubeconfig context.\n" +
			"Deleting a cluster that does not exist succeeds. The registry's images are kept (they survive down and\n" +
			"up --recreate) unless --purge is given.\n\n" +
			"On a cluster devcluster did not create (provider existing) the cluster stays: down removes only the\n" +
			"objects devcluster put there and labelled as its own (kube-public/local-registry-hosting, the samples'\n" +
			"namespace).",
		Flags: []cli.Flag{nameFlag(&name), providerFlag(), contextFlag(), outputFlag(&output),
			&cli.BoolFlag{Name: "purge", Usage: "also delete the registry's data and the agent's state", Destination: &purge}},
		Action: func(c *cli.Context) error {
			cfg, err := g.clusterCommand(c, output, name, true)
			if err != nil {
				return err
			}
			defer g.printer().Close()
			home := paths.Home(paths.Env(g.env.LookupEnv))
			res, err := bootstrap.Down(c.Context, g.clusterDeps(cfg), cfg, bootstrap.DownOptions{Purge: purge, Protect: []string{g.env.Dir, home}})
			if err != nil {
				return err
			}
			if isData(output) {
				return writeData(g.env.Stdout, output, res)
			}
			switch {
			case config.ExternalProvider(cfg.Provider):
				fmt.Fprintf(g.env.Stdout, "The cluster of context %q is left as it is.\n", cfg.Context)
				if len(res.Removed) > 0 {
					fmt.Fprintf(g.env.Stdout, "Removed devcluster's %s.\n", strings.Join(res.Removed, ", "))
				}
				for _, l := range res.Left {
					fmt.Fprintf(g.env.Stdout, "Left %s.\n", l)
				}
			case res.Deleted:
				fmt.Fprintf(g.env.Stdout, "Cluster %q deleted.\n", cfg.Name)
			default:
				fmt.Fprintf(g.env.Stdout, "Cluster %q does not exist; nothing to delete.\n", cfg.Name)
			}
			switch {
			case res.KeptReason != "":
				fmt.Fprintf(g.env.Stdout, "Registry data kept in %s: %s\n", res.Kept, res.KeptReason)
			case res.Kept != "":
				fmt.Fprintf(g.env.Stdout, "Registry data kept in %s (devcluster down --purge deletes it).\n", res.Kept)
			}
			return nil
		},
	}
}
