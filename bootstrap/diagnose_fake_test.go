package bootstrap

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/devcluster/devcluster/kube"
)

// On devcluster's own cluster with no workload named, the bundle holds
// every workload outside kube-*, the logs of the pods that are not ready
// (the previous instance of one that restarted too) and no others, the
// events about them, the agent's log with its credentials redacted, and
// problems.txt naming, one printable line each, what it could not read.
func TestDiagnoseCollectsTheFailingPodsAndNamesWhatItCannotRead(t *testing.T) {
	t.Parallel()
	f := diagFixture(t)
	f.minikube("start", "-p", "dev")
	ctx := context.Background()
	k := kubeOf(t, f)
	web := team(t, k, "apps", "web", nil)
	web.pod.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "main", RestartCount: 2}}
	if _, err := k.CoreV1().Pods("apps").UpdateStatus(ctx, web.pod, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	ok := team(t, k, "shop", "cart", nil)
	ok.pod.Status = corev1.PodStatus{Phase: corev1.PodRunning, Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}},
		ContainerStatuses: []corev1.ContainerStatus{{Name: "main", Ready: true}}}
	if _, err := k.CoreV1().Pods("shop").UpdateStatus(ctx, ok.pod, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	team(t, k, "kube-system", "coredns", nil)
	ev := &corev1.Event{ObjectMeta: metav1.ObjectMeta{Name: "web.1", Namespace: "apps"}, Type: "Warning", Reason: "Failed",
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: "apps", Name: web.pod.Name}, Message: "pull failed\x1b[2J"}
	if _, err := k.CoreV1().Events("apps").Create(ctx, ev, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	k.(*fake.Clientset).PrependReactor("list", "statefulsets", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, errors.New("statefulsets is forbidden: \x1b[31mUser \"ci\"\ncannot list")
	})
	dirs, err := f.deps.Dirs("dev")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dirs.State, 0o700); err != nil {
		t.Fatal(err)
	}
	agentLog := "mirror https://puller:agent-pa55@mirror.example.com/v2/\n" +
		"upstream said: Authorization: Bearer agent-bearer-s3cr3t\n" +
		"REGISTRY_PASSWORD=agent-env-s3cr3t started\n"
	if err := os.WriteFile(filepath.Join(dirs.State, "agent.log"), []byte(agentLog), 0o600); err != nil {
		t.Fatal(err)
	}

	dir := filepath.Join(t.TempDir(), "bundle")
	res, err := Diagnose(ctx, f.deps, f.cfg(nil), DiagnoseOptions{Dir: dir, Summary: "# up failed\n", Result: map[string]string{"status": "failed"}})
	if err != nil {
		t.Fatal(err)
	}
	files := readBundle(t, dir)
	// Every file but the marker that says the directory is a bundle.
	if got := slices.DeleteFunc(names(files), func(n string) bool { return n == ".devcluster-diagnostics" }); !slices.Equal(res.Files, got) {
		t.Errorf("the result's files %q, the bundle's %q", res.Files, got)
	}
	logs := "logs/apps/" + web.pod.Name + "/main"
	for _, want := range []string{"summary.md", "result.json", "kubeconfig-redacted.yaml", "nodes.yaml", "minikube-logs.txt",
		"workloads/apps/deployment-web.yaml", "workloads/apps/deployment-web-replicasets.yaml", "workloads/apps/deployment-web-pods.yaml",
		"workloads/shop/deployment-cart.yaml", logs + ".log", logs + ".previous.log", "events/apps.yaml", "events/shop.yaml",
		"agent/status.json", "agent/agent.log", "problems.txt"} {
		if _, ok := files[want]; !ok {
			t.Errorf("the bundle lacks %s: %q", want, names(files))
		}
	}
	for _, n := range names(files) {
		if strings.HasPrefix(n, "logs/shop/") || strings.Contains(n, "kube-system") {
			t.Errorf("%s is in the bundle: a ready pod's logs, or kube-system's", n)
		}
	}
	if files["summary.md"] != "# up failed\n" || !strings.Contains(files["result.json"], `"status": "failed"`) {
		t.Errorf("summary %q, result %q", files["summary.md"], files["result.json"])
	}
	for _, secret := range []string{"agent-pa55", "agent-bearer-s3cr3t", "agent-env-s3cr3t"} {
		if in := holding(files, secret); len(in) > 0 {
			t.Errorf("%q is in %q", secret, in)
		}
	}
	if al := files["agent/agent.log"]; !strings.Contains(al, "mirror.example.com/v2/") || !strings.Contains(al, "started") {
		t.Errorf("the agent's log lost more than its credentials:\n%s", al)
	}
	if in := holding(files, "\x1b"); len(in) > 0 {
		t.Errorf("an escape from the cluster reached %q raw", in)
	}
	if !strings.Contains(files["events/apps.yaml"], "pull failed") {
		t.Errorf("the pod's event is missing:\n%s", files["events/apps.yaml"])
	}
	want := `listing StatefulSets: statefulsets is forbidden: \x1b[31mUser "ci" / cannot list`
	if !slices.Contains(res.Problems, want) || !strings.Contains(files["problems.txt"], want+"\n") {
		t.Errorf("problems %q, problems.txt %q; want the refused list as %q", res.Problems, files["problems.txt"], want)
	}
}

// A workload that cannot be read, or whose pods cannot be listed, is a
// problem of its own: what was read of it is kept, and the other
// workloads are collected.
func TestDiagnoseKeepsWhatItReadOfAWorkload(t *testing.T) {
	t.Parallel()
	f := diagFixture(t)
	f.minikube("start", "-p", "dev")
	ctx := context.Background()
	k := kubeOf(t, f)
	team(t, k, "apps", "web", nil)
	team(t, k, "apps", "api", nil)
	k.(*fake.Clientset).PrependReactor("list", "pods", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, errors.New("the server is currently unable to handle the request")
	})
	dir := filepath.Join(t.TempDir(), "bundle")
	res, err := Diagnose(ctx, f.deps, f.cfg(nil), DiagnoseOptions{Dir: dir, Namespace: "apps", Workloads: []kube.Workload{
		{Kind: "Deployment", Name: "web"}, {Kind: "Deployment", Namespace: "apps", Name: "gone"}, {Kind: "Deployment", Name: "api"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	files := readBundle(t, dir)
	for _, want := range []string{"workloads/apps/deployment-web.yaml", "workloads/apps/deployment-web-replicasets.yaml",
		"workloads/apps/deployment-api.yaml", "events/apps.yaml"} {
		if _, ok := files[want]; !ok {
			t.Errorf("the bundle lacks %s: %q", want, names(files))
		}
	}
	if _, ok := files["workloads/apps/deployment-web-pods.yaml"]; ok {
		t.Error("a pod list that failed was written")
	}
	for _, want := range []string{
		"pods of Deployment apps/web: the server is currently unable to handle the request",
		`Deployment apps/gone: deployments.apps "gone" not found`,
		"pods of Deployment apps/api: the server is currently unable to handle the request",
	} {
		if !slices.Contains(res.Problems, want) {
			t.Errorf("problems %q lack %q", res.Problems, want)
		}
	}
}
