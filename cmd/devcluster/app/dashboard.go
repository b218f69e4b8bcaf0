package app

import (
	"fmt"
	"io"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/devcluster/devcluster/bootstrap"
	"github.com/devcluster/devcluster/internal/problem"
	"github.com/devcluster/devcluster/internal/ui"
)

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
