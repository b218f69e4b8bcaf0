package app

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/devcluster/devcluster/bootstrap"
	"github.com/devcluster/devcluster/config"
	"github.com/devcluster/devcluster/internal/paths"
	"github.com/devcluster/devcluster/internal/problem"
)

// mirrorStore is the per-user mirror store.
func (g *globals) mirrorStore() (string, error) {
	d, err := paths.For(paths.Env(g.env.LookupEnv), "")
	if err == nil && d.Mirrors == "" {
		err = errors.New("neither HOME nor XDG_CACHE_HOME is set")
	}
	if err != nil {
		return "", problem.New(problem.Failed, "locating the mirror store", err, "set HOME or XDG_CACHE_HOME")
	}
	return d.Mirrors, nil
}

func newMirrorCommand(g *globals) *cli.Command {
	return &cli.Command{
		Name:  "mirror",
		Usage: "the pull-through mirrors' store: list or prune it",
		Description: "The agent mirrors docker.io, registry.k8s.io, ghcr.io and quay.io (registry.mirrors) for the cluster's\n" +
			"nodes. What they pulled is kept per user in $XDG_CACHE_HOME/devcluster/mirrors, shared by every cluster,\n" +
			"kept across down, down --purge and up --recreate, and served offline.",
		Subcommands: []*cli.Command{newMirrorLsCommand(g), newMirrorPruneCommand(g), newMirrorCredentialHelperCommand(g)},
	}
}

func newMirrorLsCommand(g *globals) *cli.Command {
	var output string
	return &cli.Command{
		Name:  "ls",
		Usage: "list what the mirrors hold per upstream: repositories, tags, size, last use",
		Flags: []cli.Flag{outputFlag(&output)},
		Action: func(c *cli.Context) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			store, err := g.mirrorStore()
			if err != nil {
				return err
			}
			ups, err := bootstrap.ListMirrors(store)
			if err != nil {
				return err
			}
			return g.output(output, struct {
				Store     string                     `json:"store"`
				Upstreams []bootstrap.MirrorUpstream `json:"upstreams"`
			}{store, ups}, func(w io.Writer) { printMirrors(w, store, ups, time.Now()) })
		},
	}
}

func printMirrors(w io.Writer, store string, ups []bootstrap.MirrorUpstream, now time.Time) {
	n := 0
	for _, u := range ups {
		n += len(u.Repositories)
	}
	if n == 0 {
		fmt.Fprintf(w, "The mirror store %s is empty.\n", store)
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "UPSTREAM\tREPOSITORY\tTAGS\tSIZE\tLAST USE")
	var total int64
	for _, u := range ups {
		total += u.SizeBytes
		for _, r := range u.Repositories {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", u.Upstream, r.Repository, strings.Join(r.Tags, ", "), bootstrap.HumanBytes(r.SizeBytes), ago(now, r.LastUse))
		}
	}
	_ = tw.Flush()
	fmt.Fprintf(w, "Mirror store %s: %s.\n", store, bootstrap.HumanBytes(total))
}

// ago is a last use as "3h ago" (whole units), or "never".
func ago(now, t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh ago", int(d.Hours()))
	}
	return fmt.Sprintf("%dd ago", int(d.Hours()/24))
}

func newMirrorPruneCommand(g *globals) *cli.Command {
	var output, olderThan string
	var all, dryRun bool
	return &cli.Command{
		Name:  "prune",
		Usage: "delete mirrored repositories: --all, or those not used for --older-than D",
		Description: "prune deletes the repositories selected and then the blobs nothing references any more. The agent that\n" +
			"serves the store lets go of it meanwhile (a pull waits for the prune, at most a minute) and takes it again.",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "all", Usage: "empty the mirror store", Destination: &all},
			&cli.StringFlag{Name: "older-than", Usage: "delete repositories not pulled for `D` (7d, 36h)", Destination: &olderThan},
			&cli.BoolFlag{Name: "dry-run", Usage: "list what would be deleted and delete nothing", Destination: &dryRun},
			outputFlag(&output),
		},
		Action: func(c *cli.Context) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			o := bootstrap.PruneMirrorsOptions{All: all, DryRun: dryRun}
			switch {
			case all && olderThan != "":
				return problem.New(problem.Usage, "", errors.New("--all and --older-than exclude each other"), "give one of them")
			case !all && olderThan == "":
				return problem.New(problem.Usage, "", errors.New("mirror prune needs --all or --older-than D"), "for example: devcluster mirror prune --older-than 7d")
			case olderThan != "":
				d, err := config.ParseDays(olderThan)
				if err != nil || d <= 0 {
					return problem.New(problem.Usage, "", fmt.Errorf("--older-than: invalid duration %q", olderThan), "use days (7d) or a duration such as 36h")
				}
				o.OlderThan = d
			}
			store, err := g.mirrorStore()
			if err != nil {
				return err
			}
			res, err := bootstrap.PruneMirrors(c.Context, store, o)
			if err != nil {
				return err
			}
			return g.output(output, res, func(w io.Writer) { printPrune(w, res) })
		},
	}
}

func printPrune(w io.Writer, res *bootstrap.PruneResult) {
	verb := "Deleted"
	if res.DryRun {
		verb = "Would delete"
	}
	fmt.Fprintf(w, "%s %d repositor%s.\n", verb, len(res.Removed), map[bool]string{true: "y", false: "ies"}[len(res.Removed) == 1])
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, r := range res.Removed {
		fmt.Fprintf(tw, "  %s/%s\t%s\tlast used %s\n", r.Upstream, r.Repository, bootstrap.HumanBytes(r.SizeBytes), ago(time.Now(), r.LastUse))
	}
	_ = tw.Flush()
	fmt.Fprintf(w, "Mirror store: %s before, %s after.\n", bootstrap.HumanBytes(res.BytesBefore), bootstrap.HumanBytes(res.BytesAfter))
}

// newMirrorCredentialHelperCommand is what Distribution runs (through the
// agent's script) when an upstream asks for credentials: Docker's
// credential helper protocol, `get` with the host on stdin.
func newMirrorCredentialHelperCommand(g *globals) *cli.Command {
	var mirrors cli.StringSlice
	return &cli.Command{
		Name:      "credential-helper",
		Hidden:    true,
		ArgsUsage: "get",
		Flags:     []cli.Flag{&cli.StringSliceFlag{Name: "mirror", Destination: &mirrors}},
		Action: func(c *cli.Context) error {
			if c.Args().First() != "get" {
				return problem.New(problem.Usage, "", errors.New("only get is supported"), "")
			}
			return bootstrap.MirrorCredentials(g.env.Stdin, g.env.Stdout, mirrors.Value())
		},
	}
}
