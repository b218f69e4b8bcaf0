package bootstrap

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/random"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/devcluster/devcluster/agent"
	"github.com/devcluster/devcluster/config"
	fakeagent "github.com/devcluster/devcluster/internal/fake/agent"
	"github.com/devcluster/devcluster/internal/fake/kubeapi"
	"github.com/devcluster/devcluster/kube"
	"github.com/devcluster/devcluster/manifests"
)

// samplesFixture is the up fixture over the fake API server, whose
// dynamic client applies the samples, with the agent's LoadBalancer
// controller and a Deployment controller stand-in on the same store, and
// the sample's base image in an OCI layout (nothing is pulled).
func samplesFixture(t *testing.T) (*fixture, *kubeapi.Server, *config.Config) {
	t.Helper()
	f := newFixture(t)
	api := kubeapi.New(&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "dev"}, Status: corev1.NodeStatus{
		Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}}}})
	agents := &fakeagent.InProcess{Clients: func(agent.LBSpec) (kubernetes.Interface, error) { return api.Clientset, nil }}
	t.Cleanup(agents.StopAll)
	f.deps.Agent = agents
	f.deps.Kube = func(kctx string) (*kube.Clients, error) {
		return &kube.Clients{Config: &rest.Config{Host: "https://192.168.49.2:8443"}, Kube: api.Clientset,
			Dynamic: api.Dynamic, Mapper: api.Mapper, Context: kctx}, nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); (&deployFixture{t: t, api: api}).controller(ctx) }()
	t.Cleanup(func() { cancel(); wg.Wait() })

	base := filepath.Join(t.TempDir(), "base")
	img, err := random.Image(512, 1)
	if err != nil {
		t.Fatal(err)
	}
	p, err := layout.Write(base, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendImage(img); err != nil {
		t.Fatal(err)
	}
	on := true
	cfg := f.cfg(func(c *config.File) { c.Workloads.Samples, c.Workloads.SampleBase = &on, "oci:"+base })
	return f, api, cfg
}

// up builds the sample image, pushes it to the local registry, applies
// the samples with the image rewritten to the address the cluster pulls
// from and the ConfigMap's hash on the template, waits for the rollout,
// and reports the sample's LoadBalancer URL; the second up pushes and
// changes nothing.
func TestUpDeploysTheSamples(t *testing.T) {
	t.Parallel()
	f, api, cfg := samplesFixture(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := Up(ctx, f.deps, cfg, UpOptions{})
	if err != nil {
		t.Fatalf("%v\n%s", err, strings.Join(f.rec.lines, "\n"))
	}
	if !slices.Contains(res.Actions, "sample image pushed") {
		t.Errorf("actions %q", res.Actions)
	}
	d, err := api.Clientset.AppsV1().Deployments(manifests.SampleNamespace).Get(ctx, "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	image := d.Spec.Template.Spec.Containers[0].Image
	if !strings.HasPrefix(image, res.Registry.ClusterHost+"/"+manifests.SampleWebRepository+":sha-") {
		t.Errorf("the sample's image %s is not pulled from the registry's cluster address %s", image, res.Registry.ClusterHost)
	}
	if d.Spec.Template.Annotations[kube.ConfigHashAnnotation] == "" {
		t.Errorf("no config hash on the sample's template: %v", d.Spec.Template.Annotations)
	}
	ns, err := api.Clientset.CoreV1().Namespaces().Get(ctx, manifests.SampleNamespace, metav1.GetOptions{})
	if err != nil || ns.Labels[kube.ManagedByLabel] != kube.ManagedBy {
		t.Errorf("the samples' namespace: %v, %v", ns, err)
	}
	if len(res.Workloads) != 1 || !res.Workloads[0].Ready {
		t.Errorf("workloads %+v", res.Workloads)
	}
	if len(res.LoadBalancers) != 1 || res.LoadBalancers[0].State != "assigned" || res.LoadBalancers[0].URL != "http://192.168.49.2:8080" {
		t.Errorf("load balancers %+v", res.LoadBalancers)
	}

	f.rec.lines = nil
	again, err := Up(ctx, f.deps, cfg, UpOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(again.Actions, "sample image pushed") {
		t.Errorf("the unchanged sample image was pushed again: %q", again.Actions)
	}
	if !slices.ContainsFunc(f.rec.lines, func(l string) bool { return strings.HasSuffix(l, " (up to date)") }) {
		t.Errorf("the second up does not say the image is up to date:\n%s", strings.Join(f.rec.lines, "\n"))
	}
	if d2, _ := api.Clientset.AppsV1().Deployments(manifests.SampleNamespace).Get(ctx, "web", metav1.GetOptions{}); d2.Generation != d.Generation {
		t.Errorf("the second up changed the sample's Deployment: generation %d → %d", d.Generation, d2.Generation)
	}
}

// A sample base that cannot be read fails the sample's build with the
// ways to give one, before anything is applied.
func TestUpWithAnUnreadableSampleBase(t *testing.T) {
	t.Parallel()
	f, api, cfg := samplesFixture(t)
	cfg.Workloads.SampleBase = "oci:" + filepath.Join(t.TempDir(), "missing")
	_, err := Up(context.Background(), f.deps, cfg, UpOptions{})
	if err == nil || !strings.Contains(err.Error(), "loading the sample's base image") || !strings.Contains(err.Error(), "OCI layout") {
		t.Fatalf("err = %v", err)
	}
	if _, err := api.Clientset.CoreV1().Namespaces().Get(context.Background(), manifests.SampleNamespace, metav1.GetOptions{}); err == nil {
		t.Error("the samples were applied without their image")
	}
}
