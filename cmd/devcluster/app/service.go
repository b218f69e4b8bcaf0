package app

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/devcluster/devcluster/bootstrap"
	"github.com/devcluster/devcluster/internal/browser"
	"github.com/devcluster/devcluster/internal/problem"
)

func newServiceCommand(g *globals) *cli.Command {
	var name, output string
	var o bootstrap.ServiceOptions
	var urlOnly bool
	return &cli.Command{
		Name:      "service",
		Usage:     "print the URL this host reaches a Service at, and open it in the browser (any type: a ClusterIP Service gets a loopback forward)",
		ArgsUsage: "NAME",
		Description: "For a LoadBalancer Service, service prints the URL of each TCP port as devcluster's agent reaches it\n" +
			"(its host-url annotation, else the Service's LoadBalancer address). For a ClusterIP or NodePort Service it asks\n" +
			"the agent for a forward of every TCP port to 127.0.0.1 (the annotation devcluster.dev/forward: \"true\"),\n" +
			"waits until the agent has opened it and prints the URLs; the forward stays until `devcluster down` or\n" +
			"`devcluster service --stop NAME`. UDP and SCTP ports cannot be forwarded.\n\n" +
			"On a terminal outside CI the first URL is opened in the browser (xdg-open, open, rundll32); with --url, -o json\n" +
			"or in CI it is only printed.\n\n" +
			"Exit codes: 0 printed, 1 the Service does not exist or has no TCP port, 2 bad input (--port), 3 the cluster\n" +
			"or its agent is not running, 6 the agent did not answer within --timeout.",
		Flags: []cli.Flag{
			nameFlag(&name), providerFlag(), contextFlag(),
			&cli.StringFlag{Name: "namespace", Aliases: []string{"n"}, Usage: "`NAMESPACE` of the Service (default: the context's, else default)", Destination: &o.Namespace},
			&cli.StringFlag{Name: "port", Usage: "only this `PORT` of the Service (its number or name)", Destination: &o.Port},
			&cli.BoolFlag{Name: "url", Usage: "print the URLs only, one a line; never open the browser", Destination: &urlOnly},
			&cli.BoolFlag{Name: "stop", Usage: "withdraw the forward service asked for: the agent closes it", Destination: &o.Stop},
			&cli.DurationFlag{Name: "timeout", Value: bootstrap.DefaultServiceTimeout, Usage: "bound on the wait for the agent's forward", Destination: &o.Timeout},
			outputFlag(&output),
		},
		Action: func(c *cli.Context) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			if err := oneArg(c, "a Service's NAME", "devcluster service web -n apps"); err != nil {
				return err
			}
			o.Name = c.Args().First()
			if o.Timeout <= 0 {
				return problem.New(problem.Usage, "", fmt.Errorf("--timeout %s: use a positive duration such as 30s", o.Timeout), "")
			}
			if o.Stop && (urlOnly || o.Port != "") {
				return problem.New(problem.Usage, "", fmt.Errorf("--stop withdraws the whole forward: it takes no --url or --port"), "")
			}
			cfg, err := g.clusterConfig(c, name, true)
			if err != nil {
				return err
			}
			p := g.printer()
			defer p.Close()
			p.Start("Service " + o.Name)
			res, err := bootstrap.Service(c.Context, g.clusterDeps(cfg), cfg, o)
			if err != nil {
				return err
			}
			p.End(true, res.Access)
			switch {
			case isData(output):
				return writeData(g.env.Stdout, output, res)
			case o.Stop:
				g.printText(func(w io.Writer) { printServiceStop(w, res) })
				return nil
			case urlOnly:
				g.printText(func(w io.Writer) { fmt.Fprintln(w, strings.Join(res.URLs, "\n")) })
				return nil
			}
			g.printText(func(w io.Writer) { printService(w, res) })
			g.maybeOpen(c.Context, res.URLs[0], urlOnly, output)
			return nil
		},
	}
}

// oneArg requires exactly one positional argument.
func oneArg(c *cli.Context, what, example string) error {
	name := strings.TrimPrefix(c.Command.HelpName, "devcluster ")
	switch {
	case c.NArg() == 0 || (c.NArg() == 1 && strings.TrimSpace(c.Args().First()) == ""):
		return problem.New(problem.Usage, "", fmt.Errorf("%s needs %s", name, what), "for example `"+example+"`")
	case c.NArg() > 1:
		return problem.New(problem.Usage, "", fmt.Errorf("%s takes one argument, got %q", name, c.Args().Slice()), "for example `"+example+"`")
	}
	return nil
}

func printService(w io.Writer, r *bootstrap.ServiceResult) {
	how := "forwarded to this host by devcluster's agent until `devcluster down` or `devcluster service --stop " + r.Name + " -n " + r.Namespace + "`"
	if r.Access == "loadBalancer" {
		how = "its LoadBalancer address"
	}
	fmt.Fprintf(w, "Service %s/%s (%s), %s:\n", r.Namespace, r.Name, r.Type, how)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, p := range r.Ports {
		where := p.URL
		if where == "" {
			where = p.Detail
		}
		fmt.Fprintf(tw, "  %s\t%d/%s\t%s\n", orDash(p.Name), p.Port, p.Protocol, where)
	}
	_ = tw.Flush()
}

func printServiceStop(w io.Writer, r *bootstrap.ServiceResult) {
	switch r.Access {
	case "stopped":
		fmt.Fprintf(w, "Forward of Service %s/%s withdrawn: the agent closes it.\n", r.Namespace, r.Name)
	case "loadBalancer":
		fmt.Fprintf(w, "Service %s/%s is a LoadBalancer Service that asked for no forward: it is reached at its LoadBalancer address while it is one; nothing to withdraw.\n", r.Namespace, r.Name)
	default:
		fmt.Fprintf(w, "Service %s/%s is not forwarded; nothing to withdraw.\n", r.Namespace, r.Name)
	}
}

// atTerminal reports whether a person reads standard output: it is a
// terminal and no CI system is detected (or chosen with --ci).
func (g *globals) atTerminal() bool {
	return !g.inCI() && g.env.IsTerminal(g.env.Stdout)
}

// maybeOpen opens url in the browser when a person is at the terminal and
// asked for neither --url nor -o json; a browser that cannot be opened is a
// warning (the URL is printed already).
func (g *globals) maybeOpen(ctx context.Context, url string, urlOnly bool, output string) {
	if urlOnly || isData(output) || !g.atTerminal() {
		return
	}
	open := g.env.OpenBrowser
	if open == nil {
		open = browser.Opener{Runner: g.env.Runner, Env: browser.Env(g.env.LookupEnv)}.Open
	}
	if err := open(ctx, url); err != nil {
		g.printer().Warn("not opening a browser: " + err.Error())
		return
	}
	g.printer().Info("Opened " + url + " in your browser.")
}
