package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/devcluster/devcluster/bootstrap"
	"github.com/devcluster/devcluster/config"
	"github.com/devcluster/devcluster/internal/problem"
	"github.com/devcluster/devcluster/internal/run"
	"github.com/devcluster/devcluster/internal/ui"
	"github.com/devcluster/devcluster/kube"
	"github.com/urfave/cli/v2"
)

// maxSummary keeps a job summary well under GitHub's 1 MiB per step and
// Buildkite's 1 MiB per annotation.
const maxSummary = 512 << 10

// publishSummary hands a Markdown summary of the command to the CI system:
// appended to $GITHUB_STEP_SUMMARY on GitHub Actions, a `buildkite-agent
// annotate --context devcluster` on Buildkite when the agent is on PATH.
// It never fails the command: a problem is a warning.
func (g *globals) publishSummary(ctx context.Context, ok bool, md string) {
	ci, err := ui.DetectCI(g.env.LookupEnv, g.ci)
	if err != nil || md == "" {
		return
	}
	if len(md) > maxSummary {
		// At a line's end, so no character is split.
		cut := strings.LastIndexByte(md[:maxSummary], '\n')
		md = md[:cut+1] + "\n… (cut at 512 KiB)\n"
	}
	switch ci {
	case ui.GitHub:
		path, _ := g.env.LookupEnv("GITHUB_STEP_SUMMARY")
		if path == "" {
			return
		}
		f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err == nil {
			_, err = f.WriteString(md + "\n")
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
		if err != nil {
			g.printer().Warn("could not write the job summary: " + err.Error())
		}
	case ui.Buildkite:
		if _, err := run.Which(g.env.Runner, "buildkite-agent"); err != nil {
			return
		}
		style := "success"
		if !ok {
			style = "error"
		}
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if _, err := g.env.Runner.Run(actx, run.Cmd{Name: "buildkite-agent",
			Args: []string{"annotate", "--context", "devcluster", "--style", style}, Stdin: strings.NewReader(md)}); err != nil {
			g.printer().Warn("could not annotate the build: " + err.Error())
		}
	}
}

// The summaries hold text from outside devcluster (names, messages, events,
// log lines): every such text goes through mdCell (table cells and running
// text), ui.MarkdownCode (names) or ui.MarkdownBlock (multi-line text), so
// none of it becomes Markdown or HTML.

// stepTable renders the steps and their durations.
func stepTable(steps []ui.StepRecord) string {
	var b strings.Builder
	b.WriteString("| step | result | time |\n|---|---|---|\n")
	for _, s := range steps {
		mark := "✅"
		if !s.OK {
			mark = "❌"
		}
		fmt.Fprintf(&b, "| %s %s | %s | %s |\n", mark, mdCell(s.Title), mdCell(s.Result), s.Duration.Round(100*time.Millisecond))
	}
	return b.String()
}

// mdCell is s as a table cell or running text: one line, markup escaped.
func mdCell(s string) string { return ui.MarkdownText(s) }

// upSummary is the Markdown summary of `up`.
func upSummary(r *bootstrap.Result, err error, steps []ui.StepRecord) string {
	var b strings.Builder
	name := "devcluster"
	if r != nil && r.Cluster != nil {
		name = r.Cluster.Name
	}
	if err != nil {
		fmt.Fprintf(&b, "### ❌ devcluster up: cluster %s failed\n\n%s\n", ui.MarkdownCode(name), ui.MarkdownBlock(err.Error()))
	} else {
		fmt.Fprintf(&b, "### ✅ devcluster up: cluster %s is ready\n\n", ui.MarkdownCode(name))
	}
	if r != nil && r.Cluster != nil {
		c := r.Cluster
		fmt.Fprintf(&b, "- **Cluster:** %s, Kubernetes %s, node IP %s, state %s\n", mdCell(c.Provider+" "+c.ProviderVersion),
			mdCell(orDash(c.KubernetesVersion)), mdCell(orDash(c.IP)), mdCell(string(c.State)))
	}
	if r != nil && r.Kubernetes != nil {
		fmt.Fprintf(&b, "- **Context:** %s (%s)\n", ui.MarkdownCode(r.Kubernetes.Context), mdCell(r.Kubernetes.Server))
	}
	if r != nil && r.Registry != nil {
		fmt.Fprintf(&b, "- **Registry:** push to %s, the cluster pulls from %s\n", ui.MarkdownCode(r.Registry.Host), ui.MarkdownCode(r.Registry.ClusterHost))
	}
	if r != nil && len(r.Workloads) > 0 {
		b.WriteString("\n| workload | state |\n|---|---|\n")
		for _, w := range r.Workloads {
			state := "✅ " + w.Message
			if !w.Ready {
				state = "❌ " + w.Message
			}
			fmt.Fprintf(&b, "| %s | %s |\n", mdCell(w.Kind+" "+w.Namespace+"/"+w.Name), mdCell(state))
		}
	}
	if r != nil && len(r.LoadBalancers) > 0 {
		b.WriteString("\n| LoadBalancer Service | URLs |\n|---|---|\n")
		for _, l := range r.LoadBalancers {
			fmt.Fprintf(&b, "| %s | %s |\n", mdCell(l.Namespace+"/"+l.Name), mdCell(strings.Join(l.URLs, " ")+" "+l.State))
		}
	}
	b.WriteString("\n" + stepTable(steps))
	return b.String()
}

// deploySummary is the Markdown summary of `deploy`.
func deploySummary(r *bootstrap.DeployResult, err error, steps []ui.StepRecord) string {
	var b strings.Builder
	if err != nil {
		b.WriteString("### ❌ devcluster deploy failed\n\n")
	} else if r != nil && !r.Changed {
		b.WriteString("### ✅ devcluster deploy: unchanged\n\n")
	} else {
		b.WriteString("### ✅ devcluster deploy: rolled out\n\n")
	}
	if r != nil {
		fmt.Fprintf(&b, "- **Context:** %s, namespace %s\n", ui.MarkdownCode(orDash(r.Context)), ui.MarkdownCode(r.Namespace))
		for _, cm := range r.ConfigMaps {
			fmt.Fprintf(&b, "- **ConfigMap** %s: %s (%s)\n", ui.MarkdownCode(cm.Name), mdCell(cm.Action), mdCell(strings.Join(cm.Keys, ", ")))
		}
		if len(r.Workloads) > 0 {
			b.WriteString("\n| workload | revision | images | state |\n|---|---|---|---|\n")
			for _, w := range r.Workloads {
				fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", mdCell(strings.ToLower(w.Kind)+"/"+w.Name), mdCell(orDash(w.Revision)),
					mdCell(strings.Join(w.Images, " ")), mdCell(w.Message))
			}
		}
		if f := r.Failure; f != nil {
			fmt.Fprintf(&b, "\n**%s** — pod %s, container %s: **%s** %s\n", mdCell(f.Workload), ui.MarkdownCode(f.Pod), ui.MarkdownCode(f.Container),
				mdCell(f.Reason), mdCell(f.Message))
			if len(f.Events) > 0 || len(f.Logs) > 0 {
				// The blank line ends the HTML block, so the code block is
				// Markdown; nothing inside it can close it or the details.
				b.WriteString("\n<details><summary>events and last log lines</summary>\n\n")
				b.WriteString(ui.MarkdownBlock(strings.Join(append(slices.Clone(f.Events), f.Logs...), "\n")))
				b.WriteString("</details>\n")
			}
			if r.RolledBack {
				b.WriteString("\nRolled back: the previous templates and ConfigMap data are restored.\n")
			}
		}
	}
	if err != nil && (r == nil || r.Failure == nil) {
		b.WriteString("\n" + ui.MarkdownBlock(err.Error()))
	}
	b.WriteString("\n" + stepTable(steps))
	return b.String()
}

// diagnosticsFlag is --diagnostics-dir.
func diagnosticsFlag(dst *string) cli.Flag {
	return &cli.StringFlag{Name: "diagnostics-dir", Value: "devcluster-diagnostics",
		Usage: "where a failure's diagnostics bundle is written (relative to the working directory; a previous bundle there is replaced)", Destination: dst}
}

// writeDiagnostics writes the bundle after a failure and says where it
// is; "upload it as a build artifact" only in CI. It writes nothing when
// there is nothing to diagnose: after bad input, drift, a missing
// prerequisite (exit 5: no minikube, no Docker, an install declined) or an
// interrupt, and when there is no cluster.
func (g *globals) writeDiagnostics(ctx context.Context, err error, cfg *config.Config, o bootstrap.DiagnoseOptions) {
	if err == nil || errors.Is(err, context.Canceled) {
		return
	}
	switch problem.KindOf(err) {
	case problem.Usage, problem.Config, problem.Drift, problem.Missing:
		return
	}
	if strings.TrimSpace(o.Dir) == "" {
		g.printer().Warn("no diagnostics written: --diagnostics-dir is empty")
		return
	}
	if !filepath.IsAbs(o.Dir) {
		o.Dir = filepath.Join(g.env.Dir, o.Dir)
	}
	res, derr := bootstrap.Diagnose(ctx, g.clusterDeps(cfg), cfg, o)
	switch {
	case errors.Is(derr, bootstrap.ErrNothingToDiagnose):
		return
	case derr != nil:
		g.printer().Warn("could not write diagnostics: " + derr.Error())
		return
	}
	msg := fmt.Sprintf("diagnostics written to %s (%d files)", g.displayPath(res.Dir), len(res.Files))
	if ci, _ := ui.DetectCI(g.env.LookupEnv, g.ci); ci != ui.NoCI {
		msg += " — upload it as a build artifact"
	}
	g.printer().Warn(msg)
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
			var ws []kube.Workload
			var bad []string
			for _, ref := range c.Args().Slice() {
				w, err := kube.ParseWorkload(ref, namespace)
				if err != nil {
					bad = append(bad, err.Error())
					continue
				}
				ws = append(ws, w)
			}
			if len(bad) > 0 {
				return problem.New(problem.Usage, "", &problem.List{Subject: "diagnose", Problems: bad}, "run `devcluster diagnose --help`")
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
