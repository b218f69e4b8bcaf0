package minikube

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// clusterConfig mirrors the fields of minikube's ClusterConfig
// (pkg/minikube/config/types.go) in struct order, as `profile list -o json`
// and profiles/<name>/config.json show them.
type clusterConfig struct {
	Name                  string
	KeepContext           bool
	EmbedCerts            bool
	MinikubeISO           string
	KicBaseImage          string
	Memory                int
	CPUs                  int
	DiskSize              int
	Driver                string
	HyperkitVpnKitSock    string
	HyperkitVSockPorts    []string
	DockerEnv             []string
	ContainerVolumeMounts []string
	InsecureRegistry      []string
	RegistryMirror        []string
	HostOnlyCIDR          string
	APIServerPort         int
	KubernetesConfig      kubernetesConfig
	Nodes                 []nodeConfig
	Addons                map[string]bool
	VerifyComponents      map[string]bool
	StartHostTimeout      time.Duration
	ExposedPorts          []string
	ListenAddress         string
	Network               string
	Subnet                string
	MultiNodeRequested    bool
	ExtraDisks            int
	CertExpiration        time.Duration
	StaticIP              string
	GPUs                  string
	AutoPauseInterval     time.Duration
}

type kubernetesConfig struct {
	KubernetesVersion string
	ClusterName       string
	Namespace         string
	APIServerHAVIP    string
	APIServerName     string
	APIServerNames    []string
	APIServerIPs      []string
	DNSDomain         string
	ContainerRuntime  string
	CRISocket         string
	NetworkPlugin     string
	FeatureGates      string
	ServiceCIDR       string
	ImageRepository   string
	ExtraOptions      []string
	EnableDefaultCNI  bool
	CNI               string
}

type nodeConfig struct {
	Name              string
	IP                string
	Port              int
	KubernetesVersion string
	ContainerRuntime  string
	ControlPlane      bool
	Worker            bool
}

// machine is the stand-in's record of the simulated node: what a VM or
// container would be.
type machine struct {
	State string // Running, Stopped, Paused
}

// miniPath is localpath.MiniPath().
func (s *invocation) miniPath() string {
	h := s.env.get("MINIKUBE_HOME")
	if h == "" {
		return filepath.Join(s.home(), ".minikube")
	}
	if filepath.Base(h) == ".minikube" {
		return h
	}
	return filepath.Join(h, ".minikube")
}

func (s *invocation) profileDir(name string) string {
	return filepath.Join(s.miniPath(), "profiles", name)
}

func (s *invocation) machineDir(name string) string {
	return filepath.Join(s.miniPath(), "machines", name)
}

func (s *invocation) loadProfile(name string) (*clusterConfig, error) {
	b, err := os.ReadFile(filepath.Join(s.profileDir(name), "config.json"))
	if err != nil {
		return nil, err
	}
	var cc clusterConfig
	if err := json.Unmarshal(b, &cc); err != nil {
		return nil, err
	}
	return &cc, nil
}

func (s *invocation) saveProfile(cc *clusterConfig) error {
	dir := s.profileDir(cc.Name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(cc, "", "    ")
	if err != nil {
		return err
	}
	// minikube writes client certificates per profile and a shared CA.
	for _, f := range []string{filepath.Join(dir, "client.crt"), filepath.Join(dir, "client.key"), filepath.Join(s.miniPath(), "ca.crt")} {
		if _, err := os.Stat(f); errors.Is(err, os.ErrNotExist) {
			if err := os.WriteFile(f, []byte("stand-in placeholder\n"), 0o600); err != nil {
				return err
			}
		}
	}
	return os.WriteFile(filepath.Join(dir, "config.json"), b, 0o600)
}

// machineKnown reports whether minikube has a record of the profile's
// machine (its directory under machines/), whether or not the machine
// itself still exists.
func (s *invocation) machineKnown(name string) bool {
	_, err := os.Stat(s.machineDir(name))
	return err == nil
}

func (s *invocation) loadMachine(name string) (*machine, error) {
	b, err := os.ReadFile(filepath.Join(s.machineDir(name), "state.json"))
	if err != nil {
		return nil, err
	}
	var m machine
	return &m, json.Unmarshal(b, &m)
}

func (s *invocation) saveMachine(name string, m *machine) error {
	if err := os.MkdirAll(s.machineDir(name), 0o755); err != nil {
		return err
	}
	b, _ := json.Marshal(m)
	return os.WriteFile(filepath.Join(s.machineDir(name), "state.json"), b, 0o600)
}

// profileNames lists profile directories.
func (s *invocation) profileNames() []string {
	entries, _ := os.ReadDir(filepath.Join(s.miniPath(), "profiles"))
	var names []string
	for _, e := range entries {
		if e.IsDir() {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	return names
}

// kubeconfigPath is the first non-empty $KUBECONFIG entry, else ~/.kube/config.
func (s *invocation) kubeconfigPath() string {
	for _, p := range filepath.SplitList(s.env.get("KUBECONFIG")) {
		if p != "" {
			return p
		}
	}
	return filepath.Join(s.home(), ".kube", "config")
}

// home is $HOME of the stand-in's environment (the process' home only when
// that environment has none), as minikube's homedir.HomeDir reads it.
func (s *invocation) home() string {
	if h, ok := s.env.LookupEnv("HOME"); ok {
		return h
	}
	h, _ := os.UserHomeDir()
	return h
}

func (s *invocation) readKubeconfig() (*clientcmdapi.Config, error) {
	cfg, err := clientcmd.LoadFromFile(s.kubeconfigPath())
	if errors.Is(err, os.ErrNotExist) {
		return clientcmdapi.NewConfig(), nil
	}
	return cfg, err
}

// serverURL is where the profile's context points: the test's API server,
// or minikube's https://<node-ip>:8443.
func (s *invocation) serverURL(cc *clusterConfig) string {
	if u := s.env.get("STANDIN_APISERVER"); u != "" {
		return u
	}
	ip := ""
	if len(cc.Nodes) > 0 {
		ip = cc.Nodes[0].IP
	}
	return fmt.Sprintf("https://%s:%d", ip, cc.APIServerPort)
}

// writeContext writes cluster, user and context named after the profile
// (kubeconfig.PopulateFromSettings) and, unless keep, makes it current.
func (s *invocation) writeContext(cc *clusterConfig, keep bool) error {
	cfg, err := s.readKubeconfig()
	if err != nil {
		return err
	}
	cl := clientcmdapi.NewCluster()
	cl.Server = s.serverURL(cc)
	if ca := s.env.get("STANDIN_CA_FILE"); ca != "" {
		cl.CertificateAuthority = ca
	} else if s.env.get("STANDIN_APISERVER") != "" {
		cl.InsecureSkipTLSVerify = true
	} else {
		cl.CertificateAuthority = filepath.Join(s.miniPath(), "ca.crt")
	}
	cfg.Clusters[cc.Name] = cl
	u := clientcmdapi.NewAuthInfo()
	if tok := s.env.get("STANDIN_TOKEN"); tok != "" {
		u.Token = tok
	} else {
		u.ClientCertificate = filepath.Join(s.profileDir(cc.Name), "client.crt")
		u.ClientKey = filepath.Join(s.profileDir(cc.Name), "client.key")
	}
	cfg.AuthInfos[cc.Name] = u
	ctx := clientcmdapi.NewContext()
	ctx.Cluster, ctx.AuthInfo, ctx.Namespace = cc.Name, cc.Name, "default"
	cfg.Contexts[cc.Name] = ctx
	if !keep {
		cfg.CurrentContext = cc.Name
	}
	if err := os.MkdirAll(filepath.Dir(s.kubeconfigPath()), 0o755); err != nil {
		return err
	}
	return clientcmd.WriteToFile(*cfg, s.kubeconfigPath())
}

// deleteContext is kubeconfig.DeleteContext.
func (s *invocation) deleteContext(name string) error {
	cfg, err := s.readKubeconfig()
	if err != nil {
		return err
	}
	delete(cfg.Clusters, name)
	delete(cfg.AuthInfos, name)
	delete(cfg.Contexts, name)
	if cfg.CurrentContext == name {
		cfg.CurrentContext = ""
	}
	if _, err := os.Stat(s.kubeconfigPath()); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return clientcmd.WriteToFile(*cfg, s.kubeconfigPath())
}

// kubeconfigStatus is Configured when the context points at the profile's
// server, Misconfigured when it points elsewhere, Nonexistent when absent.
func (s *invocation) kubeconfigStatus(cc *clusterConfig) string {
	cfg, err := s.readKubeconfig()
	if err != nil {
		return "Misconfigured"
	}
	cl, ok := cfg.Clusters[cc.Name]
	if !ok {
		return "Nonexistent"
	}
	if strings.TrimRight(cl.Server, "/") != strings.TrimRight(s.serverURL(cc), "/") {
		return "Misconfigured"
	}
	return "Configured"
}

func (s *invocation) writeKubeconfig(cfg *clientcmdapi.Config) {
	_ = clientcmd.WriteToFile(*cfg, s.kubeconfigPath())
}
