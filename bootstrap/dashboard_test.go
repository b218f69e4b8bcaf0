package bootstrap

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	k8stesting "k8s.io/client-go/testing"

	"github.com/devcluster/devcluster/config"
	"github.com/devcluster/devcluster/internal/fake/kubeapi"
	"github.com/devcluster/devcluster/internal/problem"
	"github.com/devcluster/devcluster/kube"
	"github.com/devcluster/devcluster/manifests"
)

// tokenAPI answers TokenRequests as the API server does (kubeapi has no
// subresources): a fresh token each time, valid for what was asked.
type tokenAPI struct {
	mu       sync.Mutex
	requests []*authenticationv1.TokenRequest
	names    []string
	token    func(n int) string
}

func (ta *tokenAPI) install(api *kubeapi.Server) {
	api.Clientset.PrependReactor("create", "serviceaccounts", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if a.GetSubresource() != "token" {
			return false, nil, nil
		}
		ca := a.(k8stesting.CreateActionImpl)
		tr := ca.GetObject().(*authenticationv1.TokenRequest).DeepCopy()
		ta.mu.Lock()
		defer ta.mu.Unlock()
		ta.requests = append(ta.requests, tr)
		ta.names = append(ta.names, a.GetNamespace()+"/"+ca.Name)
		tok := fmt.Sprintf("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ0ZXN0In0.sig-%d", len(ta.requests))
		if ta.token != nil {
			tok = ta.token(len(ta.requests))
		}
		tr.Status = authenticationv1.TokenRequestStatus{Token: tok,
			ExpirationTimestamp: metav1.NewTime(time.Now().Add(time.Duration(*tr.Spec.ExpirationSeconds) * time.Second))}
		return true, tr, nil
	})
}

// rollOut plays the Deployment controller for the dashboard: every
// generation of the Deployment is rolled out at once.
func rollOut(ctx context.Context, t *testing.T, api *kubeapi.Server) {
	t.Helper()
	d := api.Clientset.AppsV1().Deployments(manifests.DashboardNamespace)
	w, err := d.Watch(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		defer w.Stop()
		for ev := range w.ResultChan() {
			dep, ok := ev.Object.(*appsv1.Deployment)
			if !ok || ev.Type == watch.Deleted || dep.Status.ObservedGeneration == dep.Generation {
				continue
			}
			dep.Status = appsv1.DeploymentStatus{ObservedGeneration: dep.Generation, Replicas: 1, UpdatedReplicas: 1, ReadyReplicas: 1, AvailableReplicas: 1}
			if _, err := d.UpdateStatus(ctx, dep, metav1.UpdateOptions{}); err != nil && ctx.Err() == nil {
				t.Errorf("controller: %v", err)
			}
		}
	}()
}

type dashboardFixture struct {
	api    *kubeapi.Server
	tokens *tokenAPI
	h      *hostAccess
	cfg    *config.Config
}

func newDashboardFixture(t *testing.T, ctx context.Context, image string) *dashboardFixture {
	t.Helper()
	api := kubeapi.New()
	f := &dashboardFixture{api: api, tokens: &tokenAPI{}, cfg: &config.Config{Name: "dev", Workloads: config.Workloads{Timeout: 10 * time.Second},
		Dashboard: config.Dashboard{Image: image}}}
	f.tokens.install(api)
	rollOut(ctx, t, api)
	playAgent(ctx, t, api.Clientset, manifests.DashboardNamespace)
	f.h = hostAccessOn(api, true)
	f.h.clients.Dynamic, f.h.clients.Mapper = api.Dynamic, api.Mapper
	return f
}

// dashboard installs Headlamp once: a second run writes nothing and only
// mints a new token, each a short-lived TokenRequest for headlamp-admin.
func TestDashboardInstallsOnceAndMintsATokenEachTime(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f := newDashboardFixture(t, ctx, "")
	first, err := dashboardOn(ctx, &recorder{}, f.h, f.cfg, DashboardOptions{TokenTTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if !first.Changed || first.URL != "http://127.0.0.1:41000" || first.Image != manifests.HeadlampImage || first.Version != manifests.HeadlampVersion ||
		first.ServiceAccount != "devcluster-dashboard/headlamp-admin" || first.Token == "" || time.Until(first.ExpiresAt) < 59*time.Minute {
		t.Fatalf("first run: %+v", first)
	}
	dep, err := f.api.Clientset.AppsV1().Deployments(manifests.DashboardNamespace).Get(ctx, manifests.DashboardName, metav1.GetOptions{})
	if err != nil || dep.Spec.Template.Spec.Containers[0].Image != manifests.HeadlampImage || dep.Labels[kube.ManagedByLabel] != kube.ManagedBy {
		t.Fatalf("Deployment: %v, %+v", err, dep)
	}
	crb, err := f.api.Clientset.RbacV1().ClusterRoleBindings().Get(ctx, manifests.DashboardClusterRoleBinding, metav1.GetOptions{})
	if err != nil || crb.RoleRef.Name != "cluster-admin" || crb.Subjects[0].Name != manifests.DashboardAdmin {
		t.Fatalf("ClusterRoleBinding: %v, %+v", err, crb)
	}

	rv := f.api.ResourceVersion()
	second, err := dashboardOn(ctx, &recorder{}, f.h, f.cfg, DashboardOptions{TokenTTL: 2 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if second.Changed || f.api.ResourceVersion() != rv {
		t.Errorf("the second run changed the cluster (changed=%v, resourceVersion %s -> %s)", second.Changed, rv, f.api.ResourceVersion())
	}
	if second.Token == first.Token || second.URL != first.URL {
		t.Errorf("second run: token %q (first %q), URL %q", second.Token, first.Token, second.URL)
	}
	f.tokens.mu.Lock()
	defer f.tokens.mu.Unlock()
	if len(f.tokens.requests) != 2 || *f.tokens.requests[0].Spec.ExpirationSeconds != 3600 || *f.tokens.requests[1].Spec.ExpirationSeconds != 7200 {
		t.Errorf("token requests: %d, %+v", len(f.tokens.requests), f.tokens.requests)
	}
	for _, n := range f.tokens.names {
		if n != "devcluster-dashboard/headlamp-admin" {
			t.Errorf("a token for %s", n)
		}
	}
}

// dashboard.image replaces Headlamp's; an image in devcluster's registry
// (localhost:<port>/…) is pulled from where the cluster reaches it.
func TestDashboardImageFromTheLocalRegistry(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f := newDashboardFixture(t, ctx, "localhost:5001/headlamp-standin:e2e")
	if err := kube.ApplyLocalRegistryHosting(ctx, f.api.Clientset, kube.LocalRegistryHosting{Host: "localhost:5001", HostFromContainerRuntime: "192.168.49.1:5001"}); err != nil {
		t.Fatal(err)
	}
	res, err := dashboardOn(ctx, &recorder{}, f.h, f.cfg, DashboardOptions{TokenTTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	dep, _ := f.api.Clientset.AppsV1().Deployments(manifests.DashboardNamespace).Get(ctx, manifests.DashboardName, metav1.GetOptions{})
	if got := dep.Spec.Template.Spec.Containers[0].Image; got != "192.168.49.1:5001/headlamp-standin:e2e" || res.Version != "dashboard.image" {
		t.Errorf("image %q, version %q", got, res.Version)
	}
}

// What the API server answers as a token is printed only if it is one.
func TestDashboardRefusesATokenThatIsNotOne(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f := newDashboardFixture(t, ctx, "")
	f.tokens.token = func(int) string { return "abc\x1b]0;owned\x07" }
	res, err := dashboardOn(ctx, &recorder{}, f.h, f.cfg, DashboardOptions{TokenTTL: time.Hour})
	if err == nil || res != nil || strings.Contains(err.Error(), "owned") {
		t.Fatalf("a malformed token: %+v, %v", res, err)
	}
}

func TestDashboardOptions(t *testing.T) {
	t.Parallel()
	_, err := Dashboard(context.Background(), Deps{}, &config.Config{Name: "dev"}, DashboardOptions{TokenTTL: time.Minute})
	if problem.KindOf(err) != problem.Usage || !strings.Contains(err.Error(), "10m0s at least") {
		t.Errorf("a one-minute token: %v", err)
	}
	h := &hostAccess{}
	if err := h.needAgent(&config.Config{Name: "dev"}, "the dashboard"); problem.KindOf(err) != problem.NotRunning || !strings.Contains(problem.FixOf(err), "devcluster up") {
		t.Errorf("no agent: %v", err)
	}
	err = h.needAgent(&config.Config{Name: "dev", Provider: config.ProviderExisting}, "the dashboard")
	if problem.KindOf(err) != problem.NotRunning || !strings.Contains(problem.FixOf(err), "loadBalancer.address: localhost") {
		t.Errorf("no agent on provider existing: %v (fix %q)", err, problem.FixOf(err))
	}
}

// The dashboard sends the user, with a cluster-admin token, only to this
// host's loopback: the URL comes from an annotation anyone who may edit the
// Service can set.
func TestDashboardURLMustBeLoopback(t *testing.T) {
	for u, want := range map[string]bool{
		"http://127.0.0.1:41000": true, "http://localhost:8080": true, "https://[::1]:8443": true, "http://127.0.0.2:80": true,
		"http://192.168.49.2:8080": false, "https://evil.example.com": false, "http://127.0.0.1.example.com:80": false, "::": false,
	} {
		if got := onLoopback(u); got != want {
			t.Errorf("onLoopback(%q) = %v, want %v", u, got, want)
		}
	}
}
