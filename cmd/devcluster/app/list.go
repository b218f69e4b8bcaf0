package app

import (
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/devcluster/devcluster/bootstrap"
	"github.com/devcluster/devcluster/config"
	"github.com/devcluster/devcluster/internal/paths"
	"github.com/devcluster/devcluster/internal/problem"
	"github.com/devcluster/devcluster/provider"
)

func newListCommand(g *globals) *cli.Command {
	var output string
	return &cli.Command{
		Name:    "list",
		Aliases: []string{"ls"},
		Usage:   "list the clusters devcluster knows on this machine, with their state, registry and agent",
		Description: "list shows every cluster `devcluster up` made or used on this machine and `devcluster down` has not\n" +
			"removed (devcluster's state directory, $XDG_STATE_HOME/devcluster): its provider, its state now, the\n" +
			"registry's port and whether its agent runs. A cluster deleted outside devcluster shows as Absent.",
		Flags: []cli.Flag{outputFlag(&output)},
		Action: func(c *cli.Context) error {
			if err := resultCommand(c, output); err != nil {
				return err
			}
			root, err := paths.For(paths.Env(g.env.LookupEnv), "")
			if err != nil {
				return problem.New(problem.Failed, "locating devcluster's state directory", err, "set HOME or XDG_STATE_HOME")
			}
			list, err := bootstrap.List(c.Context, bootstrap.ListDeps{Root: root.State, Agent: g.common().Agent, Provider: func(rec bootstrap.ClusterRecord) provider.Provider {
				// The context is what provider existing reads; the others
				// name their own.
				return g.clusterDeps(&config.Config{Name: rec.Name, Provider: rec.Provider, Context: rec.KubeContext}).Provider
			}})
			if err != nil {
				return problem.New(problem.Failed, "listing the clusters", err, "")
			}
			return g.output(output, list, func(w io.Writer) { printList(w, list) })
		},
	}
}

func printList(w io.Writer, list []bootstrap.ListedCluster) {
	if len(list) == 0 {
		fmt.Fprintln(w, "No clusters: `devcluster up` creates one.")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tPROVIDER\tSTATE\tCONTEXT\tREGISTRY\tAGENT")
	for _, l := range list {
		reg := "-"
		if l.RegistryPort != 0 {
			reg = "localhost:" + strconv.Itoa(l.RegistryPort)
		}
		agent := "stopped"
		if l.Agent != nil && l.Agent.Running {
			agent = fmt.Sprintf("running (pid %d)", l.Agent.PID)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", l.Name, l.Provider, l.State, orDash(l.KubeContext), reg, agent)
	}
	_ = tw.Flush()
}
