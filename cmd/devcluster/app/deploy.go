package app

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/devcluster/devcluster/bootstrap"
	"github.com/devcluster/devcluster/internal/problem"
)

func newDeployCommand(g *globals) *cli.Command {
	var o bootstrap.DeployOptions
	var configMaps, images, manifests cli.StringSlice
	var output, diagnostics string
	return &cli.Command{
		Name:      "deploy",
		Usage:     "the deploy step of a CI job: reload ConfigMaps from files, set images, roll out, explain or undo a failure",
		ArgsUsage: "KIND/NAME [KIND/NAME…]",
		Description: "deploy changes running workloads on any cluster your kubeconfig reaches (devcluster's, kind, or a real one)\n" +
			"and waits until they are rolled out:\n\n" +
			"  devcluster deploy deployment/web --configmap nginx-config=nginx.conf --image nginx=localhost:5001/web:$BUILD\n\n" +
			"Arguments, flags and files are checked before the cluster is contacted, then every write is sent as a\n" +
			"server-side dry run; nothing is written if anything is wrong (exit 2). ConfigMaps get exactly the files' keys;\n" +
			"each pod template gets the new images and a devcluster.dev/config-hash annotation over every ConfigMap it\n" +
			"uses, so a configuration-only change rolls the pods; --manifest objects are applied with the rest, and the\n" +
			"workloads they change are waited for. Every write carries the resourceVersion or UID it was planned with.\n" +
			"A deploy that changes nothing returns at once. A pod that cannot start (image pull, crash loop, OOM,\n" +
			"unschedulable, config error) ends the wait at once with the pod, reason, events and last log lines.\n" +
			"--rollback-on-failure then undoes what the deploy wrote — also after a write that failed halfway —\n" +
			"from the state read before the first write: ConfigMap data put back, ConfigMaps and workloads it created\n" +
			"deleted, templates restored; an object someone else changed since is left as it is and reported.\n" +
			"KIND is deployment (deploy), statefulset (sts) or daemonset (ds). Images named localhost:<port>/… (in\n" +
			"--image and in the manifests) are rewritten to the address the cluster pulls devcluster's registry from,\n" +
			"as kube-public/local-registry-hosting gives it.\n\n" +
			"Exit codes: 0 rolled out (or unchanged), 1 the rollout or a write failed, 2 bad input, 6 timed out.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "namespace", Aliases: []string{"n"}, Usage: "`NAMESPACE` of the workloads and ConfigMaps (default: the context's)", Destination: &o.Namespace},
			&cli.StringFlag{Name: "context", Usage: "kubeconfig `CONTEXT` (default: the current one)", Destination: &o.Context},
			&cli.StringSliceFlag{Name: "configmap", Usage: "`NAME=PATH[,PATH…]`: a ConfigMap from files (a directory gives its files), keys named after the files (repeatable)", Destination: &configMaps},
			&cli.StringSliceFlag{Name: "image", Usage: "`CONTAINER=IMAGE` to set (*=IMAGE for every container; repeatable)", Destination: &images},
			&cli.StringSliceFlag{Name: "manifest", Usage: "a `FILE or DIR` of YAML to apply with the other changes; its workloads are waited for (repeatable)", Destination: &manifests},
			&cli.DurationFlag{Name: "timeout", Value: 5 * time.Minute, Usage: "bound on the rollout wait", Destination: &o.Timeout},
			&cli.BoolFlag{Name: "rollback-on-failure", Usage: "undo what the deploy wrote when the rollout or a write fails (what others changed since is left)", Destination: &o.Rollback},
			&cli.BoolFlag{Name: "dry-run", Usage: "validate with the API server and say what would change; write nothing", Destination: &o.DryRun},
			diagnosticsFlag(&diagnostics),
			outputFlag(&output),
		},
		Action: func(c *cli.Context) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			if o.Timeout <= 0 {
				return problem.New(problem.Usage, "", fmt.Errorf("--timeout %s: use a positive duration such as 5m", o.Timeout), "")
			}
			o.Workloads = c.Args().Slice()
			var bad []string
			for _, f := range configMaps.Value() {
				name, paths, ok := strings.Cut(f, "=")
				if !ok || name == "" || paths == "" {
					bad = append(bad, fmt.Sprintf("--configmap %q: use NAME=PATH[,PATH…]", f))
					continue
				}
				cm := bootstrap.ConfigMapFiles{Name: name}
				for _, p := range strings.Split(paths, ",") {
					if p == "" {
						bad = append(bad, fmt.Sprintf("--configmap %q: an empty path", f))
						continue
					}
					if !filepath.IsAbs(p) {
						p = filepath.Join(g.env.Dir, p)
					}
					cm.Paths = append(cm.Paths, p)
				}
				o.ConfigMaps = append(o.ConfigMaps, cm)
			}
			o.Images = images.Value()
			for _, m := range manifests.Value() {
				if m == "" {
					bad = append(bad, "--manifest: the path is empty")
					continue
				}
				if !filepath.IsAbs(m) {
					m = filepath.Join(g.env.Dir, m)
				}
				o.Manifests = append(o.Manifests, m)
			}
			if len(bad) > 0 {
				return problem.New(problem.Usage, "", &problem.List{Subject: "deploy", Problems: bad}, "run `devcluster deploy --help`")
			}
			defer g.printer().Close()
			res, err := g.aftermath(diagnostics).Deploy(c.Context, g.deps(), o)
			if isData(output) && res != nil && (err == nil || res.Failure != nil || res.Rollback != nil || len(res.Written) > 0) {
				if werr := writeData(g.env.Stdout, output, res); werr != nil {
					return werr
				}
			} else if err == nil {
				g.printText(func(w io.Writer) { printDeploy(w, res) })
			}
			return err
		},
	}
}

func printDeploy(w io.Writer, r *bootstrap.DeployResult) {
	switch {
	case r.DryRun:
		fmt.Fprintf(w, "Dry run on %s, namespace %s: the API server accepts these changes; nothing was written.\n", orDash(r.Context), r.Namespace)
	case !r.Changed:
		fmt.Fprintf(w, "Unchanged: %s, namespace %s, already runs this configuration and these images.\n", orDash(r.Context), r.Namespace)
	default:
		fmt.Fprintf(w, "Deployed to %s, namespace %s.\n", orDash(r.Context), r.Namespace)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, cm := range r.ConfigMaps {
		fmt.Fprintf(tw, "  ConfigMap %s\t%s\t%s\n", cm.Name, cm.Action, strings.Join(cm.Keys, ", "))
	}
	for _, wl := range r.Workloads {
		state := wl.Message
		if r.DryRun {
			state = map[bool]string{true: "would change", false: "unchanged"}[wl.Changed]
		}
		fmt.Fprintf(tw, "  %s/%s\trevision %s\t%s\t%s\n", strings.ToLower(wl.Kind), wl.Name, orDash(wl.Revision), strings.Join(wl.Images, " "), state)
	}
	_ = tw.Flush()
}
