//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/devcluster/devcluster/bootstrap"
	"github.com/devcluster/devcluster/e2e/harness"
	"github.com/devcluster/devcluster/kube"
)

// TestDeploy runs `devcluster deploy` as a CI job would, against a context
// devcluster did not create (the control plane's admin kubeconfig: no
// agent, no registry), on kwok nodes: the first deploy creates the
// ConfigMap; an unchanged deploy returns at once; a configuration-only
// change rolls the pods to a new ReplicaSet; --dry-run and bad input write
// nothing (bad arguments are refused before the cluster is contacted); a
// missing image fails fast with the pod and the reason; with
// --rollback-on-failure the template and the ConfigMap data come back.
func TestDeploy(t *testing.T) {
	ctx := context.Background()
	u := newUser(t)
	admin, ns := deployTarget(t, u, "e2e-deploy", "deploy")
	replicas := int32(2)
	dep := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns},
		Spec: appsv1.DeploymentSpec{Replicas: &replicas, Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
				Spec: corev1.PodSpec{Containers: []corev1.Container{
					{Name: "nginx", Image: "example.com/web:v0", VolumeMounts: []corev1.VolumeMount{{Name: "conf", MountPath: "/etc/nginx/conf.d"}}},
					{Name: "sidecar", Image: "example.com/sidecar:v1"}},
					Volumes: []corev1.Volume{{Name: "conf", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
						LocalObjectReference: corev1.LocalObjectReference{Name: "web-config"}}}}}}}}}
	if _, err := admin.AppsV1().Deployments(ns).Create(ctx, dep, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(u.home, "nginx.conf")
	writeFile(t, conf, "server { listen 8080; add_header X-Config v1; }\n")
	deploy := func(args ...string) (result, *bootstrap.DeployResult) {
		t.Helper()
		r := u.devcluster(append([]string{"--kubeconfig", cp.Kubeconfig, "deploy", "deployment/web", "-n", ns, "--timeout", "2m", "-o", "json"}, args...)...)
		var res bootstrap.DeployResult
		if r.stdout != "" {
			if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
				t.Fatalf("deploy -o json: %v\n%s", err, r.stdout)
			}
		}
		return r, &res
	}
	template := func() (corev1.PodTemplateSpec, string) {
		t.Helper()
		d, err := admin.AppsV1().Deployments(ns).Get(ctx, "web", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return d.Spec.Template, d.Annotations["deployment.kubernetes.io/revision"]
	}
	configData := func() string {
		cm, err := admin.CoreV1().ConfigMaps(ns).Get(ctx, "web-config", metav1.GetOptions{})
		if err != nil {
			return "<absent>"
		}
		return cm.Data["nginx.conf"]
	}

	// 1. The first deploy creates the ConfigMap, sets the image, rolls out.
	r, res := deploy("--configmap", "web-config="+conf, "--image", "nginx=example.com/web:v1")
	if r.code != 0 {
		t.Fatalf("first deploy: exit %d", r.code)
	}
	if len(res.ConfigMaps) != 1 || res.ConfigMaps[0].Action != "created" || configData() != "server { listen 8080; add_header X-Config v1; }\n" {
		t.Errorf("ConfigMap after the first deploy: %+v, data %q", res.ConfigMaps, configData())
	}
	tmpl, rev1 := template()
	if tmpl.Spec.Containers[0].Image != "example.com/web:v1" || tmpl.Spec.Containers[1].Image != "example.com/sidecar:v1" || tmpl.Annotations[kube.ConfigHashAnnotation] == "" {
		t.Errorf("template after the first deploy: images %s, %s; annotations %v", tmpl.Spec.Containers[0].Image, tmpl.Spec.Containers[1].Image, tmpl.Annotations)
	}
	if len(res.Workloads) != 1 || !res.Workloads[0].Ready || res.Workloads[0].Revision != rev1 {
		t.Errorf("workloads = %+v (revision now %s)", res.Workloads, rev1)
	}

	// 2. The same deploy again changes nothing and returns at once.
	r, res = deploy("--configmap", "web-config="+conf, "--image", "nginx=example.com/web:v1")
	if r.code != 0 || res.Changed {
		t.Errorf("unchanged deploy: exit %d, changed %v", r.code, res.Changed)
	}
	if _, rev := template(); rev != rev1 {
		t.Errorf("an unchanged deploy made revision %s (was %s)", rev, rev1)
	}
	if r.took > 5*time.Second {
		t.Errorf("an unchanged deploy took %s", r.took)
	}

	// 3. A configuration-only change rolls the pods to a new ReplicaSet.
	writeFile(t, conf, "server { listen 8080; add_header X-Config v2; }\n")
	r, res = deploy("--configmap", "web-config="+conf, "--image", "nginx=example.com/web:v1")
	if r.code != 0 || !res.Changed || res.ConfigMaps[0].Action != "updated" {
		t.Fatalf("config-only deploy: exit %d, %+v", r.code, res)
	}
	_, rev2 := template()
	if rev2 == rev1 {
		t.Errorf("a configuration change did not roll the pods (revision still %s)", rev1)
	}
	if n := readyReplicaSets(t, admin, ns); n != 1 {
		t.Errorf("%d ReplicaSets have pods after the rollout, want 1", n)
	}

	// 4. --dry-run writes nothing.
	writeFile(t, conf, "server { listen 8080; add_header X-Config v3; }\n")
	r, res = deploy("--configmap", "web-config="+conf, "--image", "nginx=example.com/web:v2", "--dry-run")
	if r.code != 0 || !res.DryRun {
		t.Errorf("dry run: exit %d", r.code)
	}
	if tmpl, rev := template(); rev != rev2 || tmpl.Spec.Containers[0].Image != "example.com/web:v1" || !strings.Contains(configData(), "v2") {
		t.Errorf("--dry-run wrote: revision %s, image %s, config %q", rev, tmpl.Spec.Containers[0].Image, configData())
	}

	// 5. Bad input is exit 2 and writes nothing.
	for _, args := range [][]string{
		{"--configmap", "web-config=" + filepath.Join(u.home, "missing.conf"), "--image", "nginx=example.com/web:v2"},
		{"--configmap", "web-config=" + conf, "--image", "nginx"},
		{"--configmap", "web-config=" + conf, "--image", "nope=example.com/web:v2"},
		{"--configmap", "web-config=" + conf, "--image", "nginx=Not A Reference"},
	} {
		r, _ := deploy(args...)
		if r.code != 2 {
			t.Errorf("deploy %q: exit %d, want 2\n%s", args, r.code, r.stderr)
		}
		if tmpl, rev := template(); rev != rev2 || tmpl.Spec.Containers[0].Image != "example.com/web:v1" || !strings.Contains(configData(), "v2") {
			t.Errorf("deploy %q wrote: revision %s, image %s, config %q", args, rev, tmpl.Spec.Containers[0].Image, configData())
		}
	}

	// Arguments and flags are checked before the cluster is contacted:
	// no workload, a name without a kind, a kind deploy cannot roll out,
	// a malformed image; exit 2, and nothing is written.
	for _, args := range [][]string{
		{"deploy", "-n", ns},
		{"deploy", "web", "-n", ns, "--configmap", "web-config=" + conf},
		{"deploy", "pod/web", "-n", ns, "--configmap", "web-config=" + conf},
		{"deploy", "deployment/web", "-n", ns, "--image", "nginx=Not A Reference", "--configmap", "web-config=" + conf},
	} {
		r := u.devcluster(append([]string{"--kubeconfig", cp.Kubeconfig}, args...)...)
		if r.code != 2 || strings.Contains(r.stderr, "Connecting to the cluster") {
			t.Errorf("deploy %q: exit %d, want 2 before connecting\n%s", args, r.code, r.stderr)
		}
		if tmpl, rev := template(); rev != rev2 || tmpl.Spec.Containers[0].Image != "example.com/web:v1" || !strings.Contains(configData(), "v2") {
			t.Errorf("deploy %q wrote: revision %s, image %s, config %q", args, rev, tmpl.Spec.Containers[0].Image, configData())
		}
	}

	// 6. An image that cannot be pulled fails fast, naming pod and reason;
	// --rollback-on-failure restores the template and the ConfigMap data.
	start := time.Now()
	r, res = deploy("--configmap", "web-config="+conf, "--image", "nginx="+harness.MissingImage, "--rollback-on-failure")
	took := time.Since(start)
	if r.code != 1 {
		t.Fatalf("broken image: exit %d, want 1", r.code)
	}
	if took > 15*time.Second+10*time.Second {
		t.Errorf("the failure and its rollback took %s", took)
	}
	if res.Failure == nil || res.Failure.Reason != "ImagePullBackOff" || !strings.HasPrefix(res.Failure.Pod, "web-") || res.Failure.Container != "nginx" {
		t.Errorf("failure = %+v\n%s", res.Failure, r.stderr)
	}
	if !strings.Contains(r.stderr, "ImagePullBackOff") || !strings.Contains(r.stderr, res.Failure.Pod) {
		t.Errorf("stderr does not name the pod and the reason:\n%s", r.stderr)
	}
	if !res.RolledBack {
		t.Errorf("not rolled back: %+v", res)
	}
	if tmpl, _ := template(); tmpl.Spec.Containers[0].Image != "example.com/web:v1" || !strings.Contains(configData(), "v2") {
		t.Errorf("after the rollback: image %s, config %q; want v1 and the v2 configuration", tmpl.Spec.Containers[0].Image, configData())
	}
	t.Logf("broken image reported and rolled back in %s", took.Round(time.Millisecond))
	_ = os.Remove(conf)
}

// deployTarget brings up a cluster for a deploy test — a node for the pods
// (the stand-in registers a kwok node), brought down at the end — and
// returns an admin client and a new namespace: the deploy itself goes
// through the control plane's own admin kubeconfig, as a CI job's does on
// a cluster devcluster did not create.
func deployTarget(t testing.TB, u *user, cluster, prefix string) (kubernetes.Interface, string) {
	t.Helper()
	if r := u.devcluster("-q", "up", "--name", cluster, "--no-registry", "--no-lb"); r.code != 0 {
		t.Fatalf("up: exit %d", r.code)
	}
	t.Cleanup(func() { u.devcluster("-q", "down", "--name", cluster) })
	admin, err := cp.Client()
	if err != nil {
		t.Fatal(err)
	}
	ns := fmt.Sprintf("%s-%d", prefix, time.Now().UnixNano()%100000)
	if _, err := admin.CoreV1().Namespaces().Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	return admin, ns
}

// readyReplicaSets counts the ReplicaSets in ns that still have replicas.
func readyReplicaSets(t *testing.T, k kubernetes.Interface, ns string) int {
	t.Helper()
	rss, err := k.AppsV1().ReplicaSets(ns).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, rs := range rss.Items {
		if rs.Spec.Replicas != nil && *rs.Spec.Replicas > 0 {
			n++
		}
	}
	return n
}
