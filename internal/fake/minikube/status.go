package minikube

import (
	"encoding/json"
	"fmt"
	"text/template"
)

// nodeStatus is cluster.Status for the primary node.
type nodeStatus struct {
	Name       string
	Host       string
	Kubelet    string
	APIServer  string
	Kubeconfig string
	Worker     bool
}

func (s *invocation) nodeStatus(cc *clusterConfig) nodeStatus {
	st := nodeStatus{Name: cc.Name, Host: "Nonexistent", Kubelet: "Nonexistent", APIServer: "Nonexistent", Kubeconfig: "Nonexistent"}
	m, err := s.loadMachine(cc.Name)
	if err != nil {
		return st
	}
	switch m.State {
	case "Running":
		st = nodeStatus{Name: cc.Name, Host: "Running", Kubelet: "Running", APIServer: "Running", Kubeconfig: s.kubeconfigStatus(cc)}
	case "Paused":
		st = nodeStatus{Name: cc.Name, Host: "Running", Kubelet: "Stopped", APIServer: "Paused", Kubeconfig: s.kubeconfigStatus(cc)}
	default:
		st = nodeStatus{Name: cc.Name, Host: m.State, Kubelet: m.State, APIServer: m.State, Kubeconfig: m.State}
	}
	return st
}

// exitCode is status.go exitCode(): bit flags over the nodes.
func exitCode(st nodeStatus) int {
	c := 0
	if st.Host != "Running" {
		c |= 1
	}
	if (st.APIServer != "Running" && st.APIServer != "Irrelevant") || st.Kubelet != "Running" {
		c |= 2
	}
	if st.Kubeconfig != "Configured" && st.Kubeconfig != "Irrelevant" {
		c |= 4
	}
	return c
}

func (s *invocation) status(p *parsed) int {
	o := &out{s: s}
	if p.has("output") && p.str("output") != "text" && p.has("format") {
		return o.Fatal(exProgramUsage, "MK_USAGE", "Cannot use both --output and --format options", "")
	}
	outFmt := p.str("output")
	o.json = outFmt == "json"
	cc, err := s.loadProfile(s.profile)
	if err != nil {
		return o.profileNotFound(s.profile)
	}
	if outFmt != "" && outFmt != "text" && outFmt != "json" {
		return o.Fatal(exProgramUsage, "MK_USAGE", fmt.Sprintf("invalid output format: %s. Valid values: 'text', 'json'", outFmt), "")
	}
	st := s.nodeStatus(cc)
	if _, err := s.loadMachine(cc.Name); err != nil && outFmt == "json" {
		// The machine is gone: minikube prints null and exits 7.
		fmt.Fprint(s.env.Stdout, "null")
		return 7
	}
	switch {
	case p.has("format"):
		t, err := template.New("status").Parse(p.str("format"))
		if err != nil {
			return o.Fatal(exProgramUsage, "MK_USAGE", "parsing --format: "+err.Error(), "")
		}
		_ = t.Execute(s.env.Stdout, st)
	case outFmt == "json":
		b, _ := json.Marshal(st)
		fmt.Fprint(s.env.Stdout, string(b))
	default:
		fmt.Fprintf(s.env.Stdout, "%s\ntype: Control Plane\nhost: %s\nkubelet: %s\napiserver: %s\nkubeconfig: %s\n\n", st.Name, st.Host, st.Kubelet, st.APIServer, st.Kubeconfig)
		if st.Kubeconfig == "Misconfigured" {
			fmt.Fprint(s.env.Stdout, "\nWARNING: Your kubectl is pointing to stale minikube-vm.\nTo fix the kubectl context, run `minikube update-context`\n")
		}
	}
	return exitCode(st)
}

// running is mustload.Running: the profile must exist and its host run.
func (s *invocation) running(o *out) (*clusterConfig, int) {
	cc, err := s.loadProfile(s.profile)
	if err != nil {
		return nil, o.profileNotFound(s.profile)
	}
	m, err := s.loadMachine(s.profile)
	if err != nil && !s.machineKnown(s.profile) {
		// The profile is there but minikube never recorded a machine
		// for it (or its record was deleted): mustload's "host does
		// not exist", exit 85.
		hint := `"minikube start"`
		if s.profile != "minikube" {
			hint = fmt.Sprintf(`"minikube start -p %s"`, s.profile)
		}
		fmt.Fprintf(s.env.Stdout, "* The control-plane node %s host does not exist\n  To start a cluster, run: %s\n", s.profile, hint)
		return nil, exGuestNotFound
	}
	if err != nil {
		// The machine is recorded but gone behind minikube's back
		// (docker rm, a deleted VM, a create that failed).
		return nil, o.Fatal(exGuestError, "GUEST_STATUS", fmt.Sprintf("Unable to get control-plane node %[1]s host status: state: unknown state %[1]q: docker container inspect %[1]s --format={{.State.Status}}: exit status 1\nstdout:\n\n\nstderr:\nError response from daemon: No such container: %[1]s", s.profile), "")
	}
	if m.State != "Running" && m.State != "Paused" {
		hint := `"minikube start"`
		if s.profile != "minikube" {
			hint = fmt.Sprintf(`"minikube start -p %s"`, s.profile)
		}
		fmt.Fprintf(s.env.Stdout, "* The control-plane node %s host is not running: state=%s\n  To start a cluster, run: %s\n", s.profile, m.State, hint)
		return nil, exGuestNotRunning
	}
	return cc, 0
}

func (s *invocation) ip(p *parsed) int {
	o := &out{s: s}
	cc, code := s.running(o)
	if cc == nil {
		return code
	}
	if n := p.str("node"); n != "" && n != s.profile {
		return o.Fatal(exGuestNotFound, "GUEST_NODE_RETRIEVE", "retrieving node: Could not find node "+n, "")
	}
	fmt.Fprintln(s.env.Stdout, cc.Nodes[0].IP)
	return 0
}
