package kube

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	k8stesting "k8s.io/client-go/testing"

	"github.com/devcluster/devcluster/internal/fake/kubeapi"
	"github.com/devcluster/devcluster/manifests"
)

// requests are the dynamic client's requests: "apply configmaps team/cfg"
// for a write, "dry-run configmaps team/cfg" for a dry run, "get
// namespaces team" for a read.
func requests(api *kubeapi.Server) []string {
	var out []string
	for _, a := range api.Dynamic.Actions() {
		where := a.GetNamespace()
		name := ""
		switch a := a.(type) {
		case k8stesting.PatchActionImpl:
			name = a.GetName()
		case k8stesting.GetAction:
			name = a.GetName()
		}
		if where != "" {
			where += "/"
		}
		verb := a.GetVerb()
		if p, ok := a.(k8stesting.PatchActionImpl); ok {
			verb = "apply"
			if len(p.PatchOptions.DryRun) > 0 {
				verb = "dry-run"
			}
		}
		out = append(out, verb+" "+a.GetResource().Resource+" "+where+name)
	}
	return out
}

// writes are the requests to change the store.
func writes(api *kubeapi.Server) []string {
	return slices.DeleteFunc(requests(api), func(r string) bool { return !strings.HasPrefix(r, "apply ") })
}

// failOn makes the API server answer err to the applies of one object
// (dry runs when dryRun, else the real ones).
func failOn(api *kubeapi.Server, resource, name string, dryRun bool, err error) {
	api.Dynamic.PrependReactor("patch", resource, func(a k8stesting.Action) (bool, runtime.Object, error) {
		p := a.(k8stesting.PatchActionImpl)
		if p.GetName() != name || (len(p.PatchOptions.DryRun) > 0) != dryRun {
			return false, nil, nil
		}
		return true, nil, err
	})
}

func decode(t *testing.T, source, y string) []Object {
	t.Helper()
	objs, err := DecodeManifests(source, []byte(y))
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

const (
	teamNamespace = "apiVersion: v1\nkind: Namespace\nmetadata: {name: team, labels: {owner: team}}\n"
	cfgInTeam     = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg, namespace: team}\ndata: {k: mine}\n"
	otherInTeam   = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: other, namespace: team}\ndata: {k: v}\n"
)

func configMapCfg(data string) *corev1.ConfigMap {
	return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "cfg", Namespace: "team"}, Data: map[string]string{"k": data}}
}

// Apply validates everything with a dry run before it writes, creates the
// namespaces that are missing, and names what failed and what was
// written.
func TestApplyThroughTheFakeAPIServer(t *testing.T) {
	invalid := apierrors.NewInvalid(schema.GroupKind{Kind: "ConfigMap"}, "other", nil)
	tests := []struct {
		name     string
		existing []runtime.Object
		// colleague writes cfg's data first, as another field manager.
		colleague bool
		manifests string
		owned     bool
		opts      ApplyOptions
		arrange   func(api *kubeapi.Server)

		wantErr      []string // fragments of the error; none: no error
		wantRequests []string // every request, in order (nil: not checked)
		wantWrites   []string
		wantProgress []string
		wantApplied  int    // objects Apply returns
		wantData     string // cfg's data after the apply ("": absent)
	}{{
		name:      "a missing namespace is created, then everything is dry-run, then applied",
		manifests: cfgInTeam,
		wantRequests: []string{
			"get namespaces team", "apply namespaces team",
			"dry-run configmaps team/cfg", "apply configmaps team/cfg",
		},
		wantWrites:   []string{"apply namespaces team", "apply configmaps team/cfg"},
		wantProgress: []string{"applied ConfigMap team/cfg"},
		wantApplied:  1,
		wantData:     "mine",
	}, {
		name:      "a namespace the manifests declare is applied from them, not created bare",
		manifests: cfgInTeam + "---\n" + teamNamespace,
		wantRequests: []string{
			"get namespaces team", "apply namespaces team",
			"dry-run namespaces team", "dry-run configmaps team/cfg",
			"apply namespaces team", "apply configmaps team/cfg",
		},
		wantWrites:   []string{"apply namespaces team", "apply namespaces team", "apply configmaps team/cfg"},
		wantProgress: []string{"applied Namespace team", "applied ConfigMap team/cfg"},
		wantApplied:  2,
		wantData:     "mine",
	}, {
		name:        "a namespace that exists is not written",
		existing:    []runtime.Object{&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "team"}}},
		manifests:   cfgInTeam,
		wantWrites:  []string{"apply configmaps team/cfg"},
		wantApplied: 1,
		wantData:    "mine",
	}, {
		name:      "a dry run the server rejects writes nothing but the namespaces",
		manifests: cfgInTeam + "---\n" + otherInTeam,
		arrange:   func(api *kubeapi.Server) { failOn(api, "configmaps", "other", true, invalid) },
		wantErr: []string{
			"the server rejected the manifests; nothing was applied (namespaces created: team):",
			"m.yaml document 2 (ConfigMap team/other): ConfigMap \"other\" is invalid",
		},
		wantWrites: []string{"apply namespaces team"},
	}, {
		name:      "a namespace that cannot be created stops the apply",
		manifests: cfgInTeam,
		arrange: func(api *kubeapi.Server) {
			failOn(api, "namespaces", "team", false, apierrors.NewForbidden(schema.GroupResource{Resource: "namespaces"}, "team", fmt.Errorf("no")))
		},
		wantErr: []string{"creating namespace team:", "forbidden"},
	}, {
		name:      "dry run only validates and writes nothing, a missing namespace included",
		existing:  []runtime.Object{&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "apps"}}},
		manifests: cfgInTeam + "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg, namespace: apps}\n",
		opts:      ApplyOptions{DryRunOnly: true},
		wantRequests: []string{
			"get namespaces apps", "get namespaces team", // in either order: sorted below
			"dry-run configmaps apps/cfg",
		},
		wantProgress: []string{"not validated (namespace team does not exist yet): ConfigMap team/cfg"},
		wantApplied:  2,
	}, {
		name:      "a field another manager owns is a conflict that names it and what to do",
		colleague: true,
		manifests: cfgInTeam,
		wantErr: []string{
			"m.yaml document 1 (ConfigMap team/cfg):", `conflict with "colleague"`,
			"these fields are managed by another tool: remove them from this manifest, set them to the value they have",
			"nothing was applied",
		},
		wantWrites: []string{},
		wantData:   "theirs",
	}, {
		name:        "devcluster's own objects take fields over from another manager",
		colleague:   true,
		manifests:   cfgInTeam,
		owned:       true,
		wantWrites:  []string{"apply configmaps team/cfg"},
		wantApplied: 1,
		wantData:    "mine",
	}, {
		name:      "a write that fails halfway returns what was applied before it and names it",
		manifests: cfgInTeam + "---\n" + otherInTeam,
		arrange: func(api *kubeapi.Server) {
			failOn(api, "configmaps", "other", false, apierrors.NewServiceUnavailable("etcd is down"))
		},
		wantErr: []string{
			"m.yaml document 2 (ConfigMap team/other): etcd is down (already applied: ConfigMap team/cfg)",
		},
		// The last write asked for is the one that failed.
		wantWrites:  []string{"apply namespaces team", "apply configmaps team/cfg", "apply configmaps team/other"},
		wantApplied: 1,
		wantData:    "mine",
	}, {
		name:         "a kind the cluster does not know is refused before any request",
		manifests:    cfgInTeam + "---\napiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n",
		wantErr:      []string{"cannot apply:", "m.yaml document 2 (Widget w): unknown kind example.com/v1, Kind=Widget"},
		wantRequests: []string{},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			existing := tt.existing
			if tt.colleague {
				existing = append(existing, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "team"}})
			}
			api := kubeapi.New(existing...)
			if tt.colleague {
				if _, err := api.Clientset.CoreV1().ConfigMaps("team").Create(ctx, configMapCfg("theirs"), metav1.CreateOptions{FieldManager: "colleague"}); err != nil {
					t.Fatal(err)
				}
			}
			if tt.arrange != nil {
				tt.arrange(api)
			}
			objs := decode(t, "m.yaml", tt.manifests)
			for i := range objs {
				objs[i].Owned = tt.owned
			}
			var progress []string
			o := tt.opts
			o.Progress = func(l string) { progress = append(progress, l) }
			a := &Applier{Dynamic: api.Dynamic, Mapper: api.Mapper}
			applied, err := a.Apply(ctx, objs, o)
			if len(tt.wantErr) == 0 && err != nil {
				t.Fatalf("Apply: %v", err)
			}
			for _, w := range tt.wantErr {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("error %v, want it to say %q", err, w)
				}
			}
			if len(applied) != tt.wantApplied {
				t.Errorf("Apply returned %d objects, want %d", len(applied), tt.wantApplied)
			}
			if tt.wantRequests != nil {
				got := requests(api)
				if tt.opts.DryRunOnly {
					slices.Sort(got)
					slices.Sort(tt.wantRequests)
				}
				if d := cmp.Diff(tt.wantRequests, got, cmpEmpty); d != "" {
					t.Errorf("requests (-want +got):\n%s", d)
				}
			}
			if tt.wantWrites != nil || tt.opts.DryRunOnly {
				if d := cmp.Diff(tt.wantWrites, writes(api), cmpEmpty); d != "" {
					t.Errorf("writes (-want +got):\n%s", d)
				}
			}
			if tt.wantProgress != nil {
				if d := cmp.Diff(tt.wantProgress, progress); d != "" {
					t.Errorf("progress (-want +got):\n%s", d)
				}
			}
			cm, err := api.Clientset.CoreV1().ConfigMaps("team").Get(ctx, "cfg", metav1.GetOptions{})
			switch {
			case tt.wantData == "" && err == nil:
				t.Errorf("cfg was written: %v", cm.Data)
			case tt.wantData != "" && (err != nil || cm.Data["k"] != tt.wantData):
				t.Errorf("cfg: %v, %v; want k=%s", cm, err, tt.wantData)
			}
		})
	}
}

// cmpEmpty makes a nil and an empty list the same.
var cmpEmpty = cmp.Transformer("empty", func(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
})

// Resolve sets namespaces as kubectl does, rewrites the workloads' images
// to where the cluster pulls from, stamps the hash of the ConfigMaps a
// template references, and orders what others depend on first.
func TestApplyRewritesImagesNamespacesAndConfigHashes(t *testing.T) {
	ctx := context.Background()
	api := kubeapi.New(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "apps"}})
	const y = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      initContainers: [{name: init, image: "127.0.0.1:5001/init:1"}]
      containers:
      - {name: web, image: "localhost:5001/web:2", envFrom: [{configMapRef: {name: web-config}}]}
      - {name: side, image: "docker.io/library/nginx:1"}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: reader, namespace: apps}
rules: []
---
apiVersion: v1
kind: ConfigMap
metadata: {name: web-config}
data: {mode: fast}
`
	for _, keep := range []bool{false, true} {
		t.Run(fmt.Sprintf("KeepConfigHash=%v", keep), func(t *testing.T) {
			a := &Applier{Dynamic: api.Dynamic, Mapper: api.Mapper}
			applied, err := a.Apply(ctx, decode(t, "app.yaml", y), ApplyOptions{
				DefaultNamespace: "apps", KeepConfigHash: keep,
				ImageRewrite: manifests.RegistryRewrite("localhost:5001", "10.0.0.1:5001"),
			})
			if err != nil {
				t.Fatal(err)
			}
			var order []string
			for _, it := range applied {
				order = append(order, it.Describe())
			}
			if d := cmp.Diff([]string{"ClusterRole reader", "ConfigMap apps/web-config", "Deployment apps/web"}, order); d != "" {
				t.Errorf("apply order (-want +got):\n%s", d)
			}
			d, err := api.Clientset.AppsV1().Deployments("apps").Get(ctx, "web", metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			spec := d.Spec.Template.Spec
			got := []string{spec.InitContainers[0].Image, spec.Containers[0].Image, spec.Containers[1].Image}
			if d := cmp.Diff([]string{"10.0.0.1:5001/init:1", "10.0.0.1:5001/web:2", "docker.io/library/nginx:1"}, got); d != "" {
				t.Errorf("images (-want +got):\n%s", d)
			}
			want := ConfigHash(map[string]string{"web-config": ConfigMapDigest(map[string]string{"mode": "fast"}, nil)})
			if keep {
				want = ""
			}
			if h := d.Spec.Template.Annotations[ConfigHashAnnotation]; h != want {
				t.Errorf("config hash %q, want %q", h, want)
			}
			if _, err := api.Clientset.RbacV1().ClusterRoles().Get(ctx, "reader", metav1.GetOptions{}); err != nil {
				t.Errorf("the cluster-scoped role, its namespace cleared: %v", err)
			}
		})
	}
}
