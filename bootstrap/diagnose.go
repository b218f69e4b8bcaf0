package bootstrap

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"

	"github.com/devcluster/devcluster/config"
	"github.com/devcluster/devcluster/internal/kubeconfig"
	"github.com/devcluster/devcluster/internal/problem"
	"github.com/devcluster/devcluster/kube"
	"github.com/devcluster/devcluster/provider"
	"github.com/devcluster/devcluster/registry"
)

// DiagnoseOptions are the inputs of Diagnose.
type DiagnoseOptions struct {
	// Dir is where the bundle is written: a directory that does not exist
	// yet, is empty, or holds a previous bundle (replaced as a whole).
	Dir string
	// Context is the kubeconfig context ("" = the cluster's, or the current
	// one when there is no cluster configuration).
	Context string
	// Workloads are the workloads to collect: the failing ones of up or
	// deploy, or those named on diagnose's command line. A workload
	// without a namespace is in Namespace. With none, the bundle holds
	// every workload outside the kube-* namespaces of a cluster devcluster
	// owns, and only devcluster's own workloads on any other.
	Workloads []kube.Workload
	// Namespace is the namespace of the workloads that name none (""
	// = the context's, else "default").
	Namespace string
	// Summary is summary.md; Result is written as result.json.
	Summary string
	Result  any
}

// DiagnoseResult says what was written.
type DiagnoseResult struct {
	Dir   string   `json:"dir"`
	Files []string `json:"files"`
	// Problems are the parts that could not be collected.
	Problems []string `json:"problems,omitempty"`
}

// ErrNothingToDiagnose is in the chain of Diagnose's error when there is
// no cluster to diagnose (the provider has none, and no API server
// answers): no bundle is written.
var ErrNothingToDiagnose = errors.New("there is nothing to diagnose")

// diagnoseTimeout bounds the whole collection: diagnostics must not hang a
// job that already failed.
const diagnoseTimeout = 2 * time.Minute

// Diagnose writes a diagnostics bundle: summary.md and result.json, the
// provider's logs (credentials in them redacted), the kubeconfig of the
// context in use with every credential redacted, YAML of the nodes and of
// the workloads with their ReplicaSets and pods (literal env values
// redacted), the events about them, the last 200 log lines of every
// container of every pod that is not ready (its previous instance too),
// and — for devcluster's own cluster — the agent's log and status, the
// registry catalog and the hosts.toml files on the nodes. No Secret is
// ever read.
//
// On a cluster devcluster does not own (provider existing, or a context
// other than the cluster's), the bundle stays with devcluster's objects
// (the samples' namespace, the configuration's manifests) and the
// workloads it is given, the events about those, and the nodes without
// their image lists.
//
// The bundle is a fresh directory, 0700, its files 0600, renamed onto
// Dir when complete. Every part is best effort: what cannot be collected
// is listed in problems.txt.
func Diagnose(ctx context.Context, deps Deps, cfg *config.Config, o DiagnoseOptions) (*DiagnoseResult, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), diagnoseTimeout)
	defer cancel()
	if o.Dir == "" {
		return nil, problem.New(problem.Usage, "writing diagnostics", errors.New("no directory given"), "")
	}
	if _, err := checkBundleTarget(o.Dir); err != nil {
		return nil, err
	}
	d := &diagnosis{deps: deps, cfg: cfg, res: &DiagnoseResult{Dir: o.Dir, Files: []string{}}}
	kctx := o.Context
	if cfg != nil && deps.Provider != nil {
		c, err := deps.Provider.Get(ctx, cfg.Name)
		switch {
		case err != nil:
			d.problem("reading the cluster: %v", err)
		case c.State == provider.Absent:
			return nil, problem.New(problem.NotRunning, "", fmt.Errorf("cluster %q does not exist: %w", cfg.Name, ErrNothingToDiagnose),
				"run `devcluster up` to create it")
		default:
			d.cluster = c
			if kctx == "" {
				kctx = c.KubeContext
			}
		}
	}
	var clients *kube.Clients
	var err error
	if cfg != nil && kctx == "" {
		// Not the kubeconfig's current context: that may be any cluster.
		err = errors.New("the cluster's kubeconfig context is not known")
	} else {
		clients, err = loadClients(deps, kctx)
	}
	if err == nil {
		if err = answers(ctx, clients.Kube); err != nil {
			err = fmt.Errorf("the API server does not answer: %w", err)
			clients = nil
		}
	}
	if err != nil {
		d.problem("connecting to the cluster: %v", err)
	}
	providerParts := d.cluster != nil && deps.Provider.OwnsClusters()
	if clients == nil && !providerParts {
		return nil, problem.New(problem.NotRunning, "", fmt.Errorf("%v: %w", err, ErrNothingToDiagnose),
			"check the context with `kubectl config get-contexts`")
	}
	if clients != nil && kctx == "" {
		kctx = clients.Context
	}
	// What is devcluster's to collect in full: its own cluster, reached
	// through the cluster's own context.
	d.owned = providerParts && kctx == d.cluster.KubeContext

	b, err := newBundleDir(o.Dir)
	if err != nil {
		return nil, err
	}
	d.b = b
	if o.Summary != "" {
		d.write("summary.md", []byte(o.Summary))
	}
	if o.Result != nil {
		out, _ := json.MarshalIndent(o.Result, "", "  ")
		d.write("result.json", out)
	}
	if providerParts {
		d.providerParts(ctx)
	}
	if cfg != nil {
		d.agentParts(ctx)
	}
	d.kubeconfig(kctx)
	if clients != nil {
		ns := o.Namespace
		if ns == "" {
			ns = clients.Namespace
		}
		if ns == "" {
			ns = "default"
		}
		d.kubernetesParts(ctx, clients.Kube, d.scope(ctx, clients.Kube, o.Workloads, ns))
	}
	if len(d.res.Problems) > 0 {
		d.write("problems.txt", []byte(strings.Join(d.res.Problems, "\n")+"\n"))
	}
	if err := b.commit(); err != nil {
		return nil, err
	}
	sort.Strings(d.res.Files)
	return d.res, nil
}

// answers asks the API server for one object, bounded: any answer, a
// refusal or "not found" too, says it is there.
func answers(ctx context.Context, k kubernetes.Interface) error {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	_, err := k.CoreV1().Namespaces().Get(ctx, metav1.NamespaceDefault, metav1.GetOptions{})
	var status apierrors.APIStatus
	if err != nil && errors.As(err, &status) {
		return nil
	}
	return err
}

// diagnosis is one bundle being collected.
type diagnosis struct {
	deps    Deps
	cfg     *config.Config
	cluster *provider.Cluster
	// owned: devcluster's own cluster through its own context, whose
	// every workload and event the bundle may hold.
	owned bool
	b     *bundleDir
	res   *DiagnoseResult
}

func (d *diagnosis) problem(f string, a ...any) {
	// One line each, printable: a message may quote a tool's output.
	msg := strings.Join(strings.Fields(strings.ReplaceAll(fmt.Sprintf(f, a...), "\n", " / ")), " ")
	if d.b != nil {
		// A tool names the file where it wrote it.
		msg = strings.ReplaceAll(msg, d.b.tmp, d.b.target)
	}
	d.res.Problems = append(d.res.Problems, string(printable([]byte(msg))))
}

func (d *diagnosis) write(name string, data []byte) {
	if err := d.b.write(name, data); err != nil {
		d.problem("%s: %v", name, err)
		return
	}
	d.res.Files = append(d.res.Files, name)
}

func (d *diagnosis) yaml(name string, obj runtime.Object) {
	out, err := redactedYAML(obj)
	if err != nil {
		d.problem("%s: %v", name, err)
		return
	}
	d.write(name, out)
}

// providerParts collects the provider's logs and the nodes' hosts.toml.
func (d *diagnosis) providerParts(ctx context.Context) {
	p, c := d.deps.Provider, d.cluster
	name := p.Name() + "-logs.txt"
	if logs, ok := p.(provider.LogCollector); !ok {
		// The provider keeps no logs of its own.
	} else if path, err := d.b.reserve(name); err != nil {
		d.problem("%s: %v", name, err)
	} else if err := logs.Logs(ctx, c.Name, path); err != nil {
		d.problem("%s: %v", name, err)
		_ = os.Remove(path)
	} else if err := d.b.seal(path, redactLogText); err != nil {
		d.problem("%s: %v", name, err)
	} else {
		d.res.Files = append(d.res.Files, name)
	}
	nodes, ok := p.(provider.NodeAccess)
	if !ok || c.State != provider.Running || c.ContainerRuntime != "containerd" {
		return
	}
	for _, node := range c.NodeNames {
		out, err := nodes.RunOnNode(ctx, c.Name, node, "sh", "-c", "for f in /etc/containerd/certs.d/*/hosts.toml; do echo \"# $f\"; cat \"$f\"; done")
		if err != nil {
			d.problem("hosts.toml on %s: %v", node, err)
			continue
		}
		// A mirror's hosts.toml may carry credentials (an authorization
		// header, a URL with a password).
		d.write("nodes/"+pathName(node)+"/hosts.toml.txt", redactLogText(out))
	}
}

// agentParts collects the agent's status and log and the registry catalog.
func (d *diagnosis) agentParts(ctx context.Context) {
	if d.deps.Agent == nil || d.deps.Dirs == nil {
		return
	}
	dirs, err := d.deps.Dirs(d.cfg.Name)
	if err != nil {
		return
	}
	st, err := d.deps.Agent.Status(ctx, dirs.State)
	if err != nil {
		return
	}
	out, _ := json.MarshalIndent(st, "", "  ")
	d.write("agent/status.json", out)
	if st.Running && len(st.Listen) > 0 {
		if repos, err := registry.List(ctx, st.Listen[0]); err == nil {
			out, _ := json.MarshalIndent(repos, "", "  ")
			d.write("agent/registry-catalog.json", out)
		} else {
			d.problem("registry catalog: %v", err)
		}
	}
	if out, err := tailFile(st.LogPath, 500); err == nil {
		d.write("agent/agent.log", redactLogText(out))
	}
}

// tailBytes bounds what tailFile reads: the end of a log that has grown for
// weeks, not all of it.
const tailBytes = 1 << 20

// tailFile returns the last n lines of a file, read from at most its last
// tailBytes.
func tailFile(path string, n int) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if off := info.Size() - tailBytes; off > 0 {
		if _, err := f.Seek(off, io.SeekStart); err != nil {
			return nil, err
		}
	}
	b, err := io.ReadAll(io.LimitReader(f, tailBytes))
	if err != nil {
		return nil, err
	}
	if info.Size() > tailBytes {
		// The first line read is cut: drop it.
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			b = b[i+1:]
		}
	}
	lines := strings.SplitAfter(string(b), "\n")
	if len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return []byte(strings.Join(lines, "")), nil
}

// kubeconfig writes the context's kubeconfig, redacted (see
// redactedKubeconfig).
func (d *diagnosis) kubeconfig(kctx string) {
	raw, err := kubeconfig.Rules(d.deps.Kubeconfig, nil).Load()
	if err == nil {
		var out []byte
		if out, err = redactedKubeconfig(raw, kctx); err == nil {
			d.write("kubeconfig-redacted.yaml", out)
			return
		}
	}
	d.problem("kubeconfig: %v", err)
}
