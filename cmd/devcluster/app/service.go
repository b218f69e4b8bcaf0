package app

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/devcluster/devcluster/bootstrap"
	"github.com/devcluster/devcluster/internal/browser"
	"github.com/devcluster/devcluster/internal/problem"
	"github.com/devcluster/devcluster/internal/ui"
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

// showToken decides whether dashboard prints the sign-in token: when asked
// with --token, or for a person at the terminal (who needs it to sign in);
// never by itself in CI, with --url or -o json.
func showToken(tokenFlag, urlOnly bool, output string, interactive bool) bool {
	return tokenFlag || (!urlOnly && !isData(output) && interactive)
}

func newDashboardCommand(g *globals) *cli.Command {
	var name, output string
	var o bootstrap.DashboardOptions
	var urlOnly, tokenFlag bool
	return &cli.Command{
		Name:  "dashboard",
		Usage: "install the Headlamp dashboard, print its URL and a token to sign in with, and open it in the browser",
		Description: "dashboard installs Headlamp " + "(a pinned release, its image pinned by digest) into namespace devcluster-dashboard,\n" +
			"on any provider, waits until it runs, has devcluster's agent forward it to 127.0.0.1, and mints a short-lived\n" +
			"token (TokenRequest, --duration) for ServiceAccount devcluster-dashboard/headlamp-admin, bound to cluster-admin.\n" +
			"Headlamp asks for a token on its sign-in page: paste it there. Running dashboard again changes nothing in the\n" +
			"cluster and mints a new token. `devcluster down` removes the dashboard with the cluster (provider existing:\n" +
			"only what devcluster created). dashboard.image in devcluster.yaml replaces the image.\n\n" +
			"The token is printed on standard output only on a terminal outside CI (for you to paste) or with --token\n" +
			"(`TOKEN=$(devcluster dashboard --token)`); under GitHub Actions it is masked with ::add-mask:: first.\n" +
			"-o json holds it only with --token. On a terminal outside CI the URL is opened in the browser; with --url,\n" +
			"-o json or in CI it is only printed.",
		Flags: []cli.Flag{
			nameFlag(&name), providerFlag(), contextFlag(),
			&cli.BoolFlag{Name: "url", Usage: "print the URL only (with --token, the token on the next line); never open the browser", Destination: &urlOnly},
			&cli.BoolFlag{Name: "token", Usage: "print the sign-in token on standard output (alone, unless --url or -o json)", Destination: &tokenFlag},
			&cli.DurationFlag{Name: "duration", Value: bootstrap.DefaultDashboardTokenTTL, Usage: "how long the token is valid (10m at least)", Destination: &o.TokenTTL},
			&cli.DurationFlag{Name: "timeout", Usage: "bound on the rollout and the forward", DefaultText: fromFile("workloads.timeout", "5m"), Destination: &o.Timeout},
			outputFlag(&output),
		},
		Action: func(c *cli.Context) error {
			cfg, err := g.clusterCommand(c, output, name, true)
			if err != nil {
				return err
			}
			if c.IsSet("timeout") && o.Timeout <= 0 {
				return problem.New(problem.Usage, "", fmt.Errorf("--timeout %s: use a positive duration such as 5m", o.Timeout), "")
			}
			p := g.printer()
			defer p.Close()
			p.Start("Dashboard (Headlamp)")
			res, err := bootstrap.Dashboard(c.Context, g.clusterDeps(cfg), cfg, o)
			if err != nil {
				return err
			}
			p.End(true, res.URL)
			token := res.Token
			shown := showToken(tokenFlag, urlOnly, output, g.atTerminal())
			if !shown {
				res.Token = ""
			} else {
				g.maskToken(token)
			}
			switch {
			case isData(output):
				return writeData(g.env.Stdout, output, res)
			case urlOnly:
				fmt.Fprintln(g.env.Stdout, res.URL)
				if shown {
					fmt.Fprintln(g.env.Stdout, token)
				}
				return nil
			case tokenFlag:
				p.Info(fmt.Sprintf("Dashboard: %s — sign in with the token (valid until %s)", res.URL, res.ExpiresAt.Format(time.RFC3339)))
				fmt.Fprintln(g.env.Stdout, token)
				return nil
			}
			g.printText(func(w io.Writer) { printDashboard(w, res) })
			if shown {
				fmt.Fprintln(g.env.Stdout, token)
			}
			g.maybeOpen(c.Context, res.URL, urlOnly, output)
			return nil
		},
	}
}

// maskToken has the CI system hide token in the rest of the log, where it
// can: GitHub Actions (::add-mask::). The runner reads workflow commands on
// both streams; on standard error the command stays out of a $(…) capture
// of the token.
func (g *globals) maskToken(token string) {
	if ci, _ := ui.DetectCI(g.env.LookupEnv, g.ci); ci == ui.GitHub {
		fmt.Fprintf(g.env.Stderr, "::add-mask::%s\n", token)
	}
}

func printDashboard(w io.Writer, r *bootstrap.DashboardResult) {
	state := "installed"
	if !r.Changed {
		state = "up to date"
	}
	fmt.Fprintf(w, "Dashboard: %s (Headlamp %s, %s, namespace %s)\n", r.URL, r.Version, state, r.Namespace)
	until := r.ExpiresAt.Format(time.RFC3339)
	if r.Token == "" {
		fmt.Fprintf(w, "Sign in: choose to sign in with a token and paste the one `devcluster dashboard --token` prints (ServiceAccount %s; each run mints one, valid for --duration).\n", r.ServiceAccount)
		return
	}
	fmt.Fprintf(w, "Sign in: choose to sign in with a token and paste this one (ServiceAccount %s, valid until %s):\n", r.ServiceAccount, until)
}
