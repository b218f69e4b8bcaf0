package app

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/devcluster/devcluster/bootstrap"
	"github.com/devcluster/devcluster/config"
	"github.com/devcluster/devcluster/internal/problem"
)

// upFlags are the flags of `up`.
type upFlags struct {
	name, cpus, memory, driver, runtime, k8sVersion, wait string
	lbAddress                                             string
	insecure, startArgs                                   cli.StringSlice
	recreate, noRegistry, noMirrors, noLB, noSamples      bool
	registry, lb, samples                                 bool
	install, noInstall, installOnly                       bool
	manifests                                             cli.StringSlice
	registryPort                                          int
	output, diagnostics                                   string
}

func newUpCommand(g *globals) *cli.Command {
	f := &upFlags{}
	return &cli.Command{
		Name:  "up",
		Usage: "create or start the cluster and wait until it is ready (safe to re-run)",
		Description: "up creates the cluster (a minikube profile unless --provider says otherwise) if it does not exist,\n" +
			"starts it if it is stopped, unpauses it if it is paused, and then waits until the API server answers,\n" +
			"every node is Ready and the kube-system pods run. A cluster that already runs with the requested settings\n" +
			"is left alone, so a re-run takes about a second.\n\n" +
			"minikube ignores changed CPUs, memory and insecure registries on an existing cluster; up compares them\n" +
			"itself and stops with the list of differences (exit code 4). --recreate deletes and recreates the cluster.\n\n" +
			"With --provider kind the cluster is a kind cluster (kind cannot change one: every difference is drift).\n" +
			"With --provider existing --context NAME, up uses a cluster devcluster did not create: it checks that the\n" +
			"cluster answers and is ready, never creates, changes or deletes it, and runs only what is turned on (the\n" +
			"registry and the LoadBalancer controller are off by default there).",
		Flags: []cli.Flag{
			nameFlag(&f.name),
			providerFlag(), contextFlag(),
			&cli.StringFlag{Name: "cpus", Usage: "number of `CPUS`: 2 or more, max or no-limit", DefaultText: fromFile("cpus", "2"), Destination: &f.cpus},
			&cli.StringFlag{Name: "memory", Aliases: []string{"m"}, Usage: "`MEMORY` of each node: 4096 (MB), 4g, 4GiB, max or no-limit", DefaultText: fromFile("memory", "4g"), Destination: &f.memory},
			&cli.StringFlag{Name: "driver", Aliases: []string{"d"}, Usage: "minikube `DRIVER`: docker, podman, kvm2, qemu2, ...", DefaultText: fromFile("driver", "minikube chooses"), Destination: &f.driver},
			&cli.StringFlag{Name: "container-runtime", Usage: "container `RUNTIME`: containerd, docker or cri-o", DefaultText: fromFile("containerRuntime", "containerd"), Destination: &f.runtime},
			&cli.StringFlag{Name: "kubernetes-version", Usage: "Kubernetes `VERSION`: v1.35.1, 1.35, stable or latest", DefaultText: fromFile("kubernetesVersion", "minikube's or kind's"), Destination: &f.k8sVersion},
			&cli.StringSliceFlag{Name: "insecure-registry", Usage: "an extra registry `HOST:PORT` the cluster may pull from over plain HTTP (repeatable)", Destination: &f.insecure},
			&cli.StringSliceFlag{Name: "start-arg", Usage: "an extra `FLAG` for `minikube start`, e.g. --start-arg=--addons=metrics-server (repeatable)", Destination: &f.startArgs},
			&cli.StringFlag{Name: "wait", Usage: "wait at most `DURATION` (5m, 90s) for the cluster to be ready", DefaultText: fromFile("wait", "5m"), Destination: &f.wait},
			&cli.BoolFlag{Name: "recreate", Usage: "delete and recreate an existing cluster (for example when it differs from the configuration)", Destination: &f.recreate},
			&cli.IntFlag{Name: "registry-port", Usage: "`PORT` of the local registry", DefaultText: fromFile("registry.port", "5001"), Destination: &f.registryPort},
			&cli.BoolFlag{Name: "no-registry", Usage: "do not run the local registry", Destination: &f.noRegistry},
			&cli.BoolFlag{Name: "no-mirrors", Usage: "no pull-through mirrors for this run (registry.mirrors)", Destination: &f.noMirrors},
			&cli.BoolFlag{Name: "no-lb", Usage: "do not give LoadBalancer Services an external IP", Destination: &f.noLB},
			&cli.StringFlag{Name: "lb-address", Usage: "how the host reaches LoadBalancer Services: `ADDRESS` auto, node (the node IP) or localhost (127.0.0.1 through the API server)",
				DefaultText: fromFile("loadBalancer.address", "auto"), Destination: &f.lbAddress},
			&cli.BoolFlag{Name: "no-samples", Usage: "do not build and deploy the sample workloads", Destination: &f.noSamples},
			&cli.BoolFlag{Name: "registry", Usage: "run the local registry where the configuration or the provider turns it off", Destination: &f.registry},
			&cli.BoolFlag{Name: "lb", Usage: "give LoadBalancer Services an external IP where the configuration or the provider turns it off", Destination: &f.lb},
			&cli.BoolFlag{Name: "samples", Usage: "build and deploy the sample workloads where the configuration turns them off", Destination: &f.samples},
			&cli.StringSliceFlag{Name: "manifest", Usage: "a `FILE or DIR` of YAML to apply and wait for (repeatable; added to workloads.manifests)", Destination: &f.manifests},
			&cli.BoolFlag{Name: "install", Usage: "download the pinned minikube or kind release when it is missing, without asking (automatic in CI)", Destination: &f.install},
			&cli.BoolFlag{Name: "no-install", Usage: "never download minikube or kind: fail with exit code 5 when it is missing", Destination: &f.noInstall},
			&cli.BoolFlag{Name: "install-only", Usage: "only check the provider's tool, downloading the pinned minikube or kind when it is missing: no cluster is created or started", Destination: &f.installOnly},
			diagnosticsFlag(&f.diagnostics),
			outputFlag(&f.output),
		},
		Action: func(c *cli.Context) error {
			if err := checkOutput(f.output); err != nil {
				return err
			}
			if err := noArgs(c); err != nil {
				return err
			}
			mode := bootstrap.InstallAsk
			switch {
			case f.install && f.noInstall:
				return problem.New(problem.Usage, "", fmt.Errorf("--install and --no-install contradict each other"), "give one of them")
			case f.installOnly && f.noInstall:
				return problem.New(problem.Usage, "", fmt.Errorf("--install-only and --no-install contradict each other"), "give one of them")
			case f.install || f.installOnly:
				mode = bootstrap.InstallAlways
			case f.noInstall:
				mode = bootstrap.InstallNever
			}
			cfg, err := g.loadConfig(c.Context, f.overrides(c, g.env.Dir))
			if err != nil {
				return err
			}
			deps := g.clusterDeps(cfg)
			deps.Install = g.installFunc(cfg, mode)
			defer g.printer().Close()
			res, err := g.aftermath(f.diagnostics).Up(c.Context, deps, cfg, bootstrap.UpOptions{Recreate: f.recreate, InstallOnly: f.installOnly})
			if f.installOnly {
				if err != nil {
					return err
				}
				return g.output(f.output, res, func(w io.Writer) {
					fmt.Fprintf(w, "%s is installed; no cluster was created or started (--install-only).\n", cfg.Provider)
				})
			}
			if err != nil {
				return err
			}
			if isData(f.output) {
				return writeData(g.env.Stdout, f.output, res)
			}
			g.printText(func(w io.Writer) { printUpSummary(w, res) })
			return nil
		},
	}
}

func (f *upFlags) overrides(c *cli.Context, dir string) config.Overrides {
	o := config.Overrides{}
	str := func(flag string, v string) *string {
		if c.IsSet(flag) {
			return &v
		}
		return nil
	}
	o.Name = str("name", f.name)
	o.Provider = str("provider", c.String("provider"))
	o.Context = str("context", c.String("context"))
	o.CPUs = str("cpus", f.cpus)
	o.Memory = str("memory", f.memory)
	o.Driver = str("driver", f.driver)
	o.ContainerRuntime = str("container-runtime", f.runtime)
	o.KubernetesVersion = str("kubernetes-version", f.k8sVersion)
	o.Wait = str("wait", f.wait)
	o.LBAddress = str("lb-address", f.lbAddress)
	if c.IsSet("insecure-registry") {
		o.InsecureRegistry = splitCSV(f.insecure.Value())
	}
	if c.IsSet("start-arg") {
		o.ExtraStartArgs = f.startArgs.Value()
	}
	if c.IsSet("registry-port") {
		p := f.registryPort
		o.RegistryPort = &p
	}
	o.NoRegistry = f.noRegistry
	o.NoMirrors = f.noMirrors
	o.NoLoadBalancer = f.noLB
	o.NoSamples = f.noSamples
	o.Registry, o.LoadBalancer, o.Samples = f.registry, f.lb, f.samples
	for _, m := range f.manifests.Value() {
		if m != "" && !filepath.IsAbs(m) {
			m = filepath.Join(dir, m)
		}
		// An empty path stays empty, so Complete refuses it instead of
		// applying the working directory.
		o.Manifests = append(o.Manifests, m)
	}
	return o
}

// splitCSV accepts both repeated flags and comma-separated values, as
// minikube's --insecure-registry does.
func splitCSV(vals []string) []string {
	out := []string{}
	for _, v := range vals {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

func printUpSummary(w io.Writer, r *bootstrap.Result) {
	c := r.Cluster
	verb := "is ready (no changes)"
	if r.Changed {
		verb = "is ready (" + strings.Join(r.Actions, ", ") + ")"
	}
	fmt.Fprintf(w, "Cluster %q %s.\n", c.Name, verb)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	version := c.KubernetesVersion
	if config.ExternalProvider(c.Provider) {
		fmt.Fprintf(tw, "  Provider\texisting (context %s; never created, changed or deleted by devcluster)\n", c.KubeContext)
		if r.Kubernetes != nil {
			version = r.Kubernetes.ServerVersion
		}
	} else {
		fmt.Fprintf(tw, "  Node IP\t%s\n", orDash(c.IP))
	}
	fmt.Fprintf(tw, "  Kubernetes\t%s\n", orDash(version))
	if r.Kubernetes != nil {
		fmt.Fprintf(tw, "  API server\t%s\n", r.Kubernetes.Server)
	}
	if reg := r.Registry; reg != nil {
		fmt.Fprintf(tw, "  Registry\tpush to %s, pull in the cluster from %s\n", reg.Host, reg.ClusterHost)
		fmt.Fprintf(tw, "  Registry data\t%s\n", reg.DataDir)
	}
	fmt.Fprintf(tw, "  Try\tkubectl --context %s get nodes\n", c.KubeContext)
	_ = tw.Flush()
	if len(r.Workloads) > 0 {
		fmt.Fprintln(w, "Workloads:")
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		for _, st := range r.Workloads {
			state := "ready"
			if !st.Ready {
				state = "not ready"
			}
			fmt.Fprintf(tw, "  %s %s/%s\t%s\t%s\n", st.Kind, st.Namespace, st.Name, state, st.Message)
		}
		_ = tw.Flush()
	}
	printLoadBalancers(w, r.LoadBalancers)
}

func printLoadBalancers(w io.Writer, lbs []bootstrap.LBService) {
	if len(lbs) == 0 {
		return
	}
	fmt.Fprintln(w, "LoadBalancer Services:")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, l := range lbs {
		where := strings.Join(l.URLs, " ")
		if len(l.NotForwarded) > 0 {
			where += " (" + strings.Join(l.NotForwarded, ", ") + " not forwarded: TCP only)"
		}
		switch l.State {
		case "pending":
			where = "<pending>"
		case "refused", "other":
			where = l.State + ": " + l.Detail
		}
		fmt.Fprintf(tw, "  %s/%s\t%s\n", l.Namespace, l.Name, where)
	}
	_ = tw.Flush()
}
