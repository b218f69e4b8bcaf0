package app

import (
	"fmt"
	"io"

	"github.com/urfave/cli/v2"

	"github.com/devcluster/devcluster/bootstrap"
)

func newStopCommand(g *globals) *cli.Command {
	var name, output string
	return &cli.Command{
		Name:  "stop",
		Usage: "stop the cluster and its agent, keeping both (up resumes them)",
		Description: "stop stops the cluster's nodes, so they free their CPU and memory, and the cluster's background agent\n" +
			"(the registry and the LoadBalancer controller). The cluster, its workloads and the registry's images are\n" +
			"kept: `devcluster up` starts it again, waits for it, and starts the agent. minikube: `minikube stop`;\n" +
			"kind: the node containers are stopped (`docker stop`). Stopping a stopped cluster succeeds; a cluster\n" +
			"devcluster did not create (provider existing, or a kind cluster without devcluster's record) is refused.",
		Flags: []cli.Flag{nameFlag(&name), providerFlag(), contextFlag(), outputFlag(&output)},
		Action: func(c *cli.Context) error {
			cfg, err := g.clusterCommand(c, output, name, true)
			if err != nil {
				return err
			}
			defer g.printer().Close()
			res, err := bootstrap.Stop(c.Context, g.clusterDeps(cfg), cfg)
			if err != nil {
				return err
			}
			return g.output(output, res, func(w io.Writer) {
				if res.Stopped {
					fmt.Fprintf(w, "Cluster %q stopped; `devcluster up` resumes it.\n", res.Name)
				} else {
					fmt.Fprintf(w, "Cluster %q is stopped already.\n", res.Name)
				}
			})
		},
	}
}
