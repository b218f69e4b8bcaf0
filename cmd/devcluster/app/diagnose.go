package app

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/devcluster/devcluster/bootstrap"
	"github.com/devcluster/devcluster/config"
	"github.com/devcluster/devcluster/internal/problem"
	"github.com/devcluster/devcluster/internal/ui"
)

// diagnosticsFlag is --diagnostics-dir.
func diagnosticsFlag(dst *string) cli.Flag {
	return &cli.StringFlag{Name: "diagnostics-dir", Value: "devcluster-diagnostics",
		Usage: "where a failure's diagnostics bundle is written (relative to the working directory; a previous bundle there is replaced)", Destination: dst}
}

func newDiagnoseCommand(g *globals) *cli.Command {
	var name, dir, kctx, namespace, output string
	return &cli.Command{
		Name:      "diagnose",
		Usage:     "write a diagnostics bundle: provider and agent logs, nodes, workloads, pods, events, container logs",
		ArgsUsage: "[KIND/NAME…]",
		Description: "diagnose writes what you need to understand a broken cluster or rollout into one directory, ready for\n" +
			"artifact_paths (Buildkite) or actions/upload-artifact (GitHub): summary, provider logs, the kubeconfig of the\n" +
			"context in use with every credential redacted, YAML of nodes, workloads, ReplicaSets and pods (literal env\n" +
			"values redacted), their events, the last 200 log lines of every container of every pod that is not ready,\n" +
			"the agent's log and status, the registry catalog and the nodes' hosts.toml. Secrets are never read.\n\n" +
			"Name workloads as KIND/NAME (deployment/web, sts/db, ds/agent; --namespace). With none, the bundle holds\n" +
			"every workload of devcluster's own cluster, but on a cluster devcluster did not create (provider existing)\n" +
			"only devcluster's own objects and the configuration's manifests: never another team's workloads.\n\n" +
			"The bundle is a new directory (0700, files 0600); a previous bundle in --dir is replaced, anything else\n" +
			"there is refused. `up` and `deploy` write it by themselves when they fail.",
		Flags: []cli.Flag{nameFlag(&name), outputFlag(&output), providerFlag(),
			&cli.StringFlag{Name: "dir", Value: "devcluster-diagnostics", Usage: "the bundle's `DIR` (a previous bundle there is replaced)", Destination: &dir},
			&cli.StringFlag{Name: "namespace", Usage: "`NAMESPACE` of the workloads named (default: the context's)", Destination: &namespace},
			&cli.StringFlag{Name: "context", Usage: "kubeconfig `CONTEXT` to read (default: the cluster's; with --provider existing, the cluster's context)", Destination: &kctx}},
		Action: func(c *cli.Context) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			ws, err := bootstrap.ParseWorkloads("diagnose", c.Args().Slice(), namespace)
			if err != nil {
				return err
			}
			cfg, err := g.clusterConfig(c, name, config.ExternalProvider(c.String("provider")))
			if err != nil {
				return err
			}
			if strings.TrimSpace(dir) == "" {
				return problem.New(problem.Usage, "", errors.New("--dir is empty"), "give the bundle's directory, for example --dir devcluster-diagnostics")
			}
			if !filepath.IsAbs(dir) {
				dir = filepath.Join(g.env.Dir, dir)
			}
			res, err := bootstrap.Diagnose(c.Context, g.clusterDeps(cfg), cfg, bootstrap.DiagnoseOptions{Dir: dir, Context: kctx, Workloads: ws, Namespace: namespace})
			if err != nil {
				return err
			}
			if isData(output) {
				return writeData(g.env.Stdout, output, res)
			}
			fmt.Fprintf(g.env.Stdout, "Diagnostics written to %s (%d files).\n", g.displayPath(res.Dir), len(res.Files))
			for _, p := range res.Problems {
				fmt.Fprintf(g.env.Stdout, "  not collected: %s\n", ui.Clean(p))
			}
			return nil
		},
	}
}
