package app

import (
	"fmt"
	"text/tabwriter"

	"github.com/devcluster/devcluster/bootstrap"
	"github.com/urfave/cli/v2"
)

func newLBCommand(g *globals) *cli.Command {
	var name, output string
	var watch bool
	return &cli.Command{
		Name:  "lb",
		Usage: "give LoadBalancer Services the cluster's IP now (--watch: keep doing it in the foreground)",
		Description: "The agent started by `up` does this in the background. `lb` is for CI jobs and setups without the\n" +
			"agent: it writes one IP into the status of every Service of type LoadBalancer that has no\n" +
			"loadBalancerClass and no IP from another implementation, once, and exits; with --watch it runs the\n" +
			"controller until interrupted. Ports that would take over the node's own (22, 6443, 8443, 10250, ...) are\n" +
			"refused with a Warning event.\n\n" +
			"The IP is loadBalancer.ip of devcluster.yaml when it is set, else the provider's node IP:\n" +
			"  minikube   the node's IP (`minikube ip`)\n" +
			"  kind       the control-plane container's IP on the kind network (`docker inspect`)\n" +
			"  existing   none: a cluster devcluster did not create needs loadBalancer.ip, an IP that reaches its nodes",
		Flags: []cli.Flag{nameFlag(&name), providerFlag(), contextFlag(), outputFlag(&output),
			&cli.BoolFlag{Name: "watch", Aliases: []string{"w"}, Usage: "keep assigning as Services change, until interrupted", Destination: &watch}},
		Action: func(c *cli.Context) error {
			cfg, err := g.clusterCommand(c, output, name, true)
			if err != nil {
				return err
			}
			p := g.printer()
			res, err := bootstrap.AssignLoadBalancers(c.Context, g.clusterDeps(cfg), cfg, bootstrap.LBOptions{
				Watch: watch,
				Log:   func(f string, a ...any) { p.Info(fmt.Sprintf(f, a...)) },
				Watching: func(ip string) {
					p.Info(fmt.Sprintf("Assigning %s to LoadBalancer Services in %q; Ctrl-C stops.", ip, cfg.Name))
				},
			})
			if err != nil || watch {
				return err
			}
			if isData(output) {
				return writeData(g.env.Stdout, output, res.Assignments)
			}
			if len(res.Assignments) == 0 {
				fmt.Fprintln(g.env.Stdout, "No Services of type LoadBalancer.")
				return nil
			}
			tw := tabwriter.NewWriter(g.env.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "SERVICE\tACTION\tIP\tDETAIL")
			for _, r := range res.Assignments {
				fmt.Fprintf(tw, "%s/%s\t%s\t%s\t%s\n", r.Namespace, r.Name, r.Action, orDash(r.IP), r.Reason)
			}
			return tw.Flush()
		},
	}
}
