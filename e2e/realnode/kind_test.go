//go:build realnode

package realnode

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/devcluster/devcluster/bootstrap"
)

// TestKindServesThroughLoadBalancer runs in the kind shape: real kind on
// the docker stand-in, whose node commands on containerd's configuration run
// in the real node's namespaces. `up` with provider kind builds the sample,
// the real node pulls it from the registry on the kind network's gateway
// through the hosts.toml written with docker exec, and the page answers at
// the LoadBalancer IP (the control-plane node's); down deletes the cluster.
func TestKindServesThroughLoadBalancer(t *testing.T) {
	if shape != "kind" {
		t.Fatalf("run the TestKind* tests with DEVCLUSTER_REALNODE_SHAPE=kind (task e2e:node runs both shapes)")
	}
	writeConfig(t)
	kindEnv := kindStandinEnv()
	start := time.Now()
	r := devclusterEnv(t, kindEnv, "up", "-o", "json")
	if r.code != 0 {
		t.Fatalf("up: exit %d", r.code)
	}
	t.Logf("up with provider kind, from nothing to a served page's rollout: %s", time.Since(start).Round(time.Millisecond))
	var res bootstrap.Result
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		t.Fatal(err)
	}
	if res.Cluster.Provider != "kind" || res.Cluster.IP != nodeIP || res.Registry == nil || res.Registry.ClusterHost != hostIP+":"+env.port {
		t.Fatalf("cluster %+v, registry %+v", res.Cluster, res.Registry)
	}
	b, err := os.ReadFile(filepath.Join(env.node.EtcContainerd, "certs.d", hostIP+":"+env.port, "hosts.toml"))
	if err != nil || !strings.Contains(string(b), "http://"+hostIP+":"+env.port) {
		t.Errorf("hosts.toml in the real node's /etc/containerd: %q, %v", b, err)
	}
	body, _ := curl(t, "http://"+nodeIP+":8080/", time.Minute)
	if !strings.Contains(body, "It works") {
		t.Errorf("the sample's page through the LoadBalancer IP: %q", body)
	}
	admin, _ := env.cp.Client()
	web, err := admin.AppsV1().Deployments("devcluster-samples").Get(context.Background(), "web", metav1.GetOptions{})
	if err != nil || !strings.HasPrefix(web.Spec.Template.Spec.Containers[0].Image, hostIP+":"+env.port+"/") {
		t.Errorf("the sample does not pull from the kind gateway: %v %v", web, err)
	}
	if r := devclusterEnv(t, kindEnv, "down"); r.code != 0 {
		t.Fatalf("down: exit %d", r.code)
	}
}
