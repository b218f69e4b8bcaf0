package existing

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/devcluster/devcluster/internal/problem"
	"github.com/devcluster/devcluster/internal/testutil"
	"github.com/devcluster/devcluster/provider"
)

// The kubeconfig decides: a context it lacks is Absent (and the
// kubeconfig not OK), one whose cluster it lacks Invalid; only a complete
// context is taken to run (its API is asked by the caller).
func TestGetReadsTheContextFromTheKubeconfig(t *testing.T) {
	t.Parallel()
	file := testutil.Kubeconfig(t, "staging")
	cfg, err := clientcmd.LoadFromFile(file)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Contexts["dangling"] = &clientcmdapi.Context{Cluster: "gone", AuthInfo: "staging"}
	if err := clientcmd.WriteToFile(*cfg, file); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	fromEnv := func(k string) (string, bool) { return map[string]string{"KUBECONFIG": file}[k], k == "KUBECONFIG" }
	home := func(k string) (string, bool) { return map[string]string{"HOME": dir}[k], k == "HOME" }
	for _, tc := range []struct {
		name    string
		e       *Existing
		state   provider.State
		ok      bool
		detail  string
		context string
	}{
		{"present", New("staging", WithEnv(fromEnv)), provider.Running, true, "", "staging"},
		{"explicit file", New("staging", WithEnv(home), WithKubeconfig(file)), provider.Running, true, "", "staging"},
		{"missing", New("nope", WithEnv(fromEnv)), provider.Absent, false, `has no context "nope"`, "nope"},
		{"not in ~/.kube/config", New("staging", WithEnv(home)), provider.Absent, false, filepath.Join(dir, ".kube", "config"), "staging"},
		{"dangling", New("dangling", WithEnv(fromEnv)), provider.Invalid, false, `names cluster "gone"`, "dangling"},
		{"explicit file missing", New("staging", WithEnv(fromEnv), WithKubeconfig(filepath.Join(dir, "nope"))), provider.Invalid, false, "reading the kubeconfig", "staging"},
	} {
		c, err := tc.e.Get(context.Background(), "dev")
		if err != nil || c.State != tc.state || c.KubeconfigOK != tc.ok || !strings.Contains(c.Detail, tc.detail) || c.KubeContext != tc.context {
			t.Errorf("%s: Get = %+v, %v", tc.name, c, err)
		}
	}
}

// Nothing of the cluster is devcluster's to create or delete; a missing
// context is named as the configuration to mend.
func TestExistingRefusesToCreateOrDelete(t *testing.T) {
	t.Parallel()
	noFiles := func(k string) (string, bool) { return map[string]string{"HOME": t.TempDir()}[k], k == "HOME" }
	e := New("nope", WithEnv(noFiles))
	err := e.Create(context.Background(), provider.Spec{}, nil)
	if problem.KindOf(err) != problem.Config || !strings.Contains(problem.FixOf(err), "kubectl config get-contexts") {
		t.Errorf("Create of a missing context: %v (fix %q)", err, problem.FixOf(err))
	}
	if err := e.Delete(context.Background(), "dev", nil); problem.KindOf(err) != problem.Usage {
		t.Errorf("Delete: %v", err)
	}
}
