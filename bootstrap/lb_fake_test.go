package bootstrap

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/devcluster/devcluster/config"
	"github.com/devcluster/devcluster/internal/problem"
	"github.com/devcluster/devcluster/internal/testutil"
	"github.com/devcluster/devcluster/kube"
	"github.com/devcluster/devcluster/provider/existing"
)

func lbService(name string, port int32, mutate func(*corev1.Service)) *corev1.Service {
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "apps"},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, Ports: []corev1.ServicePort{{Port: port, Protocol: corev1.ProtocolTCP}}}}
	if mutate != nil {
		mutate(svc)
	}
	return svc
}

func createServices(t *testing.T, k kubernetes.Interface, svcs ...*corev1.Service) {
	t.Helper()
	for _, svc := range svcs {
		if _, err := k.CoreV1().Services(svc.Namespace).Create(context.Background(), svc, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
}

func ingressOf(t *testing.T, k kubernetes.Interface, name string) string {
	t.Helper()
	svc, err := k.CoreV1().Services("apps").Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var ips []string
	for _, in := range svc.Status.LoadBalancer.Ingress {
		ips = append(ips, in.IP)
	}
	return strings.Join(ips, ",")
}

// Once, `lb` gives the LoadBalancer Services the node IP (or
// loadBalancer.ip), leaves those of another implementation and refuses
// the ports kube-proxy would take over on the node.
func TestAssignLoadBalancersOnce(t *testing.T) {
	t.Parallel()
	class := "example.com/metallb"
	for _, tt := range []struct {
		name   string
		ip     string // loadBalancer.ip
		wantIP string
	}{
		{"the node IP", "", "192.168.49.2"},
		{"loadBalancer.ip over the node IP", "10.9.8.7", "10.9.8.7"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			f.minikube("start", "-p", "dev")
			k := kubeOf(t, f)
			createServices(t, k,
				lbService("web", 8080, nil),
				lbService("metal", 8081, func(s *corev1.Service) { s.Spec.LoadBalancerClass = &class }),
				lbService("kubelet", 10250, nil),
				&corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "inner", Namespace: "apps"}, Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 80}}}},
			)
			var logged []string
			cfg := f.cfg(func(c *config.File) { c.LoadBalancer.IP = tt.ip })
			res, err := AssignLoadBalancers(context.Background(), f.deps, cfg, LBOptions{Log: func(format string, a ...any) { logged = append(logged, format) }})
			if err != nil {
				t.Fatal(err)
			}
			if res.IP != tt.wantIP {
				t.Errorf("IP %s, want %s", res.IP, tt.wantIP)
			}
			var got []string
			for _, r := range res.Assignments {
				got = append(got, r.Name+" "+r.Action+" "+r.IP)
			}
			if d := cmp.Diff([]string{"kubelet refuse ", "metal skip ", "web assign " + tt.wantIP}, got); d != "" {
				t.Errorf("assignments (-want +got):\n%s", d)
			}
			if ip := ingressOf(t, k, "web"); ip != tt.wantIP {
				t.Errorf("web's ingress %q, want %s", ip, tt.wantIP)
			}
			for _, n := range []string{"metal", "kubelet"} {
				if ip := ingressOf(t, k, n); ip != "" {
					t.Errorf("%s got an ingress: %s", n, ip)
				}
			}
			if len(logged) == 0 {
				t.Error("nothing was logged")
			}
			// Again: nothing to change.
			res, err = AssignLoadBalancers(context.Background(), f.deps, cfg, LBOptions{})
			if err != nil || len(res.Assignments) != 3 || res.Assignments[2].Action != "in-sync" {
				t.Errorf("a second run: %+v, %v", res, err)
			}
		})
	}
}

// With Watch, the controller runs until the context ends: a Service made
// meanwhile gets its IP, and the end is no error.
func TestAssignLoadBalancersWatchesUntilTheEnd(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.minikube("start", "-p", "dev")
	k := kubeOf(t, f)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	watching := make(chan string, 1)
	done := make(chan error, 1)
	var res *LBResult
	go func() {
		var err error
		res, err = AssignLoadBalancers(ctx, f.deps, f.cfg(nil), LBOptions{Watch: true, Watching: func(ip string) { watching <- ip }})
		done <- err
	}()
	select {
	case ip := <-watching:
		if ip != "192.168.49.2" {
			t.Errorf("watching with %s", ip)
		}
	case err := <-done:
		t.Fatalf("returned before watching: %v", err)
	}
	createServices(t, k, lbService("web", 8080, nil))
	for ingressOf(t, k, "web") == "" {
		select {
		case <-ctx.Done():
			t.Fatal("the Service made while watching got no IP")
		case <-time.After(10 * time.Millisecond):
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("the end of the watch: %v", err)
	}
	if res.IP != "192.168.49.2" || len(res.Assignments) != 0 {
		t.Errorf("result %+v", res)
	}
}

// What `lb` cannot do is a problem that says why, before any Service is
// touched.
func TestAssignLoadBalancersProblems(t *testing.T) {
	t.Parallel()
	unreachable := errors.New("no route to 192.168.49.2")
	for _, tt := range []struct {
		name     string
		arrange  func(f *fixture) *config.Config
		wantKind problem.Kind
		wantErr  string
		wantFix  string
	}{{
		name:     "no cluster",
		arrange:  func(f *fixture) *config.Config { return f.cfg(nil) },
		wantKind: problem.NotRunning,
	}, {
		name: "a cluster devcluster did not create has no node IP to hand out",
		arrange: func(f *fixture) *config.Config {
			f.deps.Provider = existing.New("shared", existing.WithKubeconfig(testutil.Kubeconfig(f.t, "shared")))
			return f.cfg(func(c *config.File) { c.Provider, c.Context = "existing", "shared" })
		},
		wantKind: problem.Config,
		wantErr:  `no IP for LoadBalancer Services: provider existing reports no node IP for cluster "dev"`,
		wantFix:  "set loadBalancer.ip in devcluster.yaml to an IP that reaches the cluster's nodes",
	}, {
		name: "the cluster cannot be reached",
		arrange: func(f *fixture) *config.Config {
			f.minikube("start", "-p", "dev")
			f.deps.Kube = func(string) (*kube.Clients, error) { return nil, unreachable }
			return f.cfg(nil)
		},
		wantKind: problem.Failed,
		wantErr:  unreachable.Error(),
	}} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			cfg := tt.arrange(f)
			_, err := AssignLoadBalancers(context.Background(), f.deps, cfg, LBOptions{})
			if err == nil || problem.KindOf(err) != tt.wantKind || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error %v (kind %v), want kind %v saying %q", err, problem.KindOf(err), tt.wantKind, tt.wantErr)
			}
			if tt.wantFix != "" && problem.FixOf(err) != tt.wantFix {
				t.Errorf("fix %q, want %q", problem.FixOf(err), tt.wantFix)
			}
		})
	}
}
