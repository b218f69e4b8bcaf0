package minikube

import (
	"encoding/json"
	"strings"
)

// versionJSON is `minikube version -o json`.
type versionJSON struct {
	Commit          string `json:"commit"`
	MinikubeVersion string `json:"minikubeVersion"`
}

// clusterConfig is the part of minikube's ClusterConfig devcluster reads.
type clusterConfig struct {
	Name             string           `json:"Name"`
	Memory           int              `json:"Memory"`
	CPUs             int              `json:"CPUs"`
	Driver           string           `json:"Driver"`
	InsecureRegistry []string         `json:"InsecureRegistry"`
	KubernetesConfig kubernetesConfig `json:"KubernetesConfig"`
	Nodes            []node           `json:"Nodes"`
}

type kubernetesConfig struct {
	KubernetesVersion string `json:"KubernetesVersion"`
	ClusterName       string `json:"ClusterName"`
	ContainerRuntime  string `json:"ContainerRuntime"`
}

type node struct {
	Name              string `json:"Name"`
	IP                string `json:"IP"`
	Port              int    `json:"Port"`
	KubernetesVersion string `json:"KubernetesVersion"`
	ContainerRuntime  string `json:"ContainerRuntime"`
	ControlPlane      bool   `json:"ControlPlane"`
	Worker            bool   `json:"Worker"`
}

// status is one node of `minikube status -o json`.
type status struct {
	Name       string `json:"Name"`
	Host       string `json:"Host"`
	Kubelet    string `json:"Kubelet"`
	APIServer  string `json:"APIServer"`
	Kubeconfig string `json:"Kubeconfig"`
	Worker     bool   `json:"Worker"`
}

// parseStatus decodes `status -o json`: an object for one node, an array for
// several, "null" when the machine is gone.
func parseStatus(b []byte) ([]status, error) {
	t := strings.TrimSpace(string(b))
	switch {
	case t == "" || t == "null":
		return nil, nil
	case strings.HasPrefix(t, "["):
		var out []status
		err := json.Unmarshal([]byte(t), &out)
		return out, err
	default:
		var one status
		err := json.Unmarshal([]byte(t), &one)
		return []status{one}, err
	}
}

// event is one CloudEvent line printed by minikube commands run with -o json.
type event struct {
	Type string            `json:"type"`
	Data map[string]string `json:"data"`
}

// Event types minikube emits (pkg/minikube/out/register).
const (
	eventStep     = "io.k8s.sigs.minikube.step"
	eventInfo     = "io.k8s.sigs.minikube.info"
	eventWarning  = "io.k8s.sigs.minikube.warning"
	eventError    = "io.k8s.sigs.minikube.error"
	eventDownload = "io.k8s.sigs.minikube.download.progress"
)

// parseEvent decodes a CloudEvent line; ok is false for any other line.
func parseEvent(line string) (event, bool) {
	line = strings.TrimSpace(line)
	if !strings.HasPrefix(line, "{") {
		return event{}, false
	}
	var raw struct {
		Type string                     `json:"type"`
		Data map[string]json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal([]byte(line), &raw); err != nil || !strings.HasPrefix(raw.Type, "io.k8s.sigs.minikube.") {
		return event{}, false
	}
	ev := event{Type: raw.Type, Data: map[string]string{}}
	for k, v := range raw.Data {
		var s string
		if json.Unmarshal(v, &s) == nil {
			ev.Data[k] = s
		} else {
			ev.Data[k] = string(v)
		}
	}
	return ev, true
}
