package app

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/devcluster/devcluster/bootstrap"
	"github.com/devcluster/devcluster/internal/text"
	"github.com/devcluster/devcluster/provider/providers"
)

func newStatusCommand(g *globals) *cli.Command {
	var name, output string
	return &cli.Command{
		Name:  "status",
		Usage: "show the cluster's state (exit code 3 when it is not running)",
		Description: "status reads the cluster's state without changing anything: provider state, node IP, Kubernetes\n" +
			"version, CPUs and memory, and whether the API server answers. -o json prints the same as a JSON object.",
		Flags: []cli.Flag{nameFlag(&name), providerFlag(), contextFlag(), outputFlag(&output)},
		Action: func(c *cli.Context) error {
			cfg, err := g.clusterCommand(c, output, name, true)
			if err != nil {
				return err
			}
			res, err := bootstrap.Status(c.Context, g.clusterDeps(cfg), cfg)
			if err != nil {
				return err
			}
			if isData(output) {
				if err := writeData(g.env.Stdout, output, res); err != nil {
					return err
				}
			} else {
				g.printText(func(w io.Writer) { printStatus(w, res) })
			}
			return bootstrap.StatusError(res)
		},
	}
}

func printStatus(w io.Writer, r *bootstrap.Result) {
	c := r.Cluster
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "CLUSTER\t%s\n", c.Name)
	fmt.Fprintf(tw, "PROVIDER\t%s\n", strings.TrimSpace(c.Provider+" "+c.ProviderVersion))
	fmt.Fprintf(tw, "STATE\t%s\n", bootstrap.Describe(c))
	if c.Foreign != "" {
		fmt.Fprintf(tw, "ORIGIN\tnot created by devcluster (%s): up and down refuse it; use --provider existing --context %s\n", c.Foreign, c.KubeContext)
	}
	serverVersion := ""
	if r.Kubernetes != nil {
		serverVersion = r.Kubernetes.ServerVersion
	}
	for _, row := range providers.Rows(c, serverVersion) {
		fmt.Fprintf(tw, "%s\t%s\n", row.Key, row.Value)
	}
	if reg := r.Registry; reg != nil {
		state := "agent not running"
		if reg.Agent != nil && reg.Agent.Running {
			state = fmt.Sprintf("running (pid %d) on %s", reg.Agent.PID, strings.Join(reg.Agent.Listen, ", "))
		} else if reg.Agent != nil && reg.Agent.Detail != "" {
			state = "agent " + reg.Agent.Detail
		}
		fmt.Fprintf(tw, "REGISTRY\t%s\n", state)
		fmt.Fprintf(tw, "REGISTRY HOSTS\tpush %s, cluster pulls from %s\n", reg.Host, orDash(reg.ClusterHost))
		repos := "-"
		if reg.Repositories != nil {
			repos = strconv.Itoa(*reg.Repositories)
		}
		fmt.Fprintf(tw, "REGISTRY DATA\t%s (%s, %s repositories)\n", reg.DataDir, bootstrap.HumanBytes(reg.SizeBytes), repos)
	}
	if k := r.Kubernetes; k != nil {
		defer printLoadBalancers(w, r.LoadBalancers)
		api := "not ready: " + k.Detail
		if k.Ready {
			api = "ready: " + k.Detail
		}
		fmt.Fprintf(tw, "CONTEXT\t%s (%s)\n", k.Context, orDash(k.Server))
		fmt.Fprintf(tw, "API\t%s\n", api)
	}
	_ = tw.Flush()
}

// orDash is the shared dash helper under the name this package's tables use.
var orDash = text.OrDash
