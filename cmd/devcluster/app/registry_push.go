package app

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/devcluster/devcluster/bootstrap"
	"github.com/devcluster/devcluster/image"
	"github.com/devcluster/devcluster/internal/paths"
	"github.com/devcluster/devcluster/internal/problem"
)

func newRegistryPushCommand(g *globals, common []cli.Flag, name, address *string) *cli.Command {
	var output, platform string
	return &cli.Command{
		Name:      "push",
		Usage:     "push an image to the local registry",
		ArgsUsage: "SRC NAME[:TAG]",
		Description: "SRC is a docker-archive tarball (docker save), an OCI image layout directory, or — when a Docker\n" +
			"engine is available — an image name in the local Docker daemon. NAME[:TAG] is the repository in the\n" +
			"local registry (tag defaults to latest). Layers the registry already has are not uploaded again.\n" +
			"Of a multi-platform image only the cluster's platform is pushed (linux and this host's architecture,\n" +
			"as kind's and minikube's nodes run; --platform names another, --platform all pushes every one).\n\n" +
			"Example: devcluster registry push ./app.tar myapp:dev   → pods use image localhost:5001/myapp:dev",
		Flags: append(append([]cli.Flag(nil), common...), outputFlag(&output),
			&cli.StringFlag{Name: "platform", Usage: "`OS/ARCH[/VARIANT]` to push of a multi-platform image, or all", DefaultText: bootstrap.ClusterPlatform().String(), Destination: &platform}),
		Action: func(c *cli.Context) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			want, err := image.ParsePlatform(platform)
			if err != nil {
				return err
			}
			if c.NArg() != 2 {
				return problem.New(problem.Usage, "", fmt.Errorf("registry push takes SRC and NAME[:TAG], got %d argument(s)", c.NArg()),
					"for example: devcluster registry push ./app.tar myapp:dev")
			}
			src, target := c.Args().Get(0), c.Args().Get(1)
			_, t, err := g.registryEndpoint(c, *name, *address)
			if err != nil {
				return err
			}
			p := g.printer()
			defer p.Close()
			p.Start(fmt.Sprintf("Pushing %s to %s/%s", src, t.Host, target))
			res, err := bootstrap.Push(c.Context, t.Host, bootstrap.PushOptions{Source: src, Target: target, Progress: progressLines(p, "pushing "+target),
				Read: image.ReadOptions{Dir: g.env.Dir, Home: paths.Home(paths.Env(g.env.LookupEnv)), Platform: want, Runner: g.env.Runner}})
			if err != nil {
				return err
			}
			p.End(true, res.Digest)
			if isData(output) {
				return writeData(g.env.Stdout, output, res)
			}
			fmt.Fprintf(g.env.Stdout, "Pushed %s (%s).\n", res.Reference, res.Digest)
			return nil
		},
	}
}
