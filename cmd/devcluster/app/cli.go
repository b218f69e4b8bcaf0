package app

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/devcluster/devcluster/internal/problem"
	"github.com/devcluster/devcluster/internal/ui"
)

func newApp(g *globals) *cli.App {
	onUsageError := func(_ *cli.Context, err error, _ bool) error {
		return problem.New(problem.Usage, "", err, "run `devcluster --help` or `devcluster <command> --help`")
	}
	a := &cli.App{
		Name:  "devcluster",
		Usage: "a working local Kubernetes cluster in one command",
		Description: "devcluster starts a minikube or kind cluster with the CPUs, memory, driver and Kubernetes version you ask\n" +
			"for, or uses a cluster of your kubeconfig it did not create (provider existing), checks that an existing\n" +
			"cluster still matches the configuration, and waits until it is ready.\n" +
			"Settings come from devcluster.yaml in the working directory (or --config) and flags.\n" +
			"Flags go before or after the command and its arguments (the global ones too); -- ends them.\n\n" +
			"Exit codes: 0 ok, 1 failed, 2 usage or config error, 3 cluster not running,\n" +
			"4 cluster differs from the configuration, 5 prerequisite missing, 6 timed out, 130 interrupted.",
		Version:                g.versionString(),
		HideVersion:            true,
		Reader:                 g.env.Stdin,
		Writer:                 g.env.Stdout,
		ErrWriter:              g.env.Stderr,
		UseShortOptionHandling: true,
		// Never exit inside the app: Run returns the error and main decides.
		ExitErrHandler: func(*cli.Context, error) {},
		CommandNotFound: func(_ *cli.Context, name string) {
			g.notFound = name
		},
		OnUsageError: onUsageError,
		Flags:        globalFlags(g),
		Before: func(*cli.Context) error {
			if _, err := ui.DetectCI(g.env.LookupEnv, g.ci); err != nil {
				return problem.New(problem.Usage, "", fmt.Errorf("--ci: %w", err), "")
			}
			if g.showVersion {
				fmt.Fprintln(g.env.Stdout, buildInfo().line())
				return errVersionShown
			}
			return nil
		},
		Commands: []*cli.Command{
			newUpCommand(g),
			newDownCommand(g),
			newStopCommand(g),
			newStatusCommand(g),
			newListCommand(g),
			newDeployCommand(g),
			newDiagnoseCommand(g),
			newRegistryCommand(g),
			newMirrorCommand(g),
			newLBCommand(g),
			newConfigCommand(g),
			newServiceCommand(g),
			newDashboardCommand(g),
			newVersionCommand(g),
			newCompletionCommand(g),
			newAgentCommand(g),
		},
	}
	a.Commands = append(a.Commands, newCompleteCommand(g, func() *cli.App { return a }))
	hideBoolDefaults(a.Flags)
	globalHelp := globalFlagsHelp(a.Flags)
	walkCommands(a.Commands, nil, func(_ []string, c *cli.Command) {
		c.OnUsageError = onUsageError
		hideBoolDefaults(c.Flags)
		c.CustomHelpTemplate = cli.CommandHelpTemplate
		if len(c.Subcommands) > 0 {
			c.CustomHelpTemplate = cli.SubcommandHelpTemplate
		}
		c.CustomHelpTemplate += globalHelp
	})
	return a
}

// globalFlags are accepted before or after every command (see
// commandLine).
func globalFlags(g *globals) []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "config", Aliases: []string{"f"}, Usage: "read settings from `FILE` (- for standard input)", DefaultText: "./devcluster.yaml if present", Destination: &g.cfgPath},
		&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print only warnings and errors", Destination: &g.quiet},
		&cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: "print every progress line", Destination: &g.verbose},
		&cli.StringFlag{Name: "minikube", Usage: "the minikube executable `PATH`", DefaultText: "$MINIKUBE_BINARY, else minikube on PATH, else the release devcluster installed", Destination: &g.minikube},
		&cli.StringFlag{Name: "kind", Usage: "the kind executable `PATH`", DefaultText: "$KIND_BINARY, else kind on PATH, else the release devcluster installed", Destination: &g.kind},
		&cli.StringFlag{Name: "kubeconfig", Usage: "kubeconfig `FILE`", DefaultText: "$KUBECONFIG, else ~/.kube/config", Destination: &g.kubecfg},
		&cli.BoolFlag{Name: "version", Usage: "print devcluster's version and exit (`devcluster version` says more)", Destination: &g.showVersion},
		&cli.StringFlag{Name: "ci", Value: "auto", Usage: "log conventions of the CI `SYSTEM`: auto (from $DEVCLUSTER_CI, else detected from BUILDKITE, GITHUB_ACTIONS, GITLAB_CI, CI), buildkite, github, gitlab, generic or none", Destination: &g.ci},
	}
}

// hideBoolDefaults drops urfave/cli's "(default: false)" from boolean
// flags: a switch is off unless given.
func hideBoolDefaults(flags []cli.Flag) {
	for _, f := range flags {
		if b, ok := f.(*cli.BoolFlag); ok {
			b.DisableDefaultText = true
		}
	}
}

// globalFlagsHelp is the end of every command's help: the global flags,
// which it accepts too.
func globalFlagsHelp(flags []cli.Flag) string {
	var b strings.Builder
	b.WriteString("\nGLOBAL OPTIONS (before or after the command):")
	for _, f := range flags {
		b.WriteString("\n   " + f.String())
	}
	b.WriteString("\n")
	// A template constant, so that nothing in the text is read as template
	// syntax.
	return "{{" + strconv.Quote(b.String()) + "}}"
}

// nameFlag is --name, shared by every command that addresses a cluster.
// Its letter is minikube's -p (--profile): -n is the namespace, as in
// kubectl.
func nameFlag(dst *string) cli.Flag {
	return &cli.StringFlag{Name: "name", Aliases: []string{"p"}, Usage: "cluster `NAME`: the minikube profile or kind cluster",
		DefaultText: "name in devcluster.yaml, else devcluster", Destination: dst}
}

// noArgs refuses positional arguments to a command that takes none (a
// mistyped flag value would otherwise be ignored silently).
func noArgs(c *cli.Context) error {
	if c.NArg() == 0 {
		return nil
	}
	name := strings.TrimPrefix(c.Command.HelpName, "devcluster ")
	return problem.New(problem.Usage, "", fmt.Errorf("%s takes no arguments, got %q", name, c.Args().Slice()),
		"flags start with --, for example --name=dev; run `devcluster "+name+" --help`")
}
