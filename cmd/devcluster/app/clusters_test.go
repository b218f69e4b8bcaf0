package app

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"k8s.io/client-go/tools/clientcmd"

	"github.com/devcluster/devcluster/bootstrap"
	fakeminikube "github.com/devcluster/devcluster/internal/fake/minikube"
	"github.com/devcluster/devcluster/internal/testutil"
)

// contexts lists the contexts of a kubeconfig file (none when it does not
// exist).
func contexts(t *testing.T, file string) []string {
	t.Helper()
	cfg, err := clientcmd.LoadFromFile(file)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for n := range cfg.Contexts {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// --kubeconfig F is where minikube writes the cluster's context, and what
// up, status and down read: ~/.kube/config is never touched.
func TestKubeconfigFlagReachesMinikube(t *testing.T) {
	h := newHarness(t)
	h.runner = &fakeminikube.Runner{Env: map[string]string{"MINIKUBE_HOME": h.dir, "HOME": h.dir}}
	file := filepath.Join(h.dir, "ci-kubeconfig")
	home := filepath.Join(h.dir, ".kube", "config")
	if code := h.run("--kubeconfig", file, "up"); code != 0 {
		t.Fatalf("up: exit %d\n%s", code, h.stderr.String())
	}
	if got := contexts(t, file); !slices.Equal(got, []string{"devcluster"}) {
		t.Errorf("contexts in --kubeconfig: %v", got)
	}
	if got := contexts(t, home); got != nil {
		t.Errorf("~/.kube/config was written: %v", got)
	}
	if i := slices.IndexFunc(h.kubeconfigs, func(p string) bool { return p != file }); i >= 0 {
		t.Errorf("clients were made from %q, not %q", h.kubeconfigs[i], file)
	}
	if code := h.run("--kubeconfig", file, "status", "-o", "json"); code != 0 {
		t.Fatalf("status: exit %d\n%s", code, h.stderr.String())
	}
	var res bootstrap.Result
	if err := json.Unmarshal(h.stdout.Bytes(), &res); err != nil || !res.Cluster.KubeconfigOK {
		t.Errorf("status with --kubeconfig: %v\n%s", err, h.stdout.String())
	}
	if code := h.run("--kubeconfig", file, "down"); code != 0 {
		t.Fatalf("down: exit %d\n%s", code, h.stderr.String())
	}
	if got := contexts(t, file); len(got) != 0 {
		t.Errorf("down left the context in --kubeconfig: %v", got)
	}
}

// status of provider existing with a context the kubeconfig does not have
// is exit 3 with the error and advice that fits a cluster devcluster did
// not create; its JSON does not say the kubeconfig is fine.
func TestStatusOfAMissingContext(t *testing.T) {
	h := newHarness(t)
	file := testutil.Kubeconfig(t, "staging")
	h.env["KUBECONFIG"] = file
	if code := h.run("status", "--provider", "existing", "--context", "staging"); code != 0 {
		t.Fatalf("status of an existing context: exit %d\n%s%s", code, h.stdout.String(), h.stderr.String())
	}
	if code := h.run("status", "--provider", "existing", "--context", "nope"); code != ExitNotRunning {
		t.Fatalf("status of a missing context: exit %d\n%s%s", code, h.stdout.String(), h.stderr.String())
	}
	out := h.stdout.String() + h.stderr.String()
	for _, want := range []string{`no context "nope"`, "kubectl config get-contexts", "--context"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "Running") || strings.Contains(out, "devcluster up") {
		t.Errorf("a missing context is reported as running, or as something up would fix:\n%s", out)
	}
	if code := h.run("status", "--provider", "existing", "--context", "nope", "-o", "json"); code != ExitNotRunning {
		t.Fatalf("status -o json of a missing context: exit %d", code)
	}
	var res struct {
		Cluster map[string]any `json:"cluster"`
	}
	if err := json.Unmarshal(h.stdout.Bytes(), &res); err != nil {
		t.Fatal(err)
	}
	if res.Cluster["kubeconfigOK"] != false || res.Cluster["state"] == "Running" {
		t.Errorf("JSON of a missing context: %v", res.Cluster)
	}
	for _, f := range []string{"cpus", "memoryMB"} {
		if _, ok := res.Cluster[f]; ok {
			t.Errorf("JSON of an existing cluster has %s: %v", f, res.Cluster)
		}
	}
}
