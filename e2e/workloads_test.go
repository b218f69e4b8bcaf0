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

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/devcluster/devcluster/bootstrap"
)

// TestWorkloads: `up` builds the sample image from a local base, pushes it,
// applies the samples and a folder of user manifests (a Deployment on an
// image pushed with `registry push` and named localhost:<port>/…, a
// StatefulSet, a DaemonSet), waits for them, and prints the LoadBalancer
// URL; a re-run changes nothing; a Deployment whose pods cannot pull is
// reported with pod and reason long before any progress deadline.
func TestWorkloads(t *testing.T) {
	ctx := context.Background()
	u := newUser(t)
	port := freePort(t)
	const cluster = "e2e-work"

	baseDir, base := baseLayout(t, u.home)
	apps := filepath.Join(u.home, "apps")
	if err := os.MkdirAll(apps, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(apps, "app.yaml"), fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: team}
spec:
  replicas: 2
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers: [{name: api, image: localhost:%s/team/api:v1}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: team}
spec:
  replicas: 2
  serviceName: db
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      containers: [{name: db, image: localhost:%s/team/api:v1}]
`, port, port))
	writeFile(t, filepath.Join(apps, "daemon.yaml"), fmt.Sprintf(`apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, namespace: team}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      containers: [{name: agent, image: localhost:%s/team/api:v1}]
`, port))
	writeFile(t, filepath.Join(u.home, "devcluster.yaml"), fmt.Sprintf(`apiVersion: devcluster.dev/v1alpha1
kind: Cluster
name: %s
registry:
  port: %s
workloads:
  samples: true
  sampleBase: oci:%s
  manifests: [apps]
  timeout: 2m
`, cluster, port, baseDir))

	// The user's own image, pushed before the manifests that use it.
	// An empty manifest file is accepted.
	if r := u.devcluster("up", "--no-samples", "--manifest", "/dev/null"); r.code != 0 {
		t.Fatalf("up with an empty manifest: exit %d", r.code)
	}
	tarPath := filepath.Join(u.home, "api.tar")
	ref, _ := name.ParseReference("example.com/api:v1")
	if err := tarball.WriteToFile(tarPath, ref, base); err != nil {
		t.Fatal(err)
	}
	if r := u.devcluster("registry", "push", tarPath, "team/api:v1"); r.code != 0 {
		t.Fatalf("registry push: exit %d", r.code)
	}

	r := u.devcluster("up", "-o", "json")
	if r.code != 0 {
		t.Fatalf("up: exit %d", r.code)
	}
	var res bootstrap.Result
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		t.Fatal(err)
	}
	ready := map[string]bool{}
	for _, w := range res.Workloads {
		ready[w.Kind+" "+w.Namespace+"/"+w.Name] = w.Ready
	}
	for _, want := range []string{"Deployment devcluster-samples/web", "Deployment team/api", "StatefulSet team/db", "DaemonSet team/agent"} {
		if !ready[want] {
			t.Errorf("%s not reported ready: %+v", want, res.Workloads)
		}
	}
	admin, _ := cp.Client()
	api, err := admin.AppsV1().Deployments("team").Get(ctx, "api", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if img := api.Spec.Template.Spec.Containers[0].Image; img != "192.168.49.1:"+port+"/team/api:v1" {
		t.Errorf("user image not rewritten to the cluster-side address: %s", img)
	}
	web, err := admin.AppsV1().Deployments("devcluster-samples").Get(ctx, "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(web.Spec.Template.Spec.Containers[0].Image, "192.168.49.1:"+port+"/devcluster/sample-web:sha-") {
		t.Errorf("sample image = %s", web.Spec.Template.Spec.Containers[0].Image)
	}
	if web.Spec.Template.Annotations["devcluster.dev/config-hash"] == "" {
		t.Error("the sample's pod template has no config hash")
	}
	if web.Status.ReadyReplicas != 2 {
		t.Errorf("sample web ready replicas = %d", web.Status.ReadyReplicas)
	}
	foundURL := false
	for _, lb := range res.LoadBalancers {
		if lb.Namespace == "devcluster-samples" && lb.Name == "web" && len(lb.URLs) == 1 && lb.URLs[0] == "http://192.168.49.2:8080" {
			foundURL = true
		}
	}
	if !foundURL {
		t.Errorf("no LoadBalancer URL for the sample: %+v", res.LoadBalancers)
	}
	if r := u.devcluster("registry", "ls"); !strings.Contains(r.stdout, "devcluster/sample-web") {
		t.Errorf("sample image not in the registry:\n%s", r.stdout)
	}

	// Re-run: converged, nothing restarted.
	gen := web.Generation
	r = u.devcluster("up")
	if r.code != 0 || !strings.Contains(r.stderr, "(up to date)") {
		t.Fatalf("re-run: exit %d, sample image not reported up to date", r.code)
	}
	web2, _ := admin.AppsV1().Deployments("devcluster-samples").Get(ctx, "web", metav1.GetOptions{})
	if web2.Generation != gen {
		t.Errorf("re-run changed the sample Deployment (generation %d → %d)", gen, web2.Generation)
	}

	// A Deployment whose pods cannot pull their image is reported with
	// pod and reason, long before the 600 s progress deadline.
	broken := filepath.Join(u.home, "broken.yaml")
	writeFile(t, broken, failingDeployment("team", "broken", "main", "localhost:"+port+"/team/missing:v9", "ImagePullBackOff")+"---\n"+
		failingDeployment("team", "crasher", "app", "localhost:"+port+"/team/api:v1", "CrashLoopBackOff"))
	start := time.Now()
	r = u.devcluster("up", "--no-samples", "--manifest", broken)
	took := time.Since(start)
	if r.code == 0 {
		t.Fatal("up with a broken Deployment succeeded")
	}
	for _, want := range []string{"Deployment team/broken is failing", "container main: ImagePullBackOff", "describe pod ",
		"Deployment team/crasher is failing", "container app: CrashLoopBackOff"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("failure report lacks %q", want)
		}
	}
	if took > 15*time.Second {
		t.Errorf("the failure took %s to report, want under 15 s", took)
	}
	t.Logf("broken Deployment reported after %s", took)

	// Invalid manifests: named by file and document, nothing applied.
	bad := filepath.Join(u.home, "bad.yaml")
	writeFile(t, bad, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ok-cm, namespace: team}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: nope, namespace: team}\nspec: {replicas: \"two\"}\n")
	r = u.devcluster("up", "--no-samples", "--manifest", bad)
	if r.code == 0 || !strings.Contains(r.stderr, "bad.yaml document 2") || !strings.Contains(r.stderr, "nothing was applied") {
		t.Errorf("invalid manifest: exit %d", r.code)
	}
	if _, err := admin.CoreV1().ConfigMaps("team").Get(ctx, "ok-cm", metav1.GetOptions{}); err == nil {
		t.Error("the valid document of a rejected set was applied")
	}
	u.devcluster("down")
}
