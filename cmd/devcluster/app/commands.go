package app

import (
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/devcluster/devcluster/bootstrap"
	"github.com/devcluster/devcluster/config"
	"github.com/devcluster/devcluster/internal/paths"
	"github.com/devcluster/devcluster/internal/problem"
	"github.com/devcluster/devcluster/kube"
	"github.com/devcluster/devcluster/provider/providers"
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
		Description: "up creates the minikube cluster if it does not exist, starts it if it is stopped, unpauses it if it is\n" +
			"paused, and then waits until the API server answers, every node is Ready and the kube-system pods run.\n" +
			"A cluster that already runs with the requested settings is left alone, so a re-run takes about a second.\n\n" +
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
			mode := installAsk
			switch {
			case f.install && f.noInstall:
				return problem.New(problem.Usage, "", fmt.Errorf("--install and --no-install contradict each other"), "give one of them")
			case f.installOnly && f.noInstall:
				return problem.New(problem.Usage, "", fmt.Errorf("--install-only and --no-install contradict each other"), "give one of them")
			case f.install || f.installOnly:
				mode = installAlways
			case f.noInstall:
				mode = installNever
			}
			cfg, err := g.loadConfig(c.Context, f.overrides(c, g.env.Dir))
			if err != nil {
				return err
			}
			p := g.printer()
			defer p.Close()
			deps := g.clusterDeps(cfg)
			deps.Install = g.installFunc(cfg, mode)
			res, err := bootstrap.Up(c.Context, deps, cfg, bootstrap.UpOptions{Recreate: f.recreate, InstallOnly: f.installOnly})
			p.Close()
			if f.installOnly {
				if err != nil {
					return err
				}
				return g.output(f.output, res, func(w io.Writer) {
					fmt.Fprintf(w, "%s is installed; no cluster was created or started (--install-only).\n", cfg.Provider)
				})
			}
			summary := upSummary(res, err, p.Steps())
			g.publishSummary(c.Context, err == nil, summary)
			var failing []kube.Workload
			for _, w := range res.Workloads {
				if !w.Ready {
					failing = append(failing, w.Workload)
				}
			}
			if len(failing) == 0 {
				failing = nil
			}
			g.writeDiagnostics(c.Context, err, cfg, bootstrap.DiagnoseOptions{Dir: f.diagnostics, Workloads: failing, Summary: summary, Result: res})
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

func newDownCommand(g *globals) *cli.Command {
	var name, output string
	var purge bool
	return &cli.Command{
		Name:  "down",
		Usage: "stop the registry agent and delete the cluster",
		Description: "down stops the cluster's background agent and deletes the minikube cluster and its kubeconfig context.\n" +
			"Deleting a cluster that does not exist succeeds. The registry's images are kept (they survive down and\n" +
			"up --recreate) unless --purge is given.\n\n" +
			"On a cluster devcluster did not create (provider existing) the cluster stays: down removes only the\n" +
			"objects devcluster put there and labelled as its own (kube-public/local-registry-hosting, the samples'\n" +
			"namespace).",
		Flags: []cli.Flag{nameFlag(&name), providerFlag(), contextFlag(), outputFlag(&output),
			&cli.BoolFlag{Name: "purge", Usage: "also delete the registry's data and the agent's state", Destination: &purge}},
		Action: func(c *cli.Context) error {
			cfg, err := g.clusterCommand(c, output, name, true)
			if err != nil {
				return err
			}
			defer g.printer().Close()
			home := paths.Home(paths.Env(g.env.LookupEnv))
			res, err := bootstrap.Down(c.Context, g.clusterDeps(cfg), cfg, bootstrap.DownOptions{Purge: purge, Protect: []string{g.env.Dir, home}})
			if err != nil {
				return err
			}
			if isData(output) {
				return writeData(g.env.Stdout, output, res)
			}
			switch {
			case config.ExternalProvider(cfg.Provider):
				fmt.Fprintf(g.env.Stdout, "The cluster of context %q is left as it is.\n", cfg.Context)
				if len(res.Removed) > 0 {
					fmt.Fprintf(g.env.Stdout, "Removed devcluster's %s.\n", strings.Join(res.Removed, ", "))
				}
				for _, l := range res.Left {
					fmt.Fprintf(g.env.Stdout, "Left %s.\n", l)
				}
			case res.Deleted:
				fmt.Fprintf(g.env.Stdout, "Cluster %q deleted.\n", cfg.Name)
			default:
				fmt.Fprintf(g.env.Stdout, "Cluster %q does not exist; nothing to delete.\n", cfg.Name)
			}
			switch {
			case res.KeptReason != "":
				fmt.Fprintf(g.env.Stdout, "Registry data kept in %s: %s\n", res.Kept, res.KeptReason)
			case res.Kept != "":
				fmt.Fprintf(g.env.Stdout, "Registry data kept in %s (devcluster down --purge deletes it).\n", res.Kept)
			}
			return nil
		},
	}
}

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

// providerFlag and contextFlag choose the cluster's provider.
func providerFlag() cli.Flag {
	return &cli.StringFlag{Name: "provider", Usage: "`PROVIDER` of the cluster: minikube, kind, or existing (a kubeconfig context devcluster did not create)",
		DefaultText: fromFile("provider", config.DefaultProvider)}
}

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

func newStatusCommand(g *globals) *cli.Command {
	var name, output string
	return &cli.Command{
		Name:  "status",
		Usage: "show the cluster's state (exit code 3 when it is not running)",
		Description: "status reads the cluster's state without changing anything: provider state, node IP, Kubernetes\n" +
			"version, CPUs and memory, and whether the API server answers. -o json prints the same as a JSON object.",
		Flags: []cli.Flag{nameFlag(&name), providerFlag(), contextFlag(), outputFlag(&output)},
		Action: func(c *cli.Context) error {
			cfg, err := g.clusterCommand(c, output, name, true)
			if err != nil {
				return err
			}
			res, err := bootstrap.Status(c.Context, g.clusterDeps(cfg), cfg)
			if err != nil {
				return err
			}
			if isData(output) {
				if err := writeData(g.env.Stdout, output, res); err != nil {
					return err
				}
			} else {
				g.printText(func(w io.Writer) { printStatus(w, res) })
			}
			return bootstrap.StatusError(res)
		},
	}
}

func printStatus(w io.Writer, r *bootstrap.Result) {
	c := r.Cluster
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "CLUSTER\t%s\n", c.Name)
	fmt.Fprintf(tw, "PROVIDER\t%s\n", strings.TrimSpace(c.Provider+" "+c.ProviderVersion))
	fmt.Fprintf(tw, "STATE\t%s\n", bootstrap.Describe(c))
	if c.Foreign != "" {
		fmt.Fprintf(tw, "ORIGIN\tnot created by devcluster (%s): up and down refuse it; use --provider existing --context %s\n", c.Foreign, c.KubeContext)
	}
	serverVersion := ""
	if r.Kubernetes != nil {
		serverVersion = r.Kubernetes.ServerVersion
	}
	for _, row := range providers.Rows(c, serverVersion) {
		fmt.Fprintf(tw, "%s\t%s\n", row.Key, row.Value)
	}
	if reg := r.Registry; reg != nil {
		state := "agent not running"
		if reg.Agent != nil && reg.Agent.Running {
			state = fmt.Sprintf("running (pid %d) on %s", reg.Agent.PID, strings.Join(reg.Agent.Listen, ", "))
		} else if reg.Agent != nil && reg.Agent.Detail != "" {
			state = "agent " + reg.Agent.Detail
		}
		fmt.Fprintf(tw, "REGISTRY\t%s\n", state)
		fmt.Fprintf(tw, "REGISTRY HOSTS\tpush %s, cluster pulls from %s\n", reg.Host, orDash(reg.ClusterHost))
		repos := "-"
		if reg.Repositories != nil {
			repos = strconv.Itoa(*reg.Repositories)
		}
		fmt.Fprintf(tw, "REGISTRY DATA\t%s (%s, %s repositories)\n", reg.DataDir, bootstrap.HumanBytes(reg.SizeBytes), repos)
	}
	if k := r.Kubernetes; k != nil {
		defer printLoadBalancers(w, r.LoadBalancers)
		api := "not ready: " + k.Detail
		if k.Ready {
			api = "ready: " + k.Detail
		}
		fmt.Fprintf(tw, "CONTEXT\t%s (%s)\n", k.Context, orDash(k.Server))
		fmt.Fprintf(tw, "API\t%s\n", api)
	}
	_ = tw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
