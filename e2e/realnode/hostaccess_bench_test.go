//go:build realnode

package realnode

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"

	"github.com/devcluster/devcluster/e2e/harness"
	"github.com/devcluster/devcluster/internal/testutil"
	"github.com/devcluster/devcluster/loadbalancer"
	"github.com/devcluster/devcluster/registry"
)

const benchDownload = 256 << 20

// BenchmarkHostAccess compares, side by side in one run on the real node,
// three ways from the host to one pod: devcluster's forward (localhost
// mode, through the API server), `kubectl port-forward svc/…` (the same
// path, kubectl's client) and straight to the node IP's NodePort through
// kube-proxy (the floor). For each: the throughput of a 256 MiB download
// and p50/p99 of 500 small requests, each on a new connection. Then the
// time from a new LoadBalancer Service to a host URL that answers. It
// reports figures and ratios; nothing is asserted about time.
func BenchmarkHostAccess(b *testing.B) {
	if shape != "minikube" {
		b.Skip("minikube's shape")
	}
	ctx := context.Background()
	writeConfigB(b)
	if r := devclusterB(b, "up", "--no-samples"); r.code != 0 {
		b.Fatalf("up: exit %d", r.code)
	}
	defer devclusterB(b, "down")
	admin, err := env.cp.Client()
	if err != nil {
		b.Fatal(err)
	}
	kubectl, err := harness.EnsureKubectl(ctx, logf)
	if err != nil {
		b.Fatal(err)
	}
	const ns = "hostbench"
	port := int32(testutil.Port(b))
	svc := deployBlob(b, admin, ns, port)
	urls := waitHostURL(b, admin, ns, svc.Name, 30*time.Second)
	kpPort := testutil.Port(b)
	stopKubectl := kubectlForward(b, kubectl, ns, svc.Name, kpPort, port)
	defer stopKubectl()
	paths := []struct{ name, url string }{
		{"devcluster", urls[0]},
		{"kubectl", "http://127.0.0.1:" + strconv.Itoa(kpPort)},
		{"node", "http://" + nodeIP + ":" + strconv.Itoa(int(svc.Spec.Ports[0].NodePort))},
	}
	type figures struct{ mibps, p50, p99 float64 }
	got := map[string]figures{}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, p := range paths {
			f := figures{mibps: download(b, p.url)}
			f.p50, f.p99 = latencies(b, p.url, 500)
			got[p.name] = f
		}
	}
	b.StopTimer()
	var ttu []time.Duration
	for i := 0; i < 5; i++ {
		ttu = append(ttu, timeToURL(b, admin, ns, i))
	}
	sort.Slice(ttu, func(i, j int) bool { return ttu[i] < ttu[j] })
	for _, p := range paths {
		f := got[p.name]
		b.ReportMetric(f.mibps, p.name+"-MiB/s")
		b.ReportMetric(f.p50, p.name+"-p50-ms")
		b.ReportMetric(f.p99, p.name+"-p99-ms")
	}
	d, k, n := got["devcluster"], got["kubectl"], got["node"]
	b.ReportMetric(d.mibps/k.mibps, "throughput-vs-kubectl")
	b.ReportMetric(d.p99/k.p99, "p99-vs-kubectl")
	b.ReportMetric(d.mibps/n.mibps, "throughput-vs-node")
	b.ReportMetric(d.p99/n.p99, "p99-vs-node")
	b.ReportMetric(float64(ttu[len(ttu)/2].Microseconds())/1000, "new-service-to-url-ms")
	b.Logf("256 MiB download and 500 small requests (new connection each), one run:\n"+
		"  devcluster forward  %7.1f MiB/s  p50 %6.2f ms  p99 %6.2f ms\n"+
		"  kubectl port-fwd    %7.1f MiB/s  p50 %6.2f ms  p99 %6.2f ms\n"+
		"  node IP (floor)     %7.1f MiB/s  p50 %6.2f ms  p99 %6.2f ms\n"+
		"  devcluster/kubectl: throughput %.2fx, p99 %.2fx; devcluster/floor: throughput %.2fx, p99 %.2fx\n"+
		"  new LoadBalancer Service to an answering host URL: median %s (of %v)",
		d.mibps, d.p50, d.p99, k.mibps, k.p50, k.p99, n.mibps, n.p50, n.p99,
		d.mibps/k.mibps, d.p99/k.p99, d.mibps/n.mibps, d.p99/n.p99, ttu[len(ttu)/2].Round(time.Millisecond), ttu)
}

// writeConfigB is writeConfig in localhost mode, for a benchmark.
func writeConfigB(b *testing.B) {
	cfg := fmt.Sprintf("apiVersion: devcluster.dev/v1alpha1\nkind: Cluster\nname: %s\nregistry:\n  port: %s\n"+
		"loadBalancer:\n  address: localhost\nworkloads:\n  samples: false\n", profile, env.port)
	if err := os.WriteFile(filepath.Join(env.home, "devcluster.yaml"), []byte(cfg), 0o600); err != nil {
		b.Fatal(err)
	}
}

// devclusterB runs the binary for a benchmark (devcluster takes a *T).
func devclusterB(b *testing.B, args ...string) result {
	cmd := exec.Command(filepath.Join(env.bin, "devcluster"), args...)
	cmd.Dir = env.home
	cmd.Env = devclusterEnvironment()
	out, err := cmd.CombinedOutput()
	r := result{stdout: string(out)}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
		b.Logf("$ devcluster %s → exit %d\n%s", strings.Join(args, " "), r.code, out)
	} else if err != nil {
		b.Fatal(err)
	}
	return r
}

// deployBlob builds the blob server, pushes it and runs one replica behind
// a LoadBalancer Service on port.
func deployBlob(b *testing.B, admin kubernetes.Interface, ns string, port int32) *corev1.Service {
	ctx := context.Background()
	root, _ := harness.RepoRoot()
	bin := filepath.Join(env.bin, "blob")
	cmd := exec.Command("go", "build", "-o", bin, "./e2e/realnode/blob")
	cmd.Dir, cmd.Env = root, append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("building the blob server: %v\n%s", err, out)
	}
	content, err := os.ReadFile(bin)
	if err != nil {
		b.Fatal(err)
	}
	img, err := imageWithFile(content, "blob", []string{"/blob"})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := registry.PushImage(ctx, img, "127.0.0.1:"+env.port, "e2e/blob:v1"); err != nil {
		b.Fatal(err)
	}
	_, _ = admin.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
	labels := map[string]string{"app": "blob"}
	one := int32(1)
	dep := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "blob", Namespace: ns}, Spec: appsv1.DeploymentSpec{
		Replicas: &one, Selector: &metav1.LabelSelector{MatchLabels: labels},
		Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: "blob", Image: hostIP + ":" + env.port + "/e2e/blob:v1", Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}},
			ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/", Port: intstr.FromString("http")}}, PeriodSeconds: 1},
		}}}}}}
	if _, err := admin.AppsV1().Deployments(ns).Create(ctx, dep, metav1.CreateOptions{}); err != nil {
		b.Fatal(err)
	}
	svc := benchService("blob", port)
	created, err := admin.CoreV1().Services(ns).Create(ctx, svc, metav1.CreateOptions{})
	if err != nil {
		b.Fatal(err)
	}
	for deadline := time.Now().Add(2 * time.Minute); ; {
		d, err := admin.AppsV1().Deployments(ns).Get(ctx, "blob", metav1.GetOptions{})
		if err == nil && d.Status.ReadyReplicas == 1 {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("the blob server is not ready: %+v", d.Status)
		}
		time.Sleep(200 * time.Millisecond)
	}
	return created
}

func benchService(name string, port int32) *corev1.Service {
	return &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, Selector: map[string]string{"app": "blob"},
			Ports: []corev1.ServicePort{{Name: "http", Port: port, TargetPort: intstr.FromString("http")}}}}
}

func waitHostURL(b *testing.B, admin kubernetes.Interface, ns, name string, within time.Duration) []string {
	for deadline := time.Now().Add(within); ; {
		s, err := admin.CoreV1().Services(ns).Get(context.Background(), name, metav1.GetOptions{})
		if err == nil {
			if u := loadbalancer.HostURLs(s); len(u) > 0 {
				return u
			}
		}
		if time.Now().After(deadline) {
			b.Fatalf("no host URL for %s/%s within %s", ns, name, within)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// kubectlForward runs `kubectl port-forward svc/NAME local:port` until
// the returned function stops it.
func kubectlForward(b *testing.B, kubectl, ns, name string, local int, port int32) func() {
	cmd := exec.Command(kubectl, "--kubeconfig", env.cp.Kubeconfig, "-n", ns, "port-forward", "svc/"+name,
		fmt.Sprintf("%d:%d", local, port), "--address", "127.0.0.1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(out)
		once := false
		for sc.Scan() {
			if !once && strings.Contains(sc.Text(), "Forwarding from") {
				once = true
				close(ready)
			}
		}
	}()
	select {
	case <-ready:
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		b.Fatal("kubectl port-forward did not start within 30 s")
	}
	return func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}
}

// download fetches benchDownload bytes and returns MiB/s.
func download(b *testing.B, base string) float64 {
	c := &http.Client{Timeout: 5 * time.Minute}
	start := time.Now()
	resp, err := c.Get(base + "/bytes?n=" + strconv.Itoa(benchDownload))
	if err != nil {
		b.Fatalf("download through %s: %v", base, err)
	}
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil || n != benchDownload {
		b.Fatalf("download through %s: %d bytes, %v", base, n, err)
	}
	return float64(n) / (1 << 20) / time.Since(start).Seconds()
}

// latencies makes n small requests, each on a new connection, and returns
// p50 and p99 in milliseconds.
func latencies(b *testing.B, base string, n int) (float64, float64) {
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	ds := make([]time.Duration, 0, n)
	for i := 0; i < n; i++ {
		start := time.Now()
		resp, err := c.Get(base + "/")
		if err != nil {
			b.Fatalf("request %d through %s: %v", i, base, err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		ds = append(ds, time.Since(start))
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	return ms(ds[n*50/100]), ms(ds[n*99/100])
}

// timeToURL creates a LoadBalancer Service and measures until its host URL
// answers.
func timeToURL(b *testing.B, admin kubernetes.Interface, ns string, i int) time.Duration {
	ctx := context.Background()
	name := "blob-new-" + strconv.Itoa(i)
	start := time.Now()
	if _, err := admin.CoreV1().Services(ns).Create(ctx, benchService(name, int32(testutil.Port(b))), metav1.CreateOptions{}); err != nil {
		b.Fatal(err)
	}
	defer admin.CoreV1().Services(ns).Delete(ctx, name, metav1.DeleteOptions{})
	urls := waitHostURL(b, admin, ns, name, 30*time.Second)
	c := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	for deadline := time.Now().Add(30 * time.Second); ; {
		resp, err := c.Get(urls[0] + "/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return time.Since(start)
			}
		}
		if time.Now().After(deadline) {
			b.Fatalf("%s did not answer within 30 s: %v", urls[0], err)
		}
		time.Sleep(2 * time.Millisecond)
	}
}
