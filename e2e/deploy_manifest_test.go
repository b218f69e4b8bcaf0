//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/devcluster/devcluster/bootstrap"
	"github.com/devcluster/devcluster/e2e/harness"
)

// webManifest is the web Deployment (nginx mounting web-config, and a
// sidecar) and its Service, as a team keeps them in its repository.
func webManifest(image string, templateLabels ...string) string {
	labels := "app: web"
	for _, l := range templateLabels {
		labels += ", " + l
	}
	return fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {%s}}
    spec:
      containers:
      - name: nginx
        image: %s
        volumeMounts: [{name: conf, mountPath: /etc/nginx/conf.d}]
      - name: sidecar
        image: example.com/sidecar:v1
      volumes: [{name: conf, configMap: {name: web-config}}]
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80}]
`, labels, image)
}

// TestDeployWithManifests runs `deploy --manifest` as a CI job would on
// the real control plane: the first deploy creates the Deployment, its
// Service and its ConfigMap; a template change only the manifest delivers
// is waited for; a failing rollout with --rollback-on-failure puts the
// ConfigMap's data back and deletes the ConfigMap the deploy created; a
// colleague's change made during a failing rollout survives the rollback
// and is reported, while what nobody else touched is restored.
func TestDeployWithManifests(t *testing.T) {
	ctx := context.Background()
	u := newUser(t)
	admin, ns := deployTarget(t, u, "e2e-deploy-m", "deploy-m")
	app := filepath.Join(u.home, "app.yaml")
	conf := filepath.Join(u.home, "nginx.conf")
	extra := filepath.Join(u.home, "extra.conf")
	writeFile(t, extra, "extra\n")
	parse := func(r result) *bootstrap.DeployResult {
		t.Helper()
		var res bootstrap.DeployResult
		if r.stdout != "" {
			if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
				t.Fatalf("deploy -o json: %v\n%s", err, r.stdout)
			}
		}
		return &res
	}
	deployArgs := func(args ...string) []string {
		return append([]string{"--kubeconfig", cp.Kubeconfig, "deploy", "deployment/web", "-n", ns, "-o", "json", "--manifest", app}, args...)
	}
	deploy := func(args ...string) (result, *bootstrap.DeployResult) {
		t.Helper()
		r := u.devcluster(deployArgs(args...)...)
		return r, parse(r)
	}
	images := func() map[string]string {
		t.Helper()
		d, err := admin.AppsV1().Deployments(ns).Get(ctx, "web", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, c := range d.Spec.Template.Spec.Containers {
			out[c.Name] = c.Image
		}
		return out
	}
	configData := func(name, key string) string {
		cm, err := admin.CoreV1().ConfigMaps(ns).Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return "<absent>"
		}
		if err != nil {
			t.Fatal(err)
		}
		return cm.Data[key]
	}

	// 1. The first deploy creates the Deployment, the Service and the
	// ConfigMap, and waits for the new Deployment.
	writeFile(t, app, webManifest("example.com/web:v1"))
	writeFile(t, conf, "v1\n")
	r, res := deploy("--configmap", "web-config="+conf, "--timeout", "2m")
	if r.code != 0 {
		t.Fatalf("first deploy: exit %d", r.code)
	}
	if _, err := admin.CoreV1().Services(ns).Get(ctx, "web", metav1.GetOptions{}); err != nil {
		t.Errorf("the manifest's Service: %v", err)
	}
	if len(res.Workloads) != 1 || !res.Workloads[0].Ready || !res.Changed {
		t.Errorf("first deploy: %+v", res)
	}

	// 2. A template change only the manifest delivers is a change, and is
	// waited for.
	writeFile(t, app, webManifest("example.com/web:v2"))
	r, res = deploy("--configmap", "web-config="+conf, "--timeout", "2m")
	if r.code != 0 || !res.Changed || len(res.Workloads) != 1 || !res.Workloads[0].Ready || res.Workloads[0].Message != "successfully rolled out" {
		t.Errorf("a manifest-only template change: exit %d, %+v", r.code, res)
	}
	if n := readyReplicaSets(t, admin, ns); n != 1 || images()["nginx"] != "example.com/web:v2" {
		t.Errorf("after the manifest-only change: %d ReplicaSets with pods, images %v", n, images())
	}

	// The same deploy again changes nothing and writes nothing.
	rvs := func() string {
		d, err1 := admin.AppsV1().Deployments(ns).Get(ctx, "web", metav1.GetOptions{})
		svc, err2 := admin.CoreV1().Services(ns).Get(ctx, "web", metav1.GetOptions{})
		cm, err3 := admin.CoreV1().ConfigMaps(ns).Get(ctx, "web-config", metav1.GetOptions{})
		if err1 != nil || err2 != nil || err3 != nil {
			t.Fatal(err1, err2, err3)
		}
		return d.ResourceVersion + "/" + svc.ResourceVersion + "/" + cm.ResourceVersion
	}
	before := rvs()
	r, res = deploy("--configmap", "web-config="+conf, "--timeout", "2m")
	if r.code != 0 || res.Changed || len(res.Written) != 0 || rvs() != before {
		t.Errorf("the same deploy again: exit %d, changed %v, written %v, resourceVersions %s then %s", r.code, res.Changed, res.Written, before, rvs())
	}

	// 3. A failing rollout with --rollback-on-failure: the template, the
	// ConfigMap's data and the ConfigMap the deploy created are undone.
	writeFile(t, app, webManifest(harness.MissingImage))
	writeFile(t, conf, "v2, broken\n")
	r, res = deploy("--configmap", "web-config="+conf, "--configmap", "extra-config="+extra, "--rollback-on-failure", "--timeout", "2m")
	if r.code != 1 {
		t.Fatalf("a failing rollout: exit %d, want 1", r.code)
	}
	if got := configData("web-config", "nginx.conf"); got != "v1\n" {
		t.Errorf("web-config after the rollback: %q, want the v1 it had", got)
	}
	if got := configData("extra-config", "extra.conf"); got != "<absent>" {
		t.Errorf("the ConfigMap the deploy created is still there: %q", got)
	}
	if got := images()["nginx"]; got != "example.com/web:v2" {
		t.Errorf("nginx after the rollback: %s, want v2", got)
	}
	if !res.RolledBack || res.Rollback == nil || !slices.Contains(res.Rollback.Deleted, "ConfigMap "+ns+"/extra-config") {
		t.Errorf("the rollback as reported: %+v, %+v", res.RolledBack, res.Rollback)
	}

	// 4. A colleague changes the sidecar's image while a rollout fails
	// (its pods stay ContainerCreating until --timeout): the rollback
	// leaves the Deployment and says who changed what; the ConfigMap,
	// which nobody else touched, is restored.
	d, err := admin.AppsV1().Deployments(ns).Get(ctx, "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	generation := d.Generation
	writeFile(t, app, webManifest("example.com/web:v3", harness.FailureLabel+": ContainerCreating"))
	writeFile(t, conf, "v3\n")
	done := make(chan result, 1)
	go func() {
		done <- u.devcluster(deployArgs("--configmap", "web-config="+conf, "--rollback-on-failure", "--timeout", "10s")...)
	}()
	deadline := time.Now().Add(time.Minute)
	for {
		d, err := admin.AppsV1().Deployments(ns).Get(ctx, "web", metav1.GetOptions{})
		if err == nil && d.Generation > generation {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the deploy did not write the template within a minute")
		}
		time.Sleep(50 * time.Millisecond)
	}
	patch := `{"spec":{"template":{"spec":{"containers":[{"name":"sidecar","image":"example.com/sidecar:v2"}]}}}}`
	if _, err := admin.AppsV1().Deployments(ns).Patch(ctx, "web", types.StrategicMergePatchType, []byte(patch), metav1.PatchOptions{FieldManager: "colleague"}); err != nil {
		t.Fatal(err)
	}
	r = <-done
	res = parse(r)
	if r.code != 6 {
		t.Errorf("a rollout that cannot finish: exit %d, want 6 (timeout)", r.code)
	}
	if got := images(); got["sidecar"] != "example.com/sidecar:v2" || got["nginx"] != "example.com/web:v3" {
		t.Errorf("the rollback reverted the colleague's change: %v", got)
	}
	for _, want := range []string{"Deployment " + ns + "/web changed since the deploy wrote it", "containers[name=sidecar].image", "by colleague"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr does not say %q:\n%s", want, r.stderr)
		}
	}
	if res.RolledBack || res.Rollback == nil || len(res.Rollback.Refused) != 1 || !slices.Contains(res.Rollback.Restored, "ConfigMap "+ns+"/web-config") {
		t.Errorf("the rollback as reported: rolledBack %v, %+v", res.RolledBack, res.Rollback)
	}
	if got := configData("web-config", "nginx.conf"); got != "v1\n" {
		t.Errorf("web-config after the rollback: %q, want v1", got)
	}
}
