//go:build e2e

package e2e

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/devcluster/devcluster/internal/testutil"
)

// TestDiagnosticsBundleOnAnExistingCluster: the kubeconfig has three
// contexts. The one in use logs in through an exec plugin whose arguments
// carry an OIDC client secret (kubelogin's documented setup) and reaches
// the API server through a proxy whose URL carries a password; the other
// two carry a token and a password for clusters that have nothing to do
// with this one. up (provider existing) works through both. The bundle of
// `devcluster diagnose` holds none of those secrets, nor the other
// contexts, nor the token the plugin printed; every file is 0600 and every
// directory 0700. With no workload named it holds the configuration's
// workload and not another team's Deployment; named, that one is
// collected, its literal env value redacted.
func TestDiagnosticsBundleOnAnExistingCluster(t *testing.T) {
	ctx := context.Background()
	u := newUser(t)
	admin, err := cp.Client()
	if err != nil {
		t.Fatal(err)
	}
	const (
		clientSecret = "oidc-client-secret-e2e-5f1c"
		proxyPass    = "proxy-password-e2e-9b2d"
		prodToken    = "prod-token-e2e-77aa"
		stagingPass  = "staging-password-e2e-31cc"
		teamSecret   = "team-env-secret-e2e-c0de"
	)
	proxy := &connectProxy{auth: "Basic " + base64.StdEncoding.EncodeToString([]byte("diag-proxy:"+proxyPass))}
	ps := httptest.NewServer(proxy)
	t.Cleanup(ps.Close) // after down, which goes through it

	plugin := filepath.Join(u.home, "kubectl-oidc_login")
	writeFile(t, plugin, fmt.Sprintf(`#!/bin/sh
# An OIDC login plugin: it wants its client secret and prints a token.
for a in "$@"; do [ "$a" = "--oidc-client-secret=%s" ] && ok=1; done
[ -n "$ok" ] || { echo "no client secret" >&2; exit 1; }
echo '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"%s"}}'
`, clientSecret, cp.Token))
	if err := os.Chmod(plugin, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(u.home, ".kube"), 0o700); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(u.home, ".kube", "config"), fmt.Sprintf(`apiVersion: v1
kind: Config
current-context: prod
clusters:
- name: e2e
  cluster:
    server: %s
    insecure-skip-tls-verify: true
    proxy-url: http://diag-proxy:%s@%s
- name: prod-cluster-e2e
  cluster: {server: "https://prod-e2e.invalid:6443"}
- name: staging-cluster-e2e
  cluster: {server: "https://staging-e2e.invalid:6443"}
users:
- name: oidc
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: %s
      args: [get-token, --oidc-issuer-url=https://issuer.invalid, --oidc-client-id=devcluster, --oidc-client-secret=%s]
      interactiveMode: Never
- name: prod-admin-e2e
  user: {token: %s}
- name: staging-admin-e2e
  user: {username: admin, password: %s}
contexts:
- name: e2e-oidc
  context: {cluster: e2e, user: oidc}
- name: prod
  context: {cluster: prod-cluster-e2e, user: prod-admin-e2e}
- name: staging
  context: {cluster: staging-cluster-e2e, user: staging-admin-e2e}
`, cp.URL, proxyPass, strings.TrimPrefix(ps.URL, "http://"), plugin, clientSecret, prodToken, stagingPass))

	suffix := time.Now().UnixNano() % 100000
	ns, teamNS := fmt.Sprintf("diag-%d", suffix), fmt.Sprintf("team-other-%d", suffix)
	t.Cleanup(func() {
		for _, n := range []string{ns, teamNS} {
			_ = admin.CoreV1().Namespaces().Delete(context.Background(), n, metav1.DeleteOptions{})
		}
	})
	writeFile(t, filepath.Join(u.home, "app.yaml"), appManifest(ns))
	writeFile(t, filepath.Join(u.home, "devcluster.yaml"), `apiVersion: devcluster.dev/v1alpha1
kind: Cluster
name: e2e-diag
provider: existing
context: e2e-oidc
workloads:
  samples: false
  manifests: [app.yaml]
  timeout: 2m
`)
	if _, err := admin.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: teamNS}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	labels := map[string]string{"app": "web"}
	other := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "payments-e2e", Namespace: teamNS},
		Spec: appsv1.DeploymentSpec{Selector: &metav1.LabelSelector{MatchLabels: labels}, Template: corev1.PodTemplateSpec{
			ObjectMeta: metav1.ObjectMeta{Labels: labels},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "main", Image: "example.com/payments:v3",
				Env: []corev1.EnvVar{{Name: "API_KEY", Value: teamSecret}}}}}}}}
	if _, err := admin.AppsV1().Deployments(teamNS).Create(ctx, other, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	// The nodes: another tool's cluster on the same control plane (the
	// minikube stand-in registers one).
	nodes := newUser(t)
	if r := nodes.devcluster("up", "--name", "e2e-diag-nodes", "--no-registry", "--no-lb"); r.code != 0 {
		t.Fatalf("the other tool's cluster: exit %d", r.code)
	}
	t.Cleanup(func() { nodes.devcluster("down", "--name", "e2e-diag-nodes") })
	if r := u.devcluster("up", "--wait", "1m"); r.code != 0 {
		t.Fatalf("up through the exec plugin and the proxy: exit %d", r.code)
	}
	t.Cleanup(func() { u.devcluster("down") })
	if proxy.tunnels.Load() == 0 {
		t.Fatal("the API server was not reached through the proxy")
	}

	r := u.devcluster("diagnose")
	if r.code != 0 || !strings.Contains(r.stdout, "Diagnostics written to devcluster-diagnostics") {
		t.Fatalf("diagnose: exit %d\n%s", r.code, r.stdout)
	}
	files := testutil.ReadBundle(t, filepath.Join(u.home, "devcluster-diagnostics"))
	for _, want := range []string{"kubeconfig-redacted.yaml", "nodes.yaml", "workloads/" + ns + "/deployment-app.yaml",
		"workloads/" + ns + "/deployment-app-pods.yaml", "events/" + ns + ".yaml"} {
		if _, ok := files[want]; !ok {
			t.Errorf("the bundle lacks %s", want)
		}
	}
	for _, secret := range []string{clientSecret, proxyPass, prodToken, stagingPass, cp.Token, "prod-cluster-e2e", "prod-admin-e2e",
		"staging-cluster-e2e", "staging-admin-e2e", "prod-e2e.invalid", "payments-e2e", "example.com/payments", teamSecret} {
		for name, content := range files {
			if strings.Contains(content, secret) {
				t.Errorf("%s holds %q", name, secret)
			}
		}
	}
	kc := files["kubeconfig-redacted.yaml"]
	for _, want := range []string{"current-context: e2e-oidc", "command: " + plugin, "--oidc-client-secret=REDACTED",
		"proxy-url: http://diag-proxy:xxxxx@127.0.0.1:", "server: " + cp.URL} {
		if !strings.Contains(kc, want) {
			t.Errorf("the bundle's kubeconfig lacks %q:\n%s", want, kc)
		}
	}

	// Named, the other team's Deployment is collected, its env value not.
	r = u.devcluster("diagnose", "--namespace", teamNS, "deployment/payments-e2e", "--dir", "named")
	if r.code != 0 {
		t.Fatalf("diagnose deployment/payments-e2e: exit %d\n%s", r.code, r.stdout)
	}
	named := testutil.ReadBundle(t, filepath.Join(u.home, "named"))
	if !strings.Contains(named["workloads/"+teamNS+"/deployment-payments-e2e.yaml"], "example.com/payments:v3") {
		t.Errorf("the named Deployment is not in the bundle")
	}
	for name, content := range named {
		if strings.Contains(content, teamSecret) {
			t.Errorf("%s holds the env value", name)
		}
	}
}

// connectProxy is an HTTP CONNECT proxy on loopback that wants a password
// and tunnels only to loopback addresses.
type connectProxy struct {
	auth    string
	tunnels atomic.Int32
}

func (p *connectProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodConnect {
		http.Error(w, "CONNECT only", http.StatusMethodNotAllowed)
		return
	}
	if r.Header.Get("Proxy-Authorization") != p.auth {
		w.Header().Set("Proxy-Authenticate", `Basic realm="e2e"`)
		http.Error(w, "proxy authentication required", http.StatusProxyAuthRequired)
		return
	}
	host, _, err := net.SplitHostPort(r.Host)
	if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
		http.Error(w, "loopback only", http.StatusForbidden)
		return
	}
	dst, err := net.DialTimeout("tcp", r.Host, 5*time.Second)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	conn, buf, err := w.(http.Hijacker).Hijack()
	if err != nil {
		_ = dst.Close()
		return
	}
	p.tunnels.Add(1)
	_, _ = conn.Write([]byte("HTTP/1.1 200 Connection established\r\n\r\n"))
	go func() {
		_, _ = io.Copy(dst, buf)
		_ = dst.Close()
	}()
	go func() {
		_, _ = io.Copy(conn, dst)
		_ = conn.Close()
	}()
}
