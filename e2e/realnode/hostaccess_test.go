//go:build realnode

package realnode

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"

	"github.com/devcluster/devcluster/bootstrap"
	"github.com/devcluster/devcluster/image"
	"github.com/devcluster/devcluster/loadbalancer"
	"github.com/devcluster/devcluster/registry"
)

// TestHostAccessLocalhost runs the localhost scenarios in minikube's
// network shape.
func TestHostAccessLocalhost(t *testing.T) {
	if shape != "minikube" {
		t.Skip("minikube's shape; TestKindHostAccessLocalhost is kind's")
	}
	hostAccessScenarios(t, nil)
}

// TestKindHostAccessLocalhost runs them in kind's network shape.
func TestKindHostAccessLocalhost(t *testing.T) {
	if shape != "kind" {
		t.Fatalf("run the TestKind* tests with DEVCLUSTER_REALNODE_SHAPE=kind (task e2e:node runs both shapes)")
	}
	hostAccessScenarios(t, kindEnv())
}

// kindEnv is what devcluster needs to drive real kind on the docker
// stand-in of this tier.
func kindEnv() []string {
	return []string{
		"KIND_BINARY=" + kindTools.kind, "STANDIN_KUBECTL=" + kindTools.kubectl, "STANDIN_CA_FILE=" + env.cp.CAFile,
		"DOCKER_STANDIN_STATE=" + filepath.Join(env.home, "docker"),
		"STANDIN_NODE_EXEC=" + strings.Join(env.node.ExecPrefix(), " "),
	}
}

// hostAccessScenarios: with loadBalancer.address localhost, the sample's
// LoadBalancer Service answers on 127.0.0.1:8080 through the agent's
// port-forward (ingress 127.0.0.1, ipMode Proxy); a deleted pod's traffic
// moves to the other replica; a deploy of a new image under a client loop
// ends with every request served by the new pods and none failing after
// the rollout; a taken port is remapped and reported with its holder; a UDP
// Service gets UDPNotForwarded; down leaves no listener.
func hostAccessScenarios(t *testing.T, extra []string) {
	ctx := context.Background()
	writeConfig(t)
	f, err := os.OpenFile(filepath.Join(env.home, "devcluster.yaml"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = f.WriteString("loadBalancer:\n  address: localhost\n")
	f.Close()
	dc := func(args ...string) result { return devclusterEnv(t, extra, args...) }

	start := time.Now()
	r := dc("up", "-o", "json")
	if r.code != 0 {
		t.Fatalf("up: exit %d", r.code)
	}
	var res bootstrap.Result
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		t.Fatal(err)
	}
	const url = "http://127.0.0.1:8080"
	var web *bootstrap.LBService
	for i := range res.LoadBalancers {
		if l := &res.LoadBalancers[i]; l.Namespace == "devcluster-samples" && l.Name == "web" {
			web = l
		}
	}
	if web == nil || web.URL != url || web.IP != "127.0.0.1" {
		t.Fatalf("up -o json reports %+v for the sample, want url %s", web, url)
	}
	body, _ := curl(t, url+"/", 5*time.Second)
	t.Logf("nothing → the sample's page on %s in %s", url, time.Since(start).Round(time.Millisecond))
	if !strings.Contains(body, "It works: devcluster sample-web") {
		t.Fatalf("unexpected page: %q", body)
	}
	admin, err := env.cp.Client()
	if err != nil {
		t.Fatal(err)
	}
	svc, err := admin.CoreV1().Services("devcluster-samples").Get(ctx, "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if ing := svc.Status.LoadBalancer.Ingress; len(ing) != 1 || ing[0].IP != "127.0.0.1" || ing[0].IPMode == nil || *ing[0].IPMode != corev1.LoadBalancerIPModeProxy {
		t.Errorf("ingress = %+v, want 127.0.0.1 with ipMode Proxy", ing)
	}
	if st := dc("status"); st.code != 0 || !strings.Contains(st.stdout, url) {
		t.Errorf("status does not show %s", url)
	}

	t.Run("deleted pod", func(t *testing.T) { deletedPodMoves(t, admin, url) })
	t.Run("rollout", func(t *testing.T) { rolloutUnderLoad(t, extra, url) })
	remapped := takenPortRemapped(t, admin)
	udpNotForwarded(t, admin)

	if r := dc("down"); r.code != 0 {
		t.Fatalf("down: exit %d", r.code)
	}
	// down unregisters the node and deletes the namespaces (the control
	// plane finishes that later); the tier's later tests need both done.
	defer reviveNode(t)
	for _, u := range []string{url, remapped} {
		if u == "" {
			continue
		}
		_, port, _ := loadbalancer.ParseHostURL(u)
		if c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(int(port)), time.Second); err == nil {
			c.Close()
			t.Errorf("something still listens on 127.0.0.1:%d after down", port)
		}
	}
}

// pushPage pushes the sample's nginx base with another index.html to
// devcluster's registry as repoTag, and returns the base.
func pushPage(t *testing.T, repoTag, html string) v1.Image {
	t.Helper()
	ctx := context.Background()
	base, err := image.LoadBase(ctx, "oci:"+env.nginxBase)
	if err != nil {
		t.Fatal(err)
	}
	img, err := image.AddFiles(base, map[string][]byte{"usr/share/nginx/html/index.html": []byte(html)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := registry.PushImage(ctx, img, "127.0.0.1:"+env.port, repoTag); err != nil {
		t.Fatal(err)
	}
	return base
}

// probe is one request of a client loop.
type probe struct {
	at   time.Time
	err  error
	body string
}

// clientLoop requests url every 20 ms, each on a new connection, until
// stop is closed.
func clientLoop(url string, stop <-chan struct{}) func() []probe {
	var mu sync.Mutex
	var out []probe
	done := make(chan struct{})
	go func() {
		defer close(done)
		c := &http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
		for {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			p := probe{at: time.Now()}
			resp, err := c.Get(url + "/")
			if err == nil {
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				p.body = string(b)
				if resp.StatusCode != http.StatusOK {
					err = &httpError{resp.StatusCode}
				}
			}
			p.err = err
			mu.Lock()
			out = append(out, p)
			mu.Unlock()
		}
	}()
	return func() []probe {
		<-done
		mu.Lock()
		defer mu.Unlock()
		return out
	}
}

type httpError struct{ code int }

func (e *httpError) Error() string { return "HTTP " + strconv.Itoa(e.code) }

// deletedPodMoves deletes one of the sample's two pods while a client
// loop runs: once the EndpointSlice marks it terminating, every request is
// served (by the other replica, then also the replacement), with no action.
func deletedPodMoves(t *testing.T, admin kubernetes.Interface, url string) {
	ctx := context.Background()
	pods, err := admin.CoreV1().Pods("devcluster-samples").List(ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/name=web"})
	if err != nil || len(pods.Items) < 2 {
		t.Fatalf("sample pods: %v, %v", pods, err)
	}
	victim := pods.Items[0].Name
	stop := make(chan struct{})
	results := clientLoop(url, stop)
	time.Sleep(300 * time.Millisecond)
	deleted := time.Now()
	if err := admin.CoreV1().Pods("devcluster-samples").Delete(ctx, victim, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(4 * time.Second)
	close(stop)
	var failed, after int
	var lastFail time.Time
	for _, p := range results() {
		if p.at.Before(deleted) {
			if p.err != nil {
				t.Errorf("a request before the delete failed: %v", p.err)
			}
			continue
		}
		after++
		if p.err != nil || !strings.Contains(p.body, "It works") {
			failed++
			lastFail = p.at
		}
	}
	if failed == 0 {
		t.Logf("pod %s deleted: %d requests after it, none failed", victim, after)
	} else {
		t.Logf("pod %s deleted: %d requests after it, %d failed (the last %s after the delete)", victim, after, failed, lastFail.Sub(deleted).Round(time.Millisecond))
	}
	if after < 20 || (failed > 0 && lastFail.Sub(deleted) > 2*time.Second) {
		t.Errorf("traffic did not move to the other replica: %d of %d requests failed, the last %s after the delete", failed, after, lastFail.Sub(deleted))
	}
}

// rolloutUnderLoad deploys a second image while a client loop runs: after
// deploy returns (the rollout finished), every request is served by the new
// pods and none fails.
func rolloutUnderLoad(t *testing.T, extra []string, url string) {
	pushPage(t, "devcluster/sample-web:forwarded-v3", "<h1>devcluster sample-web forwarded v3</h1>\n")
	stop := make(chan struct{})
	results := clientLoop(url, stop)
	r := devclusterEnv(t, extra, "deploy", "deployment/web", "-n", "devcluster-samples", "--timeout", "2m",
		"--image", "nginx=localhost:"+env.port+"/devcluster/sample-web:forwarded-v3")
	finished := time.Now()
	if r.code != 0 {
		close(stop)
		t.Fatalf("deploy: exit %d", r.code)
	}
	time.Sleep(3 * time.Second)
	close(stop)
	var during, duringFailed, after int
	for _, p := range results() {
		if p.at.Before(finished) {
			during++
			if p.err != nil {
				duringFailed++
			}
			continue
		}
		after++
		if p.err != nil {
			t.Errorf("a request %s after the rollout failed: %v", p.at.Sub(finished).Round(time.Millisecond), p.err)
		} else if !strings.Contains(p.body, "forwarded v3") {
			t.Errorf("a request %s after the rollout was served by an old pod: %q", p.at.Sub(finished).Round(time.Millisecond), p.body)
		}
	}
	t.Logf("rollout under load: %d requests during it (%d failed), %d after it", during, duringFailed, after)
	if after < 20 {
		t.Errorf("only %d requests after the rollout", after)
	}
}

// takenPortRemapped creates a LoadBalancer Service on a port this test
// holds: the agent moves it to the next free port, reports it in the
// host-url annotation and a PortRemapped event naming this process, and it
// serves there. It returns the URL.
func takenPortRemapped(t *testing.T, admin kubernetes.Interface) string {
	ctx := context.Background()
	hold, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer hold.Close()
	port := int32(hold.Addr().(*net.TCPAddr).Port)
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "web-taken", Namespace: "devcluster-samples"},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, Selector: map[string]string{"app.kubernetes.io/name": "web"},
			Ports: []corev1.ServicePort{{Name: "http", Port: port, TargetPort: intstr.FromString("http")}}}}
	created := time.Now()
	if _, err := admin.CoreV1().Services("devcluster-samples").Create(ctx, svc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	var urls []string
	for deadline := time.Now().Add(10 * time.Second); len(urls) == 0; {
		got, err := admin.CoreV1().Services("devcluster-samples").Get(ctx, "web-taken", metav1.GetOptions{})
		if err == nil {
			urls = loadbalancer.HostURLs(got)
		}
		if time.Now().After(deadline) {
			t.Fatalf("no host URL for a Service on a taken port")
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("a new LoadBalancer Service → host URL %s in %s", urls[0], time.Since(created).Round(time.Millisecond))
	if _, p, _ := loadbalancer.ParseHostURL(urls[0]); p == port {
		t.Fatalf("host URL %s is the taken port", urls[0])
	}
	if body, _ := curl(t, urls[0]+"/", 5*time.Second); !strings.Contains(body, "It works") && !strings.Contains(body, "forwarded v3") {
		t.Errorf("the remapped URL serves %q", body)
	}
	msg := eventMessage(t, admin, "web-taken", "PortRemapped")
	if !strings.Contains(msg, "127.0.0.1:"+strconv.Itoa(int(port))+" is taken by PID "+strconv.Itoa(os.Getpid())) || !strings.Contains(msg, urls[0]) {
		t.Errorf("PortRemapped event = %q, want the holder (this test, PID %d) and the new URL", msg, os.Getpid())
	}
	return urls[0]
}

// udpNotForwarded: a LoadBalancer Service with a UDP port gets the
// UDPNotForwarded event, and no URL for that port.
func udpNotForwarded(t *testing.T, admin kubernetes.Interface) {
	ctx := context.Background()
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "dns", Namespace: "devcluster-samples"},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, Selector: map[string]string{"app.kubernetes.io/name": "web"},
			Ports: []corev1.ServicePort{{Name: "dns", Port: 5353, Protocol: corev1.ProtocolUDP, TargetPort: intstr.FromInt32(53)}}}}
	if _, err := admin.CoreV1().Services("devcluster-samples").Create(ctx, svc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if msg := eventMessage(t, admin, "dns", "UDPNotForwarded"); !strings.Contains(msg, "5353/UDP") {
		t.Errorf("UDPNotForwarded event = %q", msg)
	}
	got, _ := admin.CoreV1().Services("devcluster-samples").Get(ctx, "dns", metav1.GetOptions{})
	if u := loadbalancer.HostURLs(got); len(u) != 0 {
		t.Errorf("a UDP-only Service has host URLs %v", u)
	}
}

// eventMessage waits (10 s at most) for an event of reason on a Service.
func eventMessage(t *testing.T, admin kubernetes.Interface, name, reason string) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		evs, err := admin.CoreV1().Events("devcluster-samples").List(context.Background(), metav1.ListOptions{})
		if err == nil {
			for _, e := range evs.Items {
				if e.InvolvedObject.Name == name && e.Reason == reason {
					return e.Message
				}
			}
		}
		if time.Now().After(deadline) {
			t.Errorf("no %s event on Service %s within 10 s", reason, name)
			return ""
		}
		time.Sleep(50 * time.Millisecond)
	}
}
