package manifests

import (
	"bytes"
	"errors"
	"io"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// The dashboard's manifests: the image filled in, the pinned image a
// release tag with its digest, and every object marked as devcluster's and
// in the dashboard's namespace (or cluster-scoped), so that down can find
// what it created and nothing else.
func TestDashboardManifests(t *testing.T) {
	if !regexp.MustCompile(`^ghcr\.io/headlamp-k8s/headlamp:v\d+\.\d+\.\d+@sha256:[0-9a-f]{64}$`).MatchString(HeadlampImage) {
		t.Errorf("HeadlampImage %q is not a release tag pinned by digest", HeadlampImage)
	}
	ms := Dashboard("localhost:5001/headlamp-standin:e2e")
	if len(ms) != 1 {
		t.Fatalf("%d files", len(ms))
	}
	if bytes.Contains(ms[0].YAML, []byte(DashboardImageVariable)) || !bytes.Contains(ms[0].YAML, []byte("image: localhost:5001/headlamp-standin:e2e\n")) {
		t.Fatalf("image not filled in:\n%s", ms[0].YAML)
	}
	type object struct {
		Kind     string `yaml:"kind"`
		Metadata struct {
			Name        string            `yaml:"name"`
			Namespace   string            `yaml:"namespace"`
			Labels      map[string]string `yaml:"labels"`
			Annotations map[string]string `yaml:"annotations"`
		} `yaml:"metadata"`
		Subjects []struct{ Name, Namespace string } `yaml:"subjects"`
	}
	kinds := map[string]string{}
	dec := yaml.NewDecoder(bytes.NewReader(ms[0].YAML))
	for {
		var o object
		err := dec.Decode(&o)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		what := o.Kind + " " + o.Metadata.Name
		kinds[what] = o.Metadata.Namespace
		if o.Metadata.Labels["app.kubernetes.io/managed-by"] != "devcluster" {
			t.Errorf("%s is not labelled as devcluster's", what)
		}
		switch o.Kind {
		case "Namespace":
			if o.Metadata.Name != DashboardNamespace {
				t.Errorf("namespace %s", o.Metadata.Name)
			}
		case "ClusterRoleBinding":
			if o.Metadata.Name != DashboardClusterRoleBinding || len(o.Subjects) != 1 || o.Subjects[0].Name != DashboardAdmin || o.Subjects[0].Namespace != DashboardNamespace {
				t.Errorf("%s binds %+v", what, o.Subjects)
			}
		case "Service":
			if o.Metadata.Annotations["devcluster.dev/forward"] != "true" {
				t.Errorf("%s does not ask the agent for a forward: %v", what, o.Metadata.Annotations)
			}
			fallthrough
		default:
			if o.Metadata.Namespace != DashboardNamespace {
				t.Errorf("%s is in namespace %q", what, o.Metadata.Namespace)
			}
		}
	}
	for _, want := range []string{"Namespace " + DashboardNamespace, "ServiceAccount " + DashboardAdmin, "ServiceAccount headlamp",
		"ClusterRoleBinding " + DashboardClusterRoleBinding, "Deployment " + DashboardName, "Service " + DashboardName} {
		if _, ok := kinds[want]; !ok {
			t.Errorf("no %s in %v", want, kinds)
		}
	}
	if !strings.Contains(string(ms[0].YAML), "containerPort: 4466") {
		t.Error("Headlamp listens on 4466")
	}
}
