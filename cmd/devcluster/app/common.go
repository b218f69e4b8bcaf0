package app

import (
	"github.com/urfave/cli/v2"

	"github.com/devcluster/devcluster/bootstrap"
	"github.com/devcluster/devcluster/config"
	"github.com/devcluster/devcluster/internal/ui"
)

// clusterCommand is the common start of a command that addresses a
// cluster and takes no arguments: it checks -o and the arguments, then
// loads the cluster's configuration (see clusterConfig for
// clusterContext).
func (g *globals) clusterCommand(c *cli.Context, output, name string, clusterContext bool) (*config.Config, error) {
	if err := resultCommand(c, output); err != nil {
		return nil, err
	}
	return g.clusterConfig(c, name, clusterContext)
}

// resultCommand is the common start of a command that takes no arguments
// and prints a result: it checks -o and the arguments.
func resultCommand(c *cli.Context, output string) error {
	if err := checkOutput(output); err != nil {
		return err
	}
	return noArgs(c)
}

// clusterConfig loads the configuration for commands that only address a
// cluster: the name is --name, else the config file's, else the default.
// --provider is the provider; --context is the context of provider
// existing when clusterContext (diagnose's --context is the context to
// read, the cluster's only with provider existing).
func (g *globals) clusterConfig(c *cli.Context, flag string, clusterContext bool) (*config.Config, error) {
	o := config.Overrides{}
	if c.IsSet("name") {
		o.Name = &flag
	}
	for _, f := range []struct {
		name string
		dst  **string
	}{{"provider", &o.Provider}, {"context", &o.Context}} {
		if f.name == "context" && !clusterContext {
			continue
		}
		if c.IsSet(f.name) {
			v := c.String(f.name)
			*f.dst = &v
		}
	}
	return g.loadConfig(c.Context, o)
}

// providerFlag is --provider: the cluster's provider.
func providerFlag() cli.Flag {
	return &cli.StringFlag{Name: "provider", Usage: "`PROVIDER` of the cluster: minikube, kind, or existing (a kubeconfig context devcluster did not create)",
		DefaultText: fromFile("provider", config.DefaultProvider)}
}

// contextFlag is --context: the kubeconfig context of a cluster of provider
// existing.
func contextFlag() cli.Flag {
	return &cli.StringFlag{Name: "context", Usage: "kubeconfig `CONTEXT` of an existing cluster (provider existing)", DefaultText: fromFile("context", "")}
}

// fromFile is the default text of a flag that overrides a setting of
// devcluster.yaml: the setting, else the built-in default (if any).
func fromFile(setting, builtin string) string {
	if builtin == "" {
		return setting + " in devcluster.yaml"
	}
	return setting + " in devcluster.yaml, else " + builtin
}

// aftermath publishes a command's CI summary and writes the diagnostics
// bundle of a failure into dir (--diagnostics-dir).
func (g *globals) aftermath(dir string) bootstrap.Aftermath {
	p := g.printer()
	ci, err := ui.DetectCI(g.env.LookupEnv, g.ci)
	if err != nil {
		ci = ui.NoCI // the flag's value is refused in Before
	}
	return bootstrap.Aftermath{CI: ci, LookupEnv: g.env.LookupEnv, Runner: g.env.Runner, Dir: g.env.Dir, DiagnosticsDir: dir,
		Steps: p.Steps, EndSteps: p.Close}
}
