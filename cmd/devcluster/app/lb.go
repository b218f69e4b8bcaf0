package app

import (
	"fmt"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/devcluster/devcluster/internal/problem"
	"github.com/devcluster/devcluster/loadbalancer"
	"github.com/devcluster/devcluster/provider"
)

func newLBCommand(g *globals) *cli.Command {
	var name, output string
	var watch bool
	return &cli.Command{
		Name:  "lb",
		Usage: "give LoadBalancer Services the node's IP now (--watch: keep doing it in the foreground)",
		Description: "The agent started by `up` does this in the background. `lb` is for CI jobs and setups without the\n" +
			"agent: it assigns the node IP (`minikube ip`) to every Service of type LoadBalancer that has no\n" +
			"loadBalancerClass and no IP from another implementation, once, and exits; with --watch it runs the\n" +
			"controller until interrupted. Ports that would take over the node's own (22, 6443, 8443, 10250, ...) are\n" +
			"refused with a Warning event.",
		Flags: []cli.Flag{configFlag(g), nameFlag(&name), outputFlag(&output),
			&cli.BoolFlag{Name: "watch", Aliases: []string{"w"}, Usage: "keep assigning as Services change, until interrupted", Destination: &watch}},
		Action: func(c *cli.Context) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			if err := noArgs(c); err != nil {
				return err
			}
			cfg, err := g.clusterConfig(c, name)
			if err != nil {
				return err
			}
			deps := g.deps()
			if _, err := deps.Provider.EnsureInstalled(c.Context); err != nil {
				return err
			}
			have, err := deps.Provider.Get(c.Context, cfg.Name)
			if err != nil {
				return err
			}
			if have.State != provider.Running {
				return problem.New(problem.NotRunning, "", fmt.Errorf("cluster %q is %s", cfg.Name, have.State), "run `devcluster up`")
			}
			ip := cfg.LoadBalancer.IP
			if ip == "" {
				if ip, err = deps.Provider.IP(c.Context, cfg.Name); err != nil {
					return err
				}
			}
			clients, err := deps.Kube(have.KubeContext)
			if err != nil {
				return problem.New(problem.Failed, "connecting to the cluster", err, "")
			}
			p := g.printer()
			ctl := loadbalancer.New(clients.Kube, ip, func(f string, a ...any) { p.Info(fmt.Sprintf(f, a...)) })
			if watch {
				fmt.Fprintf(g.env.Stderr, "Assigning %s to LoadBalancer Services in %q; Ctrl-C stops.\n", ip, cfg.Name)
				return ctl.Run(c.Context, 2)
			}
			res, err := ctl.SyncOnce(c.Context)
			if err != nil {
				return problem.New(problem.Failed, "assigning LoadBalancer IPs", err, "")
			}
			if output == "json" {
				return writeJSON(g.env.Stdout, res)
			}
			if len(res) == 0 {
				fmt.Fprintln(g.env.Stdout, "No Services of type LoadBalancer.")
				return nil
			}
			tw := tabwriter.NewWriter(g.env.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "SERVICE\tACTION\tIP\tDETAIL")
			for _, r := range res {
				fmt.Fprintf(tw, "%s/%s\t%s\t%s\t%s\n", r.Namespace, r.Name, r.Action, orDash(r.IP), r.Reason)
			}
			return tw.Flush()
		},
	}
}
