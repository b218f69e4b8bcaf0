package bootstrap

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"

	"github.com/devcluster/devcluster/agent"
	"github.com/devcluster/devcluster/config"
	"github.com/devcluster/devcluster/internal/fake/kubeapi"
	"github.com/devcluster/devcluster/internal/problem"
	"github.com/devcluster/devcluster/kube"
	"github.com/devcluster/devcluster/loadbalancer"
)

// playAgent plays the agent's half of the host-access contract until ctx
// ends: a Service that asks for a forward gets a host-url annotation with
// one loopback URL per TCP port, written as the agent writes it (a patch
// of the annotation alone, the agent's field manager); one that withdraws
// it loses the annotation. It returns how many forwards it opened.
func playAgent(ctx context.Context, t *testing.T, k kubernetes.Interface, ns string) <-chan int {
	t.Helper()
	opened := make(chan int, 1)
	w, err := k.CoreV1().Services(ns).Watch(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		n := 0
		defer func() { opened <- n }()
		defer w.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case ev, ok := <-w.ResultChan():
				if !ok {
					return
				}
				svc, _ := ev.Object.(*corev1.Service)
				if svc == nil || ev.Type == watch.Deleted {
					continue
				}
				_, has := svc.Annotations[loadbalancer.HostURLAnnotation]
				var value any
				switch want := loadbalancer.WantsForward(svc); {
				case want && !has:
					var urls []string
					for i, p := range svc.Spec.Ports {
						if loadbalancer.IsTCP(p) {
							urls = append(urls, loadbalancer.HostURL(p, loadbalancer.LoopbackIP, int32(41000+i)))
						}
					}
					value = loadbalancer.JoinHostURLs(urls)
					n++
				case !want && has:
					// Withdrawn: the agent removes the annotation.
				default:
					continue
				}
				body, _ := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": map[string]any{loadbalancer.HostURLAnnotation: value}}})
				if _, err := k.CoreV1().Services(svc.Namespace).Patch(ctx, svc.Name, types.StrategicMergePatchType, body, metav1.PatchOptions{FieldManager: kube.FieldManager}); err != nil && ctx.Err() == nil {
					t.Errorf("agent: %v", err)
				}
			}
		}
	}()
	return opened
}

func webService() *corev1.Service {
	return &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "apps"}, Spec: corev1.ServiceSpec{
		Type: corev1.ServiceTypeClusterIP,
		Ports: []corev1.ServicePort{
			{Name: "http", Port: 80, Protocol: corev1.ProtocolTCP},
			{Name: "dns", Port: 53, Protocol: corev1.ProtocolUDP},
			{Name: "metrics", Port: 9090},
		}}}
}

func hostAccessOn(api *kubeapi.Server, running bool) *hostAccess {
	h := &hostAccess{clients: &kube.Clients{Kube: api.Clientset, Context: "dev"}}
	if running {
		h.agent = &agent.Status{Running: true, LogPath: "/state/agent.log"}
	}
	return h
}

var devConfig = &config.Config{Name: "dev"}

// service on a ClusterIP Service asks the agent for the forward with its
// own field manager (so the agent's applies never drop it), waits for the
// agent's URLs, and maps them to the TCP ports; --stop withdraws it.
func TestServiceAsksTheAgentAndWaits(t *testing.T) {
	t.Parallel()
	api := kubeapi.New(webService())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	opened := playAgent(ctx, t, api.Clientset, "apps")
	rec := &recorder{}
	h := hostAccessOn(api, true)
	res, err := serviceOn(ctx, rec, h, devConfig, ServiceOptions{Name: "web", Namespace: "apps", Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"http://127.0.0.1:41000", "http://127.0.0.1:41002"}
	if !slices.Equal(res.URLs, want) || !res.Requested || res.Access != "forward" || res.Type != "ClusterIP" {
		t.Fatalf("result %+v, want URLs %v", res, want)
	}
	if res.Ports[1].URL != "" || !strings.Contains(res.Ports[1].Detail, "TCP only") || res.Ports[2].URL != want[1] {
		t.Errorf("ports %+v", res.Ports)
	}
	svc, _ := api.Clientset.CoreV1().Services("apps").Get(ctx, "web", metav1.GetOptions{})
	if owner := annotationOwner(t, svc, loadbalancer.ForwardAnnotation); owner != kube.ServiceFieldManager {
		t.Errorf("the forward annotation is owned by %q, want %q", owner, kube.ServiceFieldManager)
	}

	// Again: the forward is there, nothing is written.
	rv := svc.ResourceVersion
	res, err = serviceOn(ctx, rec, h, devConfig, ServiceOptions{Name: "web", Namespace: "apps", Port: "metrics"})
	if err != nil || res.Requested || !slices.Equal(res.URLs, want[1:]) {
		t.Fatalf("second run: %+v, %v", res, err)
	}
	if svc, _ = api.Clientset.CoreV1().Services("apps").Get(ctx, "web", metav1.GetOptions{}); svc.ResourceVersion != rv {
		t.Errorf("a second service wrote the Service (resourceVersion %s -> %s)", rv, svc.ResourceVersion)
	}
	if res, err = serviceOn(ctx, rec, h, devConfig, ServiceOptions{Name: "web", Namespace: "apps", Port: "80"}); err != nil || !slices.Equal(res.URLs, want[:1]) {
		t.Errorf("--port 80: %+v, %v", res, err)
	}

	// --stop withdraws it; the agent closes the forward.
	res, err = serviceOn(ctx, rec, h, devConfig, ServiceOptions{Name: "web", Namespace: "apps", Stop: true})
	if err != nil || res.Access != "stopped" {
		t.Fatalf("--stop: %+v, %v", res, err)
	}
	gone, err := kube.WaitForService(ctx, api.Clientset, "apps", "web", 10*time.Second, func(s *corev1.Service) (bool, error) {
		_, has := s.Annotations[loadbalancer.HostURLAnnotation]
		return !has, nil
	})
	if err != nil || loadbalancer.WantsForward(gone) {
		t.Fatalf("after --stop: %v, annotations %v", err, gone.Annotations)
	}
	// A second --stop has nothing to do.
	if res, err = serviceOn(ctx, rec, h, devConfig, ServiceOptions{Name: "web", Namespace: "apps", Stop: true}); err != nil || res.Access != "not-forwarded" {
		t.Errorf("second --stop: %+v, %v", res, err)
	}
	cancel()
	if n := <-opened; n != 1 {
		t.Errorf("the agent opened %d forwards, want 1", n)
	}
}

// annotationOwner is the field manager that owns an annotation.
func annotationOwner(t *testing.T, svc *corev1.Service, key string) string {
	t.Helper()
	for _, mf := range svc.ManagedFields {
		if mf.FieldsV1 == nil {
			continue
		}
		var f map[string]map[string]map[string]any
		if err := json.Unmarshal(mf.FieldsV1.GetRawBytes(), &f); err != nil {
			t.Fatal(err)
		}
		if _, ok := f["f:metadata"]["f:annotations"]["f:"+key]; ok {
			return mf.Manager
		}
	}
	return ""
}

// A LoadBalancer Service is printed from the agent's annotation, else from
// its ingress, and nothing is written; a loopback ingress alone is not
// trusted (the agent may have remapped the port).
func TestServiceOfALoadBalancer(t *testing.T) {
	t.Parallel()
	lb := func(name string, ann map[string]string, ing ...corev1.LoadBalancerIngress) *corev1.Service {
		s := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", Annotations: ann},
			Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, Ports: []corev1.ServicePort{{Name: "web", Port: 8080}, {Name: "tls", Port: 443}}}}
		s.Status.LoadBalancer.Ingress = ing
		return s
	}
	api := kubeapi.New(
		lb("annotated", map[string]string{loadbalancer.HostURLAnnotation: "http://127.0.0.1:8080, https://127.0.0.1:8443"},
			corev1.LoadBalancerIngress{IP: "127.0.0.1"}),
		lb("node", nil, corev1.LoadBalancerIngress{IP: "192.168.49.2"}),
		lb("loopback", nil, corev1.LoadBalancerIngress{IP: "127.0.0.1"}),
	)
	ctx := context.Background()
	h := hostAccessOn(api, false)
	for name, want := range map[string][]string{
		"annotated": {"http://127.0.0.1:8080", "https://127.0.0.1:8443"},
		"node":      {"http://192.168.49.2:8080", "https://192.168.49.2:443"},
	} {
		res, err := serviceOn(ctx, &recorder{}, h, devConfig, ServiceOptions{Name: name, Namespace: "default", Timeout: time.Second})
		if err != nil || !slices.Equal(res.URLs, want) || res.Access != "loadBalancer" || res.Requested {
			t.Errorf("%s: %+v, %v; want %v", name, res, err, want)
		}
	}
	_, err := serviceOn(ctx, &recorder{}, h, devConfig, ServiceOptions{Name: "loopback", Namespace: "default", Timeout: 200 * time.Millisecond})
	if problem.KindOf(err) != problem.Timeout || !strings.Contains(problem.FixOf(err), "devcluster up") {
		t.Errorf("a loopback ingress without the agent's URLs: %v (fix %q)", err, problem.FixOf(err))
	}
	for _, s := range []string{"annotated", "node", "loopback"} {
		svc, _ := api.Clientset.CoreV1().Services("default").Get(ctx, s, metav1.GetOptions{})
		if _, ok := svc.Annotations[loadbalancer.ForwardAnnotation]; ok {
			t.Errorf("%s was asked for a forward", s)
		}
	}
}

// What service refuses, with the exit code each gets.
func TestServiceProblems(t *testing.T) {
	t.Parallel()
	udp := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "dns", Namespace: "apps"}, Spec: corev1.ServiceSpec{
		Ports: []corev1.ServicePort{{Name: "dns", Port: 53, Protocol: corev1.ProtocolUDP}}}}
	ext := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "ext", Namespace: "apps"}, Spec: corev1.ServiceSpec{
		Type: corev1.ServiceTypeExternalName, ExternalName: "db.example.com"}}
	api := kubeapi.New(webService(), udp, ext)
	ctx := context.Background()
	for _, tc := range []struct {
		name    string
		running bool
		o       ServiceOptions
		kind    problem.Kind
		msg     string
		fix     string
	}{
		{"not found", true, ServiceOptions{Name: "nope", Namespace: "apps"}, problem.Failed, "Service apps/nope not found", "get services -A"},
		{"wrong namespace", true, ServiceOptions{Name: "web", Namespace: "default"}, problem.Failed, "Service default/web not found", "-n"},
		{"udp only", true, ServiceOptions{Name: "dns", Namespace: "apps"}, problem.Failed, "has no TCP port (dns 53/UDP)", "NodePort"},
		{"external name", true, ServiceOptions{Name: "ext", Namespace: "apps"}, problem.Failed, "ExternalName: it names db.example.com", ""},
		{"no such port", true, ServiceOptions{Name: "web", Namespace: "apps", Port: "8443"}, problem.Usage, "--port 8443: Service apps/web has no such port (it has http 80/TCP, dns 53/UDP, metrics 9090/TCP)", ""},
		{"udp port", true, ServiceOptions{Name: "web", Namespace: "apps", Port: "dns"}, problem.Usage, "port 53 of Service apps/web is UDP", ""},
		{"agent not running", false, ServiceOptions{Name: "web", Namespace: "apps"}, problem.NotRunning, `agent for cluster "dev" is not running`, "devcluster up"},
		{"agent silent", true, ServiceOptions{Name: "web", Namespace: "apps", Timeout: 300 * time.Millisecond}, problem.Timeout, "no URL for Service apps/web after 300ms", "/state/agent.log"},
	} {
		_, err := serviceOn(ctx, &recorder{}, hostAccessOn(api, tc.running), devConfig, tc.o)
		if err == nil || problem.KindOf(err) != tc.kind || !strings.Contains(err.Error(), tc.msg) || !strings.Contains(problem.FixOf(err), tc.fix) {
			t.Errorf("%s: %v (kind %v, fix %q); want kind %v, %q, fix with %q", tc.name, err, problem.KindOf(err), problem.FixOf(err), tc.kind, tc.msg, tc.fix)
		}
	}
	// Refused before asking: no forward was requested by any of them but
	// the one that timed out, which says how to withdraw it.
	svc, _ := api.Clientset.CoreV1().Services("apps").Get(ctx, "web", metav1.GetOptions{})
	if !loadbalancer.WantsForward(svc) {
		t.Error("the timed-out run did not leave its request (the agent may still answer it)")
	}
	for _, n := range []string{"dns", "ext"} {
		s, _ := api.Clientset.CoreV1().Services("apps").Get(ctx, n, metav1.GetOptions{})
		if len(s.Annotations) != 0 {
			t.Errorf("%s was annotated: %v", n, s.Annotations)
		}
	}
}

// The forward request never lands on another Service of the same name:
// the patch carries the UID the Service was read with.
func TestForwardRequestCarriesTheUID(t *testing.T) {
	t.Parallel()
	api := kubeapi.New(webService())
	ctx := context.Background()
	svc, _ := api.Clientset.CoreV1().Services("apps").Get(ctx, "web", metav1.GetOptions{})
	stale := svc.DeepCopy()
	stale.UID = types.UID("uid-of-a-deleted-web")
	on := "true"
	if _, err := kube.SetServiceAnnotation(ctx, api.Clientset, stale, loadbalancer.ForwardAnnotation, &on); err == nil {
		t.Fatal("a patch for a Service that was replaced was accepted")
	}
	if got, _ := api.Clientset.CoreV1().Services("apps").Get(ctx, "web", metav1.GetOptions{}); loadbalancer.WantsForward(got) {
		t.Error("the replacement Service got the forward")
	}
}
