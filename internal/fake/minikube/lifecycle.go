package minikube

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
)

func (s *invocation) stop(p *parsed) int {
	o := &out{s: s}
	cc, err := s.loadProfile(s.profile)
	if err != nil {
		return o.profileNotFound(s.profile)
	}
	if m, _ := s.loadMachine(s.profile); m != nil && m.State != "Stopped" {
		fmt.Fprintf(s.env.Stdout, "* Stopping node %q  ...\n", s.profile)
	}
	if err := s.saveMachine(cc.Name, &machine{State: "Stopped"}); err != nil {
		return o.Fatal(exGuestError, "GUEST_STOP_TIMEOUT", err.Error(), "")
	}
	if !p.has("keep-context-active") {
		_ = s.deleteContext(cc.Name)
	}
	fmt.Fprintln(s.env.Stdout, "* 1 node stopped.")
	return 0
}

func (s *invocation) pause(_ *parsed) int {
	o := &out{s: s}
	cc, code := s.running(o)
	if cc == nil {
		return code
	}
	_ = s.saveMachine(cc.Name, &machine{State: "Paused"})
	fmt.Fprintln(s.env.Stdout, "* Pausing node "+cc.Name+" ... ")
	fmt.Fprintln(s.env.Stdout, "* Paused 14 containers in: kube-system, kubernetes-dashboard, storage-gluster, istio-operator")
	return 0
}

func (s *invocation) unpause(_ *parsed) int {
	o := &out{s: s}
	cc, code := s.running(o)
	if cc == nil {
		return code
	}
	_ = s.saveMachine(cc.Name, &machine{State: "Running"})
	fmt.Fprintln(s.env.Stdout, "* Unpausing node "+cc.Name+" ... ")
	fmt.Fprintln(s.env.Stdout, "* Unpaused 14 containers in: kube-system, kubernetes-dashboard, storage-gluster, istio-operator")
	return 0
}

func (s *invocation) delete(p *parsed) int {
	o := &out{s: s}
	if len(p.rest) > 0 {
		return o.Fatal(exProgramUsage, "MK_USAGE", "Usage: minikube delete", "")
	}
	names := []string{s.profile}
	if p.has("all") {
		names = s.profileNames()
	}
	for _, name := range names {
		cc, err := s.loadProfile(name)
		if err != nil {
			fmt.Fprintf(s.env.Stderr, "! %q profile does not exist, trying anyways.\n", name)
		} else {
			fmt.Fprintf(s.env.Stdout, "* Deleting %q in %s ...\n", name, cc.Driver)
			fmt.Fprintf(s.env.Stdout, "* Removing %s ...\n", s.machineDir(name))
			if err := s.unregisterNode(name); err != nil {
				return o.Fatal(exGuestError, "GUEST_DELETION", "Failed to delete profile(s): "+err.Error(), "")
			}
			if err := s.wipeWorkloads(); err != nil {
				return o.Fatal(exGuestError, "GUEST_DELETION", "Failed to delete profile(s): "+err.Error(), "")
			}
		}
		if err := os.RemoveAll(s.profileDir(name)); err != nil {
			return o.Fatal(exGuestError, "GUEST_DELETION", "Failed to delete profile(s): "+err.Error(), "")
		}
		_ = os.RemoveAll(s.machineDir(name))
		if err := s.deleteContext(name); err != nil {
			return o.Fatal(exGuestError, "GUEST_DELETION", "Failed to delete profile(s): "+err.Error(), "")
		}
		fmt.Fprintf(s.env.Stdout, "* Removed all traces of the %q cluster.\n", name)
	}
	return 0
}

func (s *invocation) updateContext(_ *parsed) int {
	o := &out{s: s}
	cc, code := s.running(o)
	if cc == nil {
		return code
	}
	if s.kubeconfigStatus(cc) == "Configured" {
		fmt.Fprintf(s.env.Stdout, "* No changes required for the %q context\n", cc.Name)
	} else {
		if err := s.writeContext(cc, true); err != nil {
			return o.Fatal(exGuestError, "GUEST_KUBECONFIG", err.Error(), "")
		}
		fmt.Fprintf(s.env.Stdout, "* %q context has been updated to point to %s\n", cc.Name, strings.TrimPrefix(s.serverURL(cc), "https://"))
	}
	kc, err := s.readKubeconfig()
	if err == nil {
		kc.CurrentContext = cc.Name
		s.writeKubeconfig(kc)
	}
	fmt.Fprintf(s.env.Stdout, "* Current context is %q\n", cc.Name)
	return 0
}

// logs is `minikube logs [--file F]`: the cluster's logs (here: what the
// stand-in knows of the profile) to stdout or to the file. As minikube
// does, the file is created first; with --file a host that exists but is
// not running is not an error (only the offline logs are written).
func (s *invocation) logs(p *parsed) int {
	o := &out{s: s}
	w := s.env.Stdout
	if f := p.str("file"); f != "" {
		fh, err := os.Create(f)
		if err != nil {
			return o.FatalError(exProgramUsage, "MK_USAGE", "Failed to create file: "+err.Error(), "")
		}
		defer fh.Close()
		w = fh
	}
	fmt.Fprint(w, "==> Audit <==\n(minikube stand-in: no audit log)\n\n")
	cc, err := s.loadProfile(s.profile)
	if err != nil {
		return o.profileNotFound(s.profile)
	}
	if p.str("file") != "" && !s.machineKnown(s.profile) {
		return 0 // host "Nonexistent": not running, silently
	}
	if m, err := s.loadMachine(s.profile); p.str("file") != "" && err == nil && m.State != "Running" {
		return 0
	}
	if cc, code := s.running(o); cc == nil {
		return code
	}
	b, _ := json.MarshalIndent(cc, "", "  ")
	fmt.Fprint(w, "==> Last Start <==\nprofile "+cc.Name+"\n"+string(b)+"\n")
	return 0
}
