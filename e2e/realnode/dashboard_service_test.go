//go:build realnode

package realnode

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/devcluster/devcluster/e2e/harness"
	"github.com/devcluster/devcluster/loadbalancer"
)

// TestServiceForwardsAClusterIPService: `service` on a ClusterIP Service
// prints a loopback URL the agent forwards through the API server to the
// sample's pods on the real node; the URL answers with the sample page; a
// second run writes nothing; --stop closes the forward.
func TestServiceForwardsAClusterIPService(t *testing.T) {
	if shape == "kind" {
		t.Skip("kind's shape runs TestKindServiceAndDashboard")
	}
	serviceScenario(t, nil)
}

// TestDashboardWithAStandIn: `dashboard` with dashboard.image set to a
// stand-in this test builds and pushes to devcluster's registry rolls it out
// on the real node; its printed URL reaches it through the agent's forward,
// the request carries the minted token, and the API server authenticates
// that token as the dashboard's ServiceAccount; a second run changes nothing.
func TestDashboardWithAStandIn(t *testing.T) {
	if shape == "kind" {
		t.Skip("kind's shape runs TestKindServiceAndDashboard")
	}
	dashboardScenario(t, nil)
}

// TestKindServiceAndDashboard runs the same two scenarios in kind's network
// shape, on a cluster real kind created (before TestKindServesThroughLoadBalancer,
// whose down deletes it).
func TestKindServiceAndDashboard(t *testing.T) {
	if shape != "kind" {
		t.Fatalf("run the TestKind* tests with DEVCLUSTER_REALNODE_SHAPE=kind (task e2e:node runs both shapes)")
	}
	t.Run("service", func(t *testing.T) { serviceScenario(t, kindEnv()) })
	t.Run("dashboard", func(t *testing.T) { dashboardScenario(t, kindEnv()) })
}

// serviceScenario is TestServiceForwardsAClusterIPService with the
// shape's extra environment.
func serviceScenario(t *testing.T, extra []string) {
	writeConfig(t)
	if r := devclusterEnv(t, extra, "up"); r.code != 0 {
		t.Fatalf("up: exit %d", r.code)
	}
	admin, err := env.cp.Client()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	defer func() {
		_ = admin.CoreV1().Services("devcluster-samples").Delete(ctx, "web-internal", metav1.DeleteOptions{})
	}()
	internal := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "web-internal", Namespace: "devcluster-samples"},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP, Selector: map[string]string{"app.kubernetes.io/name": "web"},
			Ports: []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromString("http")}}}}
	if _, err := admin.CoreV1().Services(internal.Namespace).Create(ctx, internal, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	r := devclusterEnv(t, extra, "service", "web-internal", "-n", "devcluster-samples", "--url")
	if r.code != 0 {
		t.Fatalf("service: exit %d", r.code)
	}
	u := strings.TrimSpace(r.stdout)
	if host, _, ok := loadbalancer.ParseHostURL(u); !ok || host != loadbalancer.LoopbackIP {
		t.Fatalf("service printed %q, want one loopback URL", r.stdout)
	}
	body, hdr := curl(t, u+"/", 30*time.Second)
	if !strings.Contains(body, "devcluster sample-web") || hdr.Get("X-Devcluster-Config") != "sample-web/v1" {
		t.Errorf("%s answered %q (headers %v)", u, body, hdr)
	}

	before, _ := admin.CoreV1().Services(internal.Namespace).Get(ctx, internal.Name, metav1.GetOptions{})
	r = devclusterEnv(t, extra, "service", "web-internal", "-n", "devcluster-samples", "-o", "json")
	var res struct {
		Requested bool
		URLs      []string
	}
	if err := json.Unmarshal([]byte(r.stdout), &res); r.code != 0 || err != nil || res.Requested || len(res.URLs) != 1 || res.URLs[0] != u {
		t.Errorf("second service: exit %d, %v, %+v; want the same URL, nothing requested", r.code, err, res)
	}
	if after, _ := admin.CoreV1().Services(internal.Namespace).Get(ctx, internal.Name, metav1.GetOptions{}); after.ResourceVersion != before.ResourceVersion {
		t.Errorf("the second service wrote the Service (resourceVersion %s -> %s)", before.ResourceVersion, after.ResourceVersion)
	}

	if r := devclusterEnv(t, extra, "service", "web-internal", "-n", "devcluster-samples", "--stop"); r.code != 0 || !strings.Contains(r.stdout, "withdrawn") {
		t.Fatalf("service --stop: exit %d", r.code)
	}
	addr := strings.TrimPrefix(u, "http://")
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatalf("%s still accepts connections 15 s after --stop", addr)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// dashboardScenario is TestDashboardWithAStandIn with the shape's extra
// environment.
func dashboardScenario(t *testing.T, extra []string) {
	writeConfig(t)
	bin := filepath.Join(env.bin, "headlamp-standin")
	root, _ := harness.RepoRoot()
	build := exec.Command("go", "build", "-o", bin, "./e2e/realnode/headlampstandin")
	build.Dir, build.Env = root, append(os.Environ(), "CGO_ENABLED=0")
	if b, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the stand-in: %v\n%s", err, b)
	}
	b, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	img, err := imageWithFile(b, "headlamp", []string{"/headlamp"})
	if err != nil {
		t.Fatal(err)
	}
	// The dashboard's pod runs as non-root, as Headlamp's image does.
	cfg, _ := img.ConfigFile()
	cfg = cfg.DeepCopy()
	cfg.Config.User = "65534"
	if img, err = mutate.ConfigFile(img, cfg); err != nil {
		t.Fatal(err)
	}
	tarPath := filepath.Join(env.home, "headlamp-standin.tar")
	ref, _ := name.ParseReference("example.com/headlamp-standin:v1")
	if err := tarball.WriteToFile(tarPath, ref, img); err != nil {
		t.Fatal(err)
	}
	if r := devclusterEnv(t, extra, "up"); r.code != 0 {
		t.Fatalf("up: exit %d", r.code)
	}
	defer removeDashboard(t)
	if r := devclusterEnv(t, extra, "registry", "push", tarPath, "e2e/headlamp-standin:v1"); r.code != 0 {
		t.Fatalf("registry push: exit %d", r.code)
	}
	f, err := os.OpenFile(filepath.Join(env.home, "devcluster.yaml"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(f, "dashboard:\n  image: localhost:%s/e2e/headlamp-standin:v1\n", env.port)
	f.Close()

	// Run without devcluster's logging of the output: it holds the token.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	r := runDevcluster(t, devclusterCommand(ctx, extra, "dashboard", "--url", "--token"))
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if r.code != 0 || len(lines) != 2 {
		t.Fatalf("dashboard --url --token: exit %d, %d lines on standard output, want the URL and the token\n%s", r.code, len(lines), r.stderr)
	}
	u, token := lines[0], lines[1]
	t.Logf("$ devcluster dashboard --url --token → exit 0\n%s\n(a token of %d bytes)\n%s", u, len(token), r.stderr)
	if strings.Contains(r.stderr, token) {
		t.Error("the token reached standard error (the log)")
	}
	if _, err := url.Parse(u); err != nil || !strings.HasPrefix(u, "http://127.0.0.1:") {
		t.Fatalf("dashboard URL %q", u)
	}
	req, _ := http.NewRequest(http.MethodGet, u+"/", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	var body string
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := (&http.Client{Timeout: 2 * time.Second}).Do(req)
		if err == nil {
			bb, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if body = string(bb); resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not answer: %v %q", u, err, body)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if !strings.Contains(body, "authorization: Bearer "+token) || !strings.Contains(body, `"-in-cluster"`) {
		t.Errorf("the dashboard saw %q", body)
	}
	admin, err := env.cp.Client()
	if err != nil {
		t.Fatal(err)
	}
	tr, err := admin.AuthenticationV1().TokenReviews().Create(context.Background(),
		&authenticationv1.TokenReview{Spec: authenticationv1.TokenReviewSpec{Token: token}}, metav1.CreateOptions{})
	if err != nil || !tr.Status.Authenticated || tr.Status.User.Username != "system:serviceaccount:devcluster-dashboard:headlamp-admin" {
		t.Errorf("TokenReview of the minted token: %v, %+v", err, tr.Status)
	}

	r = devclusterEnv(t, extra, "dashboard", "-o", "json")
	var res struct {
		Changed bool
		URL     string
		Token   string
	}
	if err := json.Unmarshal([]byte(r.stdout), &res); r.code != 0 || err != nil || res.Changed || res.URL != u || res.Token != "" {
		t.Errorf("second dashboard: exit %d, %v, %+v; want unchanged, the same URL, no token", r.code, err, res)
	}
}

// removeDashboard deletes what dashboard installed, and waits until its
// pod is gone, so that the tests after this one (and the last one's down)
// find the node as they expect it. (down itself would delete the cluster,
// and the real node with it, for the tests that follow.)
func removeDashboard(t *testing.T) {
	t.Helper()
	admin, err := env.cp.Client()
	if err != nil {
		t.Error(err)
		return
	}
	ctx := context.Background()
	_ = admin.RbacV1().ClusterRoleBindings().Delete(ctx, "devcluster-dashboard-admin", metav1.DeleteOptions{})
	_ = admin.CoreV1().Namespaces().Delete(ctx, "devcluster-dashboard", metav1.DeleteOptions{})
	deadline := time.Now().Add(2 * time.Minute)
	for {
		pods, err := admin.CoreV1().Pods("devcluster-dashboard").List(ctx, metav1.ListOptions{})
		if err == nil && len(pods.Items) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("the dashboard's pods are still there 2 min after its namespace was deleted: %v", err)
			return
		}
		time.Sleep(500 * time.Millisecond)
	}
}
