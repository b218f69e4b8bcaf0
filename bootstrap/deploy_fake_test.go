package bootstrap

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/devcluster/devcluster/internal/problem"
)

// db is a StatefulSet apps/db, rolled out; the fixture's controller plays
// the Deployment controller only, so a change to db never rolls out.
func db() *appsv1.StatefulSet {
	one := int32(1)
	return &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: "apps", Generation: 1},
		Spec: appsv1.StatefulSetSpec{Replicas: &one, Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "db"}},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "db"}},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "postgres", Image: "example.com/postgres:16"}}}}},
		Status: appsv1.StatefulSetStatus{ObservedGeneration: 1, Replicas: 1, ReadyReplicas: 1, CurrentReplicas: 1, UpdatedReplicas: 1}}
}

// Deploy plans, validates, applies, waits and rolls back: each phase's
// outcome, from what the deploy is given to what the cluster holds after.
func TestDeployPhases(t *testing.T) {
	tests := []struct {
		name string
		objs []runtime.Object
		// opts gets the fixture's directory for its files: "@name=content"
		// in a ConfigMap's paths is written there first.
		opts DeployOptions

		wantKind       problem.Kind // of the error; -1: none
		wantErr        []string
		wantSteps      []string // the steps that ran, in order
		wantWritten    []string
		wantChanged    bool
		wantRolledBack bool
		wantRestored   []string // what the rollback put back
		wantNginx      string   // nginx's image after ("" = not checked)
		wantConfig     string   // web-config's nginx.conf after ("" = absent)
	}{{
		name:     "plan: an image flag without a container is refused before the cluster is read",
		objs:     []runtime.Object{web(), webConfig("v1")},
		opts:     DeployOptions{Workloads: []string{"deployment/web"}, Images: []string{"example.com/web:v2"}},
		wantKind: problem.Usage, wantErr: []string{"CONTAINER=IMAGE"},
		wantSteps: []string{"Reading the inputs"},
		wantNginx: "example.com/web:v1", wantConfig: "v1",
	}, {
		name:     "plan: a workload that does not exist",
		objs:     []runtime.Object{web(), webConfig("v1")},
		opts:     DeployOptions{Workloads: []string{"deployment/gone"}, Images: []string{"nginx=example.com/web:v2"}},
		wantKind: problem.Usage, wantErr: []string{"deployment/gone not found in namespace apps"},
		wantNginx: "example.com/web:v1", wantConfig: "v1",
	}, {
		name:     "plan: an image for a container the workload does not have",
		objs:     []runtime.Object{web(), webConfig("v1")},
		opts:     DeployOptions{Workloads: []string{"deployment/web"}, Images: []string{"php=example.com/php:8"}},
		wantKind: problem.Usage, wantErr: []string{`Deployment apps/web has no container "php" (it has nginx, sidecar)`},
		wantNginx: "example.com/web:v1", wantConfig: "v1",
	}, {
		name: "dry run: validated and reported, nothing written",
		objs: []runtime.Object{web(), webConfig("v1")},
		opts: DeployOptions{Workloads: []string{"deployment/web"}, Images: []string{"nginx=example.com/web:v2"}, DryRun: true,
			ConfigMaps: []ConfigMapFiles{{Name: "web-config", Paths: []string{"@nginx.conf=v2"}}}},
		wantKind: -1, wantChanged: true,
		wantSteps: []string{"Reading the inputs", "Connecting to the cluster", "Reading the cluster", "Planning the changes", "Validating with the API server (dry run)"},
		wantNginx: "example.com/web:v1", wantConfig: "v1",
	}, {
		name: "apply and wait: the ConfigMap and the template are written and rolled out",
		objs: []runtime.Object{web(), webConfig("v1")},
		opts: DeployOptions{Workloads: []string{"deployment/web"}, Images: []string{"nginx=example.com/web:v2"},
			ConfigMaps: []ConfigMapFiles{{Name: "web-config", Paths: []string{"@nginx.conf=v2"}}}},
		wantKind: -1, wantChanged: true,
		wantSteps: []string{"Reading the inputs", "Connecting to the cluster", "Reading the cluster", "Planning the changes",
			"Validating with the API server (dry run)", "Applying", "Waiting for the rollouts"},
		wantWritten: []string{"ConfigMap apps/web-config updated", "Deployment apps/web updated"},
		wantNginx:   "example.com/web:v2", wantConfig: "v2",
	}, {
		name: "wait: a failed rollout without rollback leaves what was written",
		objs: []runtime.Object{web(), webConfig("v1")},
		opts: DeployOptions{Workloads: []string{"deployment/web"}, Images: []string{"nginx=example.com/broken:v2"},
			ConfigMaps: []ConfigMapFiles{{Name: "web-config", Paths: []string{"@nginx.conf=v2"}}}},
		wantKind: problem.Failed, wantErr: []string{`Deployment apps/web: deployment "web" exceeded its progress deadline`},
		wantChanged: true,
		wantWritten: []string{"ConfigMap apps/web-config updated", "Deployment apps/web updated"},
		wantNginx:   "example.com/broken:v2", wantConfig: "v2",
	}, {
		name: "rollback: a failed rollout puts the template and the ConfigMap back",
		objs: []runtime.Object{web(), webConfig("v1")},
		opts: DeployOptions{Workloads: []string{"deployment/web"}, Images: []string{"nginx=example.com/broken:v2"}, Rollback: true,
			ConfigMaps: []ConfigMapFiles{{Name: "web-config", Paths: []string{"@nginx.conf=v2"}}}},
		wantKind: problem.Failed, wantErr: []string{"exceeded its progress deadline"},
		wantSteps: []string{"Reading the inputs", "Connecting to the cluster", "Reading the cluster", "Planning the changes",
			"Validating with the API server (dry run)", "Applying", "Waiting for the rollouts", "Rolling back"},
		wantChanged: true, wantRolledBack: true,
		// Undone in the reverse order of the writes.
		wantRestored: []string{"Deployment apps/web", "ConfigMap apps/web-config"},
		wantWritten:  []string{"ConfigMap apps/web-config updated", "Deployment apps/web updated"},
		wantNginx:    "example.com/web:v1", wantConfig: "v1",
	}, {
		name:     "wait: a rollout that does not finish in time is a timeout",
		objs:     []runtime.Object{web(), webConfig("v1"), db()},
		opts:     DeployOptions{Workloads: []string{"statefulset/db"}, Images: []string{"postgres=example.com/postgres:17"}, Timeout: 300 * time.Millisecond},
		wantKind: problem.Timeout, wantErr: []string{"StatefulSet apps/db"},
		wantChanged: true,
		wantWritten: []string{"StatefulSet apps/db updated"},
		wantNginx:   "example.com/web:v1", wantConfig: "v1",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newDeployFixture(t, tt.objs...)
			o := tt.opts
			o.Namespace = "apps"
			o.ConfigMaps = nil
			for _, cm := range tt.opts.ConfigMaps {
				var paths []string
				for _, p := range cm.Paths {
					name, content, _ := strings.Cut(strings.TrimPrefix(p, "@"), "=")
					paths = append(paths, f.file(name, content))
				}
				o.ConfigMaps = append(o.ConfigMaps, ConfigMapFiles{Name: cm.Name, Paths: paths})
			}
			res, err := f.deploy(o)
			switch {
			case tt.wantKind < 0 && err != nil:
				t.Fatalf("Deploy: %v", err)
			case tt.wantKind >= 0 && (err == nil || problem.KindOf(err) != tt.wantKind):
				t.Errorf("error %v of kind %v, want kind %v", err, problem.KindOf(err), tt.wantKind)
			}
			for _, w := range tt.wantErr {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("the error does not say %q: %v", w, err)
				}
			}
			if tt.wantSteps != nil {
				var steps []string
				for _, l := range f.rec.lines {
					if title, ok := strings.CutPrefix(l, "start "); ok {
						steps = append(steps, title)
					}
				}
				if d := cmp.Diff(tt.wantSteps, steps); d != "" {
					t.Errorf("steps (-want +got):\n%s", d)
				}
			}
			if res != nil {
				if d := cmp.Diff(tt.wantWritten, res.Written, cmpEmptyStrings); d != "" {
					t.Errorf("written (-want +got):\n%s", d)
				}
				var restored []string
				if res.Rollback != nil {
					restored = res.Rollback.Restored
				}
				if d := cmp.Diff(tt.wantRestored, restored, cmpEmptyStrings); d != "" {
					t.Errorf("restored (-want +got):\n%s", d)
				}
				if res.Changed != tt.wantChanged || res.RolledBack != tt.wantRolledBack {
					t.Errorf("changed %v, rolled back %v; want %v, %v", res.Changed, res.RolledBack, tt.wantChanged, tt.wantRolledBack)
				}
			} else if tt.wantWritten != nil || tt.wantChanged {
				t.Errorf("no result")
			}
			if tt.wantNginx != "" {
				if got := images(f.deployment("web"))["nginx"]; got != tt.wantNginx {
					t.Errorf("nginx after: %s, want %s", got, tt.wantNginx)
				}
			}
			if got := f.configMap("web-config")["nginx.conf"]; got != tt.wantConfig {
				t.Errorf("web-config after: %q, want %q", got, tt.wantConfig)
			}
		})
	}
}

// cmpEmptyStrings makes a nil and an empty list the same.
var cmpEmptyStrings = cmp.Transformer("empty", func(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
})
