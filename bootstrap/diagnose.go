package bootstrap

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/yaml"

	"github.com/devcluster/devcluster/config"
	"github.com/devcluster/devcluster/internal/run"
	"github.com/devcluster/devcluster/kube"
	"github.com/devcluster/devcluster/registry"
)

// DiagnoseOptions are the inputs of Diagnose.
type DiagnoseOptions struct {
	// Dir is where the bundle is written (created; existing files with the
	// same names are replaced).
	Dir string
	// Context is the kubeconfig context ("" = the cluster's, or the current
	// one when there is no cluster configuration).
	Context string
	// Workloads are the failing workloads; nil means every Deployment,
	// StatefulSet and DaemonSet outside the kube-* namespaces.
	Workloads []kube.Workload
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

// diagnoseTimeout bounds the whole collection: diagnostics must not hang a
// job that already failed.
const diagnoseTimeout = 2 * time.Minute

// Diagnose writes a diagnostics bundle: summary.md and result.json, the
// provider's logs, a redacted kubeconfig, YAML of the nodes and of the
// workloads with their ReplicaSets and pods, the events of their
// namespaces, the last 200 log lines of every container of every pod that
// is not ready (its previous instance too), and — for devcluster's own
// cluster — the agent's log and status, the registry catalog and the
// hosts.toml files on the nodes. No Secret is ever read; tokens, passwords
// and client keys are redacted from the kubeconfig. Every part is best
// effort: what cannot be collected is listed in problems.txt.
func Diagnose(ctx context.Context, deps Deps, cfg *config.Config, o DiagnoseOptions) (*DiagnoseResult, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), diagnoseTimeout)
	defer cancel()
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating %s: %w", o.Dir, err)
	}
	d := &bundle{dir: o.Dir, res: &DiagnoseResult{Dir: o.Dir, Files: []string{}}}
	if o.Summary != "" {
		d.write("summary.md", []byte(o.Summary))
	}
	if o.Result != nil {
		b, _ := json.MarshalIndent(o.Result, "", "  ")
		d.write("result.json", b)
	}
	kctx := o.Context
	if cfg != nil {
		d.devclusterParts(ctx, deps, cfg, &kctx)
	}
	d.kubeconfig(deps.Kubeconfig, kctx)
	if clients, err := deps.Kube(kctx); err != nil {
		d.problem("connecting to the cluster: %v", err)
	} else {
		d.kubernetesParts(ctx, clients.Kube, o.Workloads)
	}
	if len(d.res.Problems) > 0 {
		d.write("problems.txt", []byte(strings.Join(d.res.Problems, "\n")+"\n"))
	}
	sort.Strings(d.res.Files)
	return d.res, nil
}

type bundle struct {
	dir string
	res *DiagnoseResult
}

func (d *bundle) problem(f string, a ...any) {
	d.res.Problems = append(d.res.Problems, fmt.Sprintf(f, a...))
}

func (d *bundle) write(name string, b []byte) {
	p := filepath.Join(d.dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		d.problem("%s: %v", name, err)
		return
	}
	if err := os.WriteFile(p, b, 0o644); err != nil {
		d.problem("%s: %v", name, err)
		return
	}
	d.res.Files = append(d.res.Files, name)
}

func (d *bundle) yaml(name string, obj any) {
	b, err := yaml.Marshal(obj)
	if err != nil {
		d.problem("%s: %v", name, err)
		return
	}
	d.write(name, b)
}

// devclusterParts collects what only devcluster's own cluster has.
func (d *bundle) devclusterParts(ctx context.Context, deps Deps, cfg *config.Config, kctx *string) {
	if deps.Provider != nil {
		if c, err := deps.Provider.Get(ctx, cfg.Name); err == nil {
			if *kctx == "" {
				*kctx = c.KubeContext
			}
			file := filepath.Join(d.dir, deps.Provider.Name()+"-logs.txt")
			if c.State != "Absent" {
				if err := deps.Provider.Logs(ctx, cfg.Name, file); err != nil {
					d.problem("%s logs: %v", deps.Provider.Name(), err)
				} else {
					d.res.Files = append(d.res.Files, filepath.Base(file))
				}
			}
			if c.State == "Running" && c.ContainerRuntime == "containerd" {
				for _, node := range c.NodeNames {
					out, err := deps.Provider.RunOnNode(ctx, c.Name, node, "sh", "-c", "for f in /etc/containerd/certs.d/*/hosts.toml; do echo \"# $f\"; cat \"$f\"; done")
					if err != nil {
						d.problem("hosts.toml on %s: %v", node, err)
						continue
					}
					d.write("nodes/"+node+"/hosts.toml.txt", out)
				}
			}
		} else {
			d.problem("reading the cluster: %v", err)
		}
	}
	if deps.Agent != nil && deps.Dirs != nil {
		dirs, err := deps.Dirs(cfg.Name)
		if err != nil {
			return
		}
		if st, err := deps.Agent.Status(ctx, dirs.State); err == nil {
			b, _ := json.MarshalIndent(st, "", "  ")
			d.write("agent/status.json", b)
			if st.Running && len(st.Listen) > 0 {
				if repos, err := registry.List(ctx, st.Listen[0]); err == nil {
					b, _ := json.MarshalIndent(repos, "", "  ")
					d.write("agent/registry-catalog.json", b)
				} else {
					d.problem("registry catalog: %v", err)
				}
			}
			if b, err := tailFile(st.LogPath, 500); err == nil {
				d.write("agent/agent.log", b)
			}
		}
	}
}

// tailFile returns the last n lines of a file.
func tailFile(path string, n int) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	lines := strings.SplitAfter(string(b), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return []byte(strings.Join(lines, "")), nil
}

// kubeconfig writes the context's kubeconfig with every credential
// redacted.
func (d *bundle) kubeconfig(explicit, kctx string) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = explicit
	raw, err := rules.Load()
	if err != nil {
		d.problem("kubeconfig: %v", err)
		return
	}
	if kctx != "" {
		raw.CurrentContext = kctx
	}
	for _, a := range raw.AuthInfos {
		redact := func(s *string) {
			if *s != "" {
				*s = run.Redacted
			}
		}
		redact(&a.Token)
		redact(&a.Password)
		redact(&a.TokenFile)
		if len(a.ClientKeyData) > 0 {
			a.ClientKeyData = []byte(run.Redacted)
		}
		if a.AuthProvider != nil {
			for k := range a.AuthProvider.Config {
				a.AuthProvider.Config[k] = run.Redacted
			}
		}
		if a.Exec != nil {
			for i := range a.Exec.Env {
				a.Exec.Env[i].Value = run.Redacted
			}
		}
	}
	b, err := clientcmd.Write(*raw)
	if err != nil {
		d.problem("kubeconfig: %v", err)
		return
	}
	d.write("kubeconfig-redacted.yaml", b)
}

// kubernetesParts dumps nodes, workloads, their ReplicaSets and pods,
// events, and the logs of pods that are not ready. Secrets are never read.
func (d *bundle) kubernetesParts(ctx context.Context, k kubernetes.Interface, ws []kube.Workload) {
	if nodes, err := k.CoreV1().Nodes().List(ctx, metav1.ListOptions{}); err == nil {
		d.yaml("nodes.yaml", nodes)
	} else {
		d.problem("nodes: %v", err)
	}
	if ws == nil {
		ws = allWorkloads(ctx, k)
	}
	namespaces := map[string]bool{}
	for _, w := range ws {
		namespaces[w.Namespace] = true
		base := "workloads/" + w.Namespace + "/" + strings.ToLower(w.Kind) + "-" + w.Name
		var obj any
		var err error
		switch w.Kind {
		case "Deployment":
			obj, err = k.AppsV1().Deployments(w.Namespace).Get(ctx, w.Name, metav1.GetOptions{})
		case "StatefulSet":
			obj, err = k.AppsV1().StatefulSets(w.Namespace).Get(ctx, w.Name, metav1.GetOptions{})
		case "DaemonSet":
			obj, err = k.AppsV1().DaemonSets(w.Namespace).Get(ctx, w.Name, metav1.GetOptions{})
		}
		if err != nil {
			d.problem("%s: %v", w, err)
			continue
		}
		d.yaml(base+".yaml", obj)
		t, err := kube.GetTemplate(ctx, k, w)
		if err != nil {
			continue
		}
		sel := metav1.FormatLabelSelector(&metav1.LabelSelector{MatchLabels: t.Spec.Labels})
		if w.Kind == "Deployment" {
			if rss, err := k.AppsV1().ReplicaSets(w.Namespace).List(ctx, metav1.ListOptions{LabelSelector: sel}); err == nil {
				d.yaml(base+"-replicasets.yaml", rss)
			}
		}
		pods, err := k.CoreV1().Pods(w.Namespace).List(ctx, metav1.ListOptions{LabelSelector: sel})
		if err != nil {
			d.problem("pods of %s: %v", w, err)
			continue
		}
		d.yaml(base+"-pods.yaml", pods)
		for i := range pods.Items {
			d.podLogs(ctx, k, &pods.Items[i])
		}
	}
	names := make([]string, 0, len(namespaces))
	for ns := range namespaces {
		names = append(names, ns)
	}
	sort.Strings(names)
	for _, ns := range names {
		if evs, err := k.CoreV1().Events(ns).List(ctx, metav1.ListOptions{}); err == nil {
			d.yaml("events/"+ns+".yaml", evs)
		}
	}
}

// podLogs writes the last 200 lines of each container of a pod that is not
// ready, and of its previous instance when it restarted.
func (d *bundle) podLogs(ctx context.Context, k kubernetes.Interface, pod *corev1.Pod) {
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
			return
		}
	}
	for _, cs := range append(append([]corev1.ContainerStatus(nil), pod.Status.InitContainerStatuses...), pod.Status.ContainerStatuses...) {
		base := "logs/" + pod.Namespace + "/" + pod.Name + "/" + cs.Name
		if l := kube.PodLogs(ctx, k, pod.Namespace, pod.Name, cs.Name, false, 200); l != "" {
			d.write(base+".log", []byte(l+"\n"))
		}
		if cs.RestartCount > 0 {
			if l := kube.PodLogs(ctx, k, pod.Namespace, pod.Name, cs.Name, true, 200); l != "" {
				d.write(base+".previous.log", []byte(l+"\n"))
			}
		}
	}
}

// allWorkloads lists the Deployments, StatefulSets and DaemonSets outside
// the kube-* namespaces.
func allWorkloads(ctx context.Context, k kubernetes.Interface) []kube.Workload {
	var out []kube.Workload
	skip := func(ns string) bool { return strings.HasPrefix(ns, "kube-") }
	if l, err := k.AppsV1().Deployments("").List(ctx, metav1.ListOptions{}); err == nil {
		for _, o := range l.Items {
			if !skip(o.Namespace) {
				out = append(out, kube.Workload{Kind: "Deployment", Namespace: o.Namespace, Name: o.Name})
			}
		}
	}
	if l, err := k.AppsV1().StatefulSets("").List(ctx, metav1.ListOptions{}); err == nil {
		for _, o := range l.Items {
			if !skip(o.Namespace) {
				out = append(out, kube.Workload{Kind: "StatefulSet", Namespace: o.Namespace, Name: o.Name})
			}
		}
	}
	if l, err := k.AppsV1().DaemonSets("").List(ctx, metav1.ListOptions{}); err == nil {
		for _, o := range l.Items {
			if !skip(o.Namespace) {
				out = append(out, kube.Workload{Kind: "DaemonSet", Namespace: o.Namespace, Name: o.Name})
			}
		}
	}
	return out
}
