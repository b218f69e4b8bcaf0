package bootstrap

import (
	"context"
	"errors"
	"io"
	"maps"
	"os"
	"path/filepath"
	goruntime "runtime"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/devcluster/devcluster/config"
	"github.com/devcluster/devcluster/internal/problem"
	"github.com/devcluster/devcluster/internal/run/runtest"
	"github.com/devcluster/devcluster/internal/testutil"
	"github.com/devcluster/devcluster/kube"
	"github.com/devcluster/devcluster/manifests"
	"github.com/devcluster/devcluster/provider/existing"
	"github.com/devcluster/devcluster/provider/minikube"
)

func readBundle(t *testing.T, dir string) map[string]string { return testutil.ReadBundle(t, dir) }

func names(files map[string]string) []string { return slices.Sorted(maps.Keys(files)) }

// holding lists the files that contain s.
func holding(files map[string]string, s string) []string {
	var out []string
	for _, n := range names(files) {
		if strings.Contains(files[n], s) {
			out = append(out, n)
		}
	}
	return out
}

// A kubeconfig with the context in use and two others: an OIDC client
// secret in the exec plugin's arguments (kubelogin's documented setup), a
// password in the proxy URL, secrets in extensions, and a prod cluster and
// user that have nothing to do with the cluster being diagnosed.
const secretKubeconfig = `apiVersion: v1
kind: Config
current-context: prod
preferences:
  extensions:
  - name: prefs
    extension: {note: pref-extension-s3cr3t}
clusters:
- name: dev
  cluster:
    server: https://192.168.49.2:8443
    proxy-url: http://proxyuser:proxy-pa55word@127.0.0.1:3128
    insecure-skip-tls-verify: true
    extensions:
    - name: corp.example/vault
      extension: {apiKey: cluster-extension-s3cr3t}
- name: prod-cluster
  cluster:
    server: https://prod.example.com:6443
- name: staging-cluster
  cluster:
    server: https://staging.example.com:6443
users:
- name: dev-user
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: kubectl
      interactiveMode: Never
      args:
      - oidc-login
      - get-token
      - --oidc-issuer-url=https://issuer.example.com
      - --oidc-client-id=devcluster
      - --oidc-client-secret=oidc-client-s3cr3t
      - --password
      - spaced-arg-s3cr3t
      env:
      - {name: VAULT_TOKEN, value: exec-env-s3cr3t}
    extensions:
    - name: corp.example/sso
      extension: {refresh: user-extension-s3cr3t}
- name: prod-user
  user:
    token: prod-token-s3cr3t
- name: staging-user
  user:
    username: admin
    password: staging-pa55word
contexts:
- name: dev
  context:
    cluster: dev
    user: dev-user
    namespace: apps
    extensions:
    - name: corp.example/context
      extension: {secret: context-extension-s3cr3t}
- name: prod
  context: {cluster: prod-cluster, user: prod-user}
- name: staging
  context: {cluster: staging-cluster, user: staging-user}
extensions:
- name: corp.example/top
  extension: {secret: top-extension-s3cr3t}
`

// The bundle's kubeconfig is the context in use only, minified, with the
// exec plugin's argument values, the proxy's password and every extension
// redacted: the plugin's command stays, so it still says which plugin.
func TestDiagnoseKubeconfigHoldsOnlyTheContextInUse(t *testing.T) {
	t.Parallel()
	f := diagFixture(t)
	f.minikube("start", "-p", "dev")
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(path, []byte(secretKubeconfig), 0o600); err != nil {
		t.Fatal(err)
	}
	f.deps.Kubeconfig = path
	dir := filepath.Join(t.TempDir(), "bundle")
	if _, err := Diagnose(context.Background(), f.deps, f.cfg(nil), DiagnoseOptions{Dir: dir}); err != nil {
		t.Fatal(err)
	}
	files := readBundle(t, dir)
	kc, ok := files["kubeconfig-redacted.yaml"]
	if !ok {
		t.Fatalf("no kubeconfig in the bundle: %q", names(files))
	}
	for _, secret := range []string{"oidc-client-s3cr3t", "spaced-arg-s3cr3t", "exec-env-s3cr3t", "proxy-pa55word",
		"cluster-extension-s3cr3t", "user-extension-s3cr3t", "context-extension-s3cr3t", "top-extension-s3cr3t", "pref-extension-s3cr3t",
		"prod-token-s3cr3t", "staging-pa55word", "prod-cluster", "prod-user", "prod.example.com", "staging"} {
		if in := holding(files, secret); len(in) > 0 {
			t.Errorf("%q is in %q", secret, in)
		}
	}
	for _, want := range []string{"current-context: dev", "command: kubectl", "--oidc-client-secret=REDACTED", "--password",
		"proxy-url: http://proxyuser:xxxxx@127.0.0.1:3128", "server: https://192.168.49.2:8443", "namespace: apps", "corp.example/vault"} {
		if !strings.Contains(kc, want) {
			t.Errorf("the kubeconfig lacks %q:\n%s", want, kc)
		}
	}
}

// Literal env values of workloads, ReplicaSets and pods (containers, init
// containers, ephemeral containers, and kubectl's last-applied copy) are
// replaced; references to Secrets and ConfigMaps stay.
func TestDiagnoseReplacesEnvValues(t *testing.T) {
	t.Parallel()
	f := diagFixture(t)
	f.minikube("start", "-p", "dev")
	k := kubeOf(t, f)
	w := team(t, k, "apps", "web", func(spec *corev1.PodSpec) {
		spec.InitContainers = []corev1.Container{{Name: "migrate", Image: "migrate:1", Env: []corev1.EnvVar{{Name: "DB_PASSWORD", Value: "init-env-s3cr3t"}}}}
		spec.Containers[0].Env = []corev1.EnvVar{{Name: "API_KEY", Value: "container-env-s3cr3t"},
			{Name: "FROM_SECRET", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
				LocalObjectReference: corev1.LocalObjectReference{Name: "web-credentials"}, Key: "password"}}}}
	})
	w.dep.Annotations = map[string]string{"kubectl.kubernetes.io/last-applied-configuration": `{"apiVersion":"apps/v1","kind":"Deployment",` +
		`"spec":{"template":{"spec":{"containers":[{"name":"main","env":[{"name":"API_KEY","value":"last-applied-s3cr3t"}]}]}}}}`}
	if _, err := k.AppsV1().Deployments("apps").Update(context.Background(), w.dep, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	w.pod.Spec.EphemeralContainers = []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{
		Name: "debug", Image: "busybox", Env: []corev1.EnvVar{{Name: "TOKEN", Value: "ephemeral-env-s3cr3t"}}}}}
	if _, err := k.CoreV1().Pods("apps").Update(context.Background(), w.pod, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "bundle")
	if _, err := Diagnose(context.Background(), f.deps, f.cfg(nil), DiagnoseOptions{Dir: dir,
		Workloads: []kube.Workload{{Kind: "Deployment", Namespace: "apps", Name: "web"}}}); err != nil {
		t.Fatal(err)
	}
	files := readBundle(t, dir)
	for _, want := range []string{"workloads/apps/deployment-web.yaml", "workloads/apps/deployment-web-replicasets.yaml", "workloads/apps/deployment-web-pods.yaml"} {
		if _, ok := files[want]; !ok {
			t.Fatalf("the bundle lacks %s: %q", want, names(files))
		}
	}
	for _, secret := range []string{"init-env-s3cr3t", "container-env-s3cr3t", "last-applied-s3cr3t", "ephemeral-env-s3cr3t"} {
		if in := holding(files, secret); len(in) > 0 {
			t.Errorf("%q is in %q", secret, in)
		}
	}
	if in := holding(files, "web-credentials"); len(in) < 3 {
		t.Errorf("the Secret reference is gone: only in %q", in)
	}
	if !strings.Contains(files["workloads/apps/deployment-web.yaml"], "last-applied-configuration") {
		t.Errorf("kubectl's last-applied annotation was dropped instead of redacted")
	}
}

// On a cluster devcluster did not create, a bundle with no workload named
// holds devcluster's own objects and the configuration's workloads, not
// another team's Deployment, pods, events or logs.
func TestDiagnoseOnAnExistingClusterStaysWithDevclustersObjects(t *testing.T) {
	t.Parallel()
	f := diagFixture(t)
	f.deps.Provider = existing.New("shared", existing.WithKubeconfig(testutil.Kubeconfig(t, "shared")))
	if err := os.WriteFile(f.deps.Kubeconfig, []byte("apiVersion: v1\nkind: Config\nclusters: [{name: shared, cluster: {server: 'https://10.1.2.3:6443'}}]\n"+
		"users: [{name: me, user: {token: my-own-token}}]\ncontexts: [{name: shared, context: {cluster: shared, user: me}}]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	k := kubeOf(t, f)
	ctx := context.Background()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: manifests.SampleNamespace, Labels: map[string]string{kube.ManagedByLabel: kube.ManagedBy}}}
	if _, err := k.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	team(t, k, manifests.SampleNamespace, "web", nil)
	team(t, k, "team-a", "app", nil)
	other := team(t, k, "team-b", "payments", nil)
	// Same namespace, same labels as a workload that is dumped.
	team(t, k, "team-a", "lookalike", nil)
	event(t, k, "team-b", "Pod", other.pod.Name, "payments-event")
	event(t, k, "team-a", "Pod", "someone-elses-pod", "unrelated-event")
	event(t, k, "team-a", "Deployment", "app", "app-event")

	app := filepath.Join(t.TempDir(), "app.yaml")
	if err := os.WriteFile(app, []byte("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: app, namespace: team-a}\nspec:\n  selector: {matchLabels: {app: app}}\n  template:\n    metadata: {labels: {app: app}}\n    spec: {containers: [{name: main, image: app:1}]}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := f.cfg(func(file *config.File) {
		file.Provider, file.Context = "existing", "shared"
		file.Workloads.Manifests = []string{app}
	})
	dir := filepath.Join(t.TempDir(), "bundle")
	if _, err := Diagnose(ctx, f.deps, cfg, DiagnoseOptions{Dir: dir}); err != nil {
		t.Fatal(err)
	}
	files := readBundle(t, dir)
	for _, want := range []string{"workloads/" + manifests.SampleNamespace + "/deployment-web.yaml", "workloads/team-a/deployment-app.yaml"} {
		if _, ok := files[want]; !ok {
			t.Errorf("the bundle lacks %s: %q", want, names(files))
		}
	}
	for _, leak := range []string{"payments", "lookalike", "unrelated-event"} {
		if in := holding(files, leak); len(in) > 0 {
			t.Errorf("another team's %q is in %q", leak, in)
		}
	}
	if !strings.Contains(files["events/team-a.yaml"], "app-event") {
		t.Errorf("the configuration's workload's events are missing:\n%s", files["events/team-a.yaml"])
	}
	if strings.Contains(files["nodes.yaml"], "team-b/payments") {
		t.Errorf("the nodes' image lists name other teams' images")
	}

	// Named, another team's workload is collected.
	dir2 := filepath.Join(t.TempDir(), "bundle")
	if _, err := Diagnose(ctx, f.deps, cfg, DiagnoseOptions{Dir: dir2, Workloads: []kube.Workload{{Kind: "Deployment", Namespace: "team-b", Name: "payments"}}}); err != nil {
		t.Fatal(err)
	}
	if files := readBundle(t, dir2); files["workloads/team-b/deployment-payments.yaml"] == "" || !strings.Contains(files["events/team-b.yaml"], "payments-event") {
		t.Errorf("a named workload is not collected: %q", names(files))
	}
}

// The bundle is a fresh directory: a symlink planted in a previous bundle
// or given as --dir is never written through, a directory that is not a
// bundle is refused and left as it is, and a previous bundle is replaced
// as a whole.
func TestDiagnoseWritesAFreshDirectory(t *testing.T) {
	t.Parallel()
	f := diagFixture(t)
	f.minikube("start", "-p", "dev")
	ctx := context.Background()
	base := t.TempDir()
	victim := filepath.Join(base, "victim")
	if err := os.WriteFile(victim, []byte("precious\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	dir := filepath.Join(base, "bundle")
	if _, err := Diagnose(ctx, f.deps, f.cfg(nil), DiagnoseOptions{Dir: dir}); err != nil {
		t.Fatal(err)
	}
	first := readBundle(t, dir)
	if _, ok := first["nodes.yaml"]; !ok {
		t.Fatalf("no nodes.yaml: %q", names(first))
	}
	// Someone plants links where the next bundle writes.
	for _, name := range []string{"nodes.yaml", "summary.md", "minikube-logs.txt"} {
		_ = os.Remove(filepath.Join(dir, name))
		if err := os.Symlink(victim, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "stale.txt"), []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Diagnose(ctx, f.deps, f.cfg(nil), DiagnoseOptions{Dir: dir, Summary: "# replaced\n"}); err != nil {
		t.Fatalf("replacing a previous bundle: %v", err)
	}
	if b, _ := os.ReadFile(victim); string(b) != "precious\n" {
		t.Errorf("the bundle wrote through a planted symlink: the victim holds %q", b)
	}
	second := readBundle(t, dir)
	if _, ok := second["stale.txt"]; ok || second["summary.md"] != "# replaced\n" {
		t.Errorf("the previous bundle was not replaced as a whole: %q", names(second))
	}

	// --dir is a symlink.
	link := filepath.Join(base, "link")
	if err := os.Symlink(base, link); err != nil {
		t.Fatal(err)
	}
	if _, err := Diagnose(ctx, f.deps, f.cfg(nil), DiagnoseOptions{Dir: link}); err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("--dir a symlink: err = %v", err)
	}
	// --dir holds someone's files.
	mine := filepath.Join(base, "mine")
	if err := os.MkdirAll(mine, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(mine, "notes.txt"), []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Diagnose(ctx, f.deps, f.cfg(nil), DiagnoseOptions{Dir: mine}); err == nil || !strings.Contains(err.Error(), "not a devcluster diagnostics bundle") {
		t.Errorf("--dir a directory with other files: err = %v", err)
	}
	if entries, _ := os.ReadDir(mine); len(entries) != 1 {
		t.Errorf("a refused directory was changed: %v", entries)
	}
	if entries, _ := os.ReadDir(base); len(entries) != 4 {
		t.Errorf("left behind in the parent directory: %v", entries)
	}
}

// There is nothing to diagnose where there is no cluster: no directory is
// created.
func TestDiagnoseWithoutAClusterWritesNothing(t *testing.T) {
	t.Parallel()
	f := diagFixture(t)
	dir := filepath.Join(t.TempDir(), "bundle")
	_, err := Diagnose(context.Background(), f.deps, f.cfg(nil), DiagnoseOptions{Dir: dir})
	if err == nil || !strings.Contains(err.Error(), "nothing to diagnose") {
		t.Errorf("err = %v", err)
	}
	if _, err := os.Lstat(dir); !os.IsNotExist(err) {
		t.Errorf("a bundle was written for an absent cluster: %v", err)
	}

	// minikube cannot say what its cluster is: the kubeconfig's current
	// context, which may be any cluster, is not read instead.
	var asked []string
	kubeFor := f.deps.Kube
	f.deps.Kube = func(kctx string) (*kube.Clients, error) { asked = append(asked, kctx); return kubeFor(kctx) }
	f.minikube("start", "-p", "dev")
	f.deps.Provider = minikube.New(&runtest.Fake{Handler: func([]string) runtest.Reply {
		return runtest.Reply{ExitCode: 99, Stderr: "unexpected error\n"}
	}}, minikube.WithEnv(func(k string) (string, bool) { v, ok := f.runner.Env[k]; return v, ok }))
	_, err = Diagnose(context.Background(), f.deps, f.cfg(nil), DiagnoseOptions{Dir: dir})
	if !errors.Is(err, ErrNothingToDiagnose) || !strings.Contains(err.Error(), "context is not known") || len(asked) > 0 {
		t.Errorf("err = %v; contexts read: %q", err, asked)
	}
	if _, err := os.Lstat(dir); !os.IsNotExist(err) {
		t.Errorf("a bundle was written without knowing the cluster: %v", err)
	}
	f.deps.Kube = kubeFor

	// A cluster devcluster does not own, whose API server does not answer.
	f.deps.Provider = existing.New("shared", existing.WithKubeconfig(testutil.Kubeconfig(t, "shared")))
	kubeOf(t, f).(*fake.Clientset).PrependReactor("*", "*", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, errors.New("dial tcp 10.1.2.3:6443: connect: connection refused")
	})
	cfg := f.cfg(func(file *config.File) { file.Provider, file.Context = "existing", "shared" })
	_, err = Diagnose(context.Background(), f.deps, cfg, DiagnoseOptions{Dir: dir})
	if !errors.Is(err, ErrNothingToDiagnose) || !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("err = %v", err)
	}
	if _, err := os.Lstat(dir); !os.IsNotExist(err) {
		t.Errorf("a bundle was written for a cluster that does not answer: %v", err)
	}
}

// diagFixture is a fixture whose kubeconfig is the stand-in's, named
// explicitly: the test never reads the machine's.
func diagFixture(t *testing.T) *fixture {
	f := newFixture(t)
	f.deps.Kubeconfig = f.runner.Env["KUBECONFIG"]
	return f
}

// teamWorkload is a Deployment with its ReplicaSet and pod, as the
// controllers would have made them.
type teamWorkload struct {
	dep *appsv1.Deployment
	rs  *appsv1.ReplicaSet
	pod *corev1.Pod
}

func kubeOf(t *testing.T, f *fixture) kubernetes.Interface {
	t.Helper()
	c, err := f.deps.Kube("")
	if err != nil {
		t.Fatal(err)
	}
	return c.Kube
}

// team creates Deployment ns/name (labels app: web for every one, as teams
// copy their manifests) with a ReplicaSet and a pod that is not ready.
func team(t *testing.T, k kubernetes.Interface, ns, name string, mutate func(*corev1.PodSpec)) teamWorkload {
	t.Helper()
	ctx := context.Background()
	labels := map[string]string{"app": "web"}
	spec := corev1.PodSpec{Containers: []corev1.Container{{Name: "main", Image: "example.com/" + ns + "/" + name + ":1"}}}
	if mutate != nil {
		mutate(&spec)
	}
	yes := true
	dep := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, UID: types.UID(ns + "-" + name)},
		Spec: appsv1.DeploymentSpec{Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: spec}}}
	rs := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: name + "-5d8f", Namespace: ns, UID: types.UID(ns + "-" + name + "-rs"), Labels: labels,
		OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "Deployment", Name: name, UID: dep.UID, Controller: &yes}}},
		Spec: appsv1.ReplicaSetSpec{Selector: &metav1.LabelSelector{MatchLabels: labels}, Template: dep.Spec.Template}}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name + "-5d8f-x7k2p", Namespace: ns, Labels: labels,
		OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: rs.Name, UID: rs.UID, Controller: &yes}}},
		Spec: spec, Status: corev1.PodStatus{Phase: corev1.PodPending}}
	var err error
	if _, err = k.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{}); err != nil {
		_, _ = k.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
	}
	if dep, err = k.AppsV1().Deployments(ns).Create(ctx, dep, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if rs, err = k.AppsV1().ReplicaSets(ns).Create(ctx, rs, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if pod, err = k.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	node, err := k.CoreV1().Nodes().Get(ctx, "dev", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	node.Status.Images = append(node.Status.Images, corev1.ContainerImage{Names: []string{spec.Containers[0].Image}})
	if _, err := k.CoreV1().Nodes().UpdateStatus(ctx, node, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	return teamWorkload{dep: dep, rs: rs, pod: pod}
}

func event(t *testing.T, k kubernetes.Interface, ns, kind, name, reason string) {
	t.Helper()
	ev := &corev1.Event{ObjectMeta: metav1.ObjectMeta{Name: name + "." + reason, Namespace: ns},
		InvolvedObject: corev1.ObjectReference{Kind: kind, Namespace: ns, Name: name}, Reason: reason, Message: reason + " happened", Type: "Warning"}
	if _, err := k.CoreV1().Events(ns).Create(context.Background(), ev, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// Text from the cluster reaches the bundle's files printable: escapes and
// control characters a terminal would act on are shown, not sent.
func TestPrintable(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"plain\ttext\n":                    "plain\ttext\n",
		"crlf\r\nline\n":                   "crlf\r\nline\n",
		"\x1b[31mred\x1b[0m\n":             `\x1b[31mred\x1b[0m` + "\n",
		"progress\rhidden\n":               `progress\x0dhidden` + "\n",
		"bell\a nul\x00 del\x7f":           `bell\x07 nul\x00 del\x7f`,
		"c1 \u009b31m bidi \u202eevil":     `c1 \u009b31m bidi \u202eevil`,
		"not utf-8 \xff\xfe, ünïcödé ok ✓": `not utf-8 \xff\xfe, ünïcödé ok ✓`,
	} {
		if got := string(printable([]byte(in))); got != want {
			t.Errorf("printable(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{"web-5d8f": "web-5d8f", "..": "_", "": "_", "a/../b": "a_.._b", "node.example.com": "node.example.com"} {
		if got := pathName(in); got != want {
			t.Errorf("pathName(%q) = %q, want %q", in, got, want)
		}
	}
}

// minikube's logs repeat the start flags and the cluster configuration:
// the credentials in them are replaced, the rest is left as it is.
func TestRedactLogText(t *testing.T) {
	t.Parallel()
	in := `==> Audit <==
| start   | -p dev --docker-env=AWS_SECRET_ACCESS_KEY=aws-s3cr3t --cpus=2 | dev | root | v1.38.1 |
| start   | -p dev --registry-mirror=https://me:mirror-s3cr3t@mirror.example.com | dev | root | v1.38.1 |
==> Last Start <==
I1201 10:00:00.000000    1234 start.go:125] config: {Name:dev DockerEnv:[AWS_SECRET_ACCESS_KEY=aws-s3cr3t HTTP_PROXY=http://proxy:3128] Memory:4096}
I1201 10:00:01.000000    1234 kubeadm.go:310] kubeadm join control-plane.minikube.internal:8443 --token abcdef.kubeadm-s3cr3t --control-plane
I1201 10:00:02.000000    1234 round_trippers.go:466] curl -v -XGET -H "Authorization: Bearer bearer-s3cr3t" 'https://192.168.49.2:8443/api'
{"apiKey": "json-s3cr3t", "client_secret":"oauth-s3cr3t", "password" : "spaced-s3cr3t"}
I1201 10:00:03.000000    1234 pull.go:42] pulling through https://token-s3cr3t@mirror.example.com/v2/
# /etc/containerd/certs.d/docker.io/hosts.toml
[host."https://mirror.example.com".header]
  authorization = "Basic YmFzaWMtczNjcjN0"
  Authorization = ["Bearer header-s3cr3t"]
`
	out := string(redactLogText([]byte(in)))
	for _, secret := range []string{"aws-s3cr3t", "mirror-s3cr3t", "kubeadm-s3cr3t", "bearer-s3cr3t", "json-s3cr3t", "oauth-s3cr3t", "spaced-s3cr3t",
		"token-s3cr3t", "YmFzaWMtczNjcjN0", "header-s3cr3t"} {
		if strings.Contains(out, secret) {
			t.Errorf("%q is left in:\n%s", secret, out)
		}
	}
	for _, keep := range []string{"--cpus=2", "AWS_SECRET_ACCESS_KEY=REDACTED", "https://me:REDACTED@mirror.example.com", "HTTP_PROXY=http://proxy:3128",
		"Memory:4096}", "--token REDACTED --control-plane", "Bearer REDACTED", `"client_secret":"REDACTED"`,
		"https://REDACTED@mirror.example.com/v2/", `[host."https://mirror.example.com".header]`} {
		if !strings.Contains(out, keep) {
			t.Errorf("%q is not in:\n%s", keep, out)
		}
	}
}

// --dir naming the (empty) working directory or one of its parents is
// refused: an empty directory counts as a bundle to replace, and the
// replacement would rename the working directory aside.
func TestDiagnoseRefusesTheWorkingDirectory(t *testing.T) {
	f := diagFixture(t)
	f.minikube("start", "-p", "dev")
	wd := filepath.Join(t.TempDir(), "empty")
	if err := os.Mkdir(wd, 0o700); err != nil {
		t.Fatal(err)
	}
	t.Chdir(wd)
	for _, dir := range []string{wd, ".", filepath.Dir(wd), "/"} {
		_, err := Diagnose(context.Background(), f.deps, f.cfg(nil), DiagnoseOptions{Dir: dir})
		if problem.KindOf(err) != problem.Usage || !strings.Contains(err.Error(), "working directory") {
			t.Errorf("--dir %s: err = %v", dir, err)
		}
	}
	if info, err := os.Stat(wd); err != nil || !info.IsDir() {
		t.Fatalf("the working directory is gone: %v", err)
	}
	if entries, _ := os.ReadDir(wd); len(entries) != 0 {
		t.Errorf("something was written into the working directory: %v", entries)
	}
}

// The agent's log is read from its end: a log of gigabytes (sparse here)
// costs its last MiB, and the lines kept are whole.
func TestTailFileReadsTheEnd(t *testing.T) {
	path := filepath.Join(t.TempDir(), "agent.log")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(2 << 30); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Seek(0, io.SeekEnd); err != nil {
		t.Fatal(err)
	}
	line := strings.Repeat("x", 99) + "\n"
	for i := 0; i < 600; i++ {
		if _, err := f.WriteString(line); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.WriteString("last line\n"); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	var before, after goruntime.MemStats
	goruntime.ReadMemStats(&before)
	b, err := tailFile(path, 500)
	goruntime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if len(lines) != 500 || lines[499] != "last line" || lines[0] != strings.Repeat("x", 99) {
		t.Errorf("%d lines, first %q, last %q", len(lines), lines[0], lines[len(lines)-1])
	}
	if got := after.TotalAlloc - before.TotalAlloc; got > 64<<20 {
		t.Errorf("reading the tail of a 2 GiB log allocated %d MiB", got>>20)
	}
}
