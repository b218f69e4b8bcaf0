package minikube

import (
	"encoding/json"
	"fmt"
)

type profileJSON struct {
	Name              string
	Status            string
	Config            *clusterConfig
	Active            bool
	ActiveKubeContext bool
}

func (s *invocation) profileList(p *parsed) int {
	o := &out{s: s}
	outFmt := p.str("output")
	if outFmt == "" {
		outFmt = "table"
	}
	if outFmt != "table" && outFmt != "json" {
		return o.Fatal(exProgramUsage, "MK_USAGE", fmt.Sprintf("invalid output format: %s. Valid values: 'table', 'json'", outFmt), "")
	}
	kc, _ := s.readKubeconfig()
	valid, invalid := []profileJSON{}, []profileJSON{}
	for _, name := range s.profileNames() {
		cc, err := s.loadProfile(name)
		pj := profileJSON{Name: name, Config: cc, Active: name == s.profile, ActiveKubeContext: kc != nil && kc.CurrentContext == name}
		if err != nil || cc == nil || cc.Driver == "" || len(cc.Nodes) == 0 || cc.Nodes[0].KubernetesVersion == "" {
			pj.Config = nil
			pj.Status = "Unknown"
			invalid = append(invalid, pj)
			continue
		}
		switch st := s.nodeStatus(cc); {
		case p.has("light"):
			pj.Status = "Skipped"
		case st.APIServer == "Paused":
			pj.Status = "Paused"
		case exitCode(st) == 0:
			pj.Status = "OK"
		case st.Host == "Running":
			pj.Status = "Error"
		default:
			pj.Status = "Stopped"
		}
		valid = append(valid, pj)
	}
	if outFmt == "json" {
		b, _ := json.Marshal(map[string]any{"invalid": invalid, "valid": valid})
		fmt.Fprint(s.env.Stdout, string(b))
		return 0
	}
	if len(valid) == 0 {
		return o.Fatal(exProgramUsage, "MK_USAGE_NO_PROFILE", "No minikube profile was found.", "You can create one using 'minikube start'.")
	}
	fmt.Fprintln(s.env.Stdout, "| Profile | Driver | Runtime | IP | Version | Status | Nodes | Active Profile | Active Kubecontext |")
	for _, v := range valid {
		fmt.Fprintf(s.env.Stdout, "| %s | %s | %s | %s | %s | %s | %d | %v | %v |\n", v.Name, v.Config.Driver, v.Config.KubernetesConfig.ContainerRuntime,
			v.Config.Nodes[0].IP, v.Config.KubernetesConfig.KubernetesVersion, v.Status, len(v.Config.Nodes), v.Active, v.ActiveKubeContext)
	}
	if len(invalid) > 0 {
		o.Warning(fmt.Sprintf("Found %d invalid profile(s) ! ", len(invalid)))
	}
	return 0
}
