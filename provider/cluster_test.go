package provider_test

import (
	"encoding/json"
	"testing"

	"github.com/devcluster/devcluster/config"
	"github.com/devcluster/devcluster/provider"
)

// A cluster's JSON (status -o json, up -o json) has the record's fields
// in their place among the others, and none without a record.
func TestClusterJSON(t *testing.T) {
	t.Parallel()
	c := provider.Cluster{Name: "dev", Provider: "kind", State: provider.Running, IP: "172.18.0.2", KubeContext: "kind-dev", KubeconfigOK: true,
		InsecureRegistries: []string{}, HostAddress: "172.18.0.1", Foreign: "",
		Record: &provider.Record{NodeImage: "kindest/node:v1.36.1", Workers: 1, PortMappings: []config.PortMapping{{ContainerPort: 30080, HostPort: 8080, Protocol: "TCP"}}}}
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"name":"dev","provider":"kind","state":"Running","ip":"172.18.0.2","insecureRegistries":[],"kubeContext":"kind-dev","kubeconfigOK":true,` +
		`"hostAddress":"172.18.0.1","nodeImage":"kindest/node:v1.36.1","workers":1,"portMappings":[{"containerPort":30080,"hostPort":8080,"listenAddress":"","protocol":"TCP"}]}`
	if string(b) != want {
		t.Errorf("JSON\n%s\nwant\n%s", b, want)
	}
	var back provider.Cluster
	if err := json.Unmarshal(b, &back); err != nil || back.Record == nil || back.Workers != 1 || back.NodeImage != "kindest/node:v1.36.1" {
		t.Errorf("read back %+v, %v", back.Record, err)
	}
	c.Record, c.Foreign = nil, "not devcluster's"
	if b, _ := json.Marshal(c); string(b) != `{"name":"dev","provider":"kind","state":"Running","ip":"172.18.0.2","insecureRegistries":[],"kubeContext":"kind-dev","kubeconfigOK":true,"hostAddress":"172.18.0.1","foreign":"not devcluster's"}` {
		t.Errorf("JSON without a record: %s", b)
	}
}
