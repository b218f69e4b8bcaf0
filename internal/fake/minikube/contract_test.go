package minikube

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// mk runs the stand-in against one MINIKUBE_HOME.
type mk struct {
	t   *testing.T
	env map[string]string
}

func newMK(t *testing.T) *mk {
	dir := t.TempDir()
	return &mk{t: t, env: map[string]string{"MINIKUBE_HOME": dir, "KUBECONFIG": filepath.Join(dir, "kubeconfig")}}
}

func (m *mk) run(args ...string) (string, string, int) {
	var o, e bytes.Buffer
	code := Main(context.Background(), Env{Args: args, Stdout: &o, Stderr: &e,
		LookupEnv: func(k string) (string, bool) { v, ok := m.env[k]; return v, ok }})
	return o.String(), e.String(), code
}

// Each case is one line of the documented contract.
func TestContract(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		setup    [][]string
		args     []string
		code     int
		stdout   string // exact when prefixed with "=", else substring
		stderr   string
		extraEnv map[string]string
	}{
		{name: "version -o json", args: []string{"version", "-o", "json"}, stdout: `={"commit":"` + Commit + `","minikubeVersion":"v1.38.1"}` + "\n"},
		{name: "version --short", args: []string{"version", "--short"}, stdout: "=v1.38.1\n"},
		{name: "version bad output exits 10", args: []string{"version", "-o", "xml"}, code: 10, stderr: "error: --output must be 'yaml' or 'json'"},
		{name: "unknown flag exits 14", args: []string{"start", "--foo"}, code: 14, stderr: "Error: unknown flag: --foo"},
		{name: "invalid profile name exits 14", args: []string{"start", "-p", "x_y"}, code: 14, stderr: "X Exiting due to MK_USAGE: Only alphanumeric"},
		{name: "cpus below minimum exits 29", args: []string{"start", "--cpus=1"}, code: 29, stderr: "Requested cpu count 1 is less than the minimum allowed of 2"},
		{name: "memory below minimum exits 23", args: []string{"start", "--memory=1000mb"}, code: 23, stderr: "Requested memory allocation 1000MiB is less than the usable minimum of 1800MB"},
		{name: "unparseable memory exits 14", args: []string{"start", "--memory=foo"}, code: 14, stderr: "Unable to parse memory 'foo': FromHumanSize: invalid size: 'foo'"},
		{name: "no-limit on a VM driver exits 14", args: []string{"start", "--driver=kvm2", "--memory=no-limit"}, code: 14, stderr: "The 'kvm2' driver does not support --memory=no-limit"},
		{name: "unknown driver exits 56", args: []string{"start", "--driver=foo"}, code: 56, stderr: "The driver 'foo' is not supported on linux/amd64"},
		{name: "docker missing exits 65 before memory checks", args: []string{"start", "--driver=docker", "--memory=10"}, code: 65, stderr: "PROVIDER_DOCKER_NOT_FOUND", extraEnv: map[string]string{"STANDIN_NO_DOCKER": "1"}},
		{name: "invalid runtime exits 14", args: []string{"start", "--container-runtime=rkt"}, code: 14, stderr: "Invalid Container Runtime: rkt. Valid runtimes are: [docker cri-o containerd]"},
		{name: "invalid insecure registry exits 14", args: []string{"start", "--insecure-registry=ftp://x"}, code: 14, stderr: "the address provided with the --insecure-registry flag is invalid: ftp://x"},
		{name: "dry run", args: []string{"start", "--dry-run"}, stdout: "dry-run validation complete!"},
		{name: "default runtime warns", args: []string{"start"}, stderr: `! Starting v1.39.0, minikube will default to "containerd" container runtime.`},
		{name: "status of a missing profile exits 85 on stdout", args: []string{"status", "-p", "foo"}, code: 85,
			stdout: "=* Profile \"foo\" not found. Run \"minikube profile list\" to view all profiles.\n  To start a cluster, run: \"minikube start -p foo\"\n"},
		{name: "status -o with -f exits 14", setup: [][]string{{"start"}}, args: []string{"status", "-o", "json", "-f", "{{.Host}}"}, code: 14, stderr: "Cannot use both --output and --format options"},
		{name: "status json has no trailing newline", setup: [][]string{{"start", "--container-runtime=containerd"}}, args: []string{"status", "-o", "json"},
			stdout: `={"Name":"minikube","Host":"Running","Kubelet":"Running","APIServer":"Running","Kubeconfig":"Configured","Worker":false}`},
		{name: "status of a stopped profile exits 7", setup: [][]string{{"start"}, {"stop"}}, args: []string{"status", "-o", "json"}, code: 7,
			stdout: `={"Name":"minikube","Host":"Stopped","Kubelet":"Stopped","APIServer":"Stopped","Kubeconfig":"Stopped","Worker":false}`},
		{name: "status of a paused profile exits 2", setup: [][]string{{"start"}, {"pause"}}, args: []string{"status", "-f", "{{.APIServer}}"}, code: 2, stdout: "=Paused"},
		{name: "ip", setup: [][]string{{"start"}}, args: []string{"ip"}, stdout: "=192.168.49.2\n"},
		{name: "ip of a stopped profile exits 83", setup: [][]string{{"start"}, {"stop"}}, args: []string{"ip"}, code: 83, stdout: "host is not running: state=Stopped"},
		{name: "ip of a missing profile exits 85", args: []string{"ip", "-p", "nope"}, code: 85},
		{name: "profile list of nothing", args: []string{"profile", "list", "-o", "json"}, stdout: `={"invalid":[],"valid":[]}`},
		{name: "profile list table of nothing exits 14", args: []string{"profile", "list"}, code: 14, stderr: "MK_USAGE_NO_PROFILE"},
		{name: "cpus change on an existing profile only warns", setup: [][]string{{"start", "--cpus=2"}}, args: []string{"start", "--cpus=4"},
			stderr: "! You cannot change the CPUs for an existing minikube cluster. Please first delete the cluster."},
		{name: "memory change on an existing profile only warns", setup: [][]string{{"start", "--memory=2g"}}, args: []string{"start", "--memory=3g"},
			stderr: "! You cannot change the memory size for an existing minikube cluster. Please first delete the cluster."},
		{name: "driver change exits 81", setup: [][]string{{"start", "--driver=docker"}}, args: []string{"start", "--driver=kvm2"}, code: 81, stderr: "GUEST_DRIVER_MISMATCH"},
		{name: "downgrade exits 106", setup: [][]string{{"start", "--kubernetes-version=v1.35.1"}}, args: []string{"start", "--kubernetes-version=v1.30.0"}, code: 106, stderr: "Unable to safely downgrade existing Kubernetes v1.35.1 cluster to v1.30.0"},
		{name: "failure hook exits 80", args: []string{"start"}, code: 80, stderr: "X Exiting due to GUEST_START:", extraEnv: map[string]string{"STANDIN_FAIL_START": "GUEST_START"}},
		{name: "json start failure is a CloudEvent", args: []string{"start", "-o", "json", "--cpus=1"}, code: 29, stdout: `"name":"RSRC_INSUFFICIENT_CORES"`},
		{name: "delete of a missing profile succeeds", args: []string{"delete", "-p", "foo"}, stderr: `! "foo" profile does not exist, trying anyways.`, stdout: `Removed all traces of the "foo" cluster.`},
		{name: "delete with arguments exits 14", args: []string{"delete", "extra"}, code: 14, stderr: "Usage: minikube delete"},
		{name: "stop of a missing profile exits 85", args: []string{"stop", "-p", "foo"}, code: 85},
		{name: "stop", setup: [][]string{{"start"}}, args: []string{"stop"}, stdout: "* 1 node stopped."},
		{name: "profile from MINIKUBE_PROFILE", setup: [][]string{{"start", "-p", "envprof"}}, args: []string{"ip"}, stdout: "=192.168.49.2\n", extraEnv: map[string]string{"MINIKUBE_PROFILE": "envprof"}},
		{name: "cp of a missing source exits 35", setup: [][]string{{"start"}}, args: []string{"cp", "/nonexistent/x", "/etc/x"}, code: 35, stderr: "X Exiting due to HOST_PATH_MISSING: Cannot find directory /nonexistent/x for copy"},
		{name: "cp to a relative target exits 14", setup: [][]string{{"start"}}, args: []string{"cp", "/etc/passwd", "etc/x"}, code: 14, stderr: "Target <remote file path> must be an absolute Path"},
		{name: "cp with one argument exits 14", setup: [][]string{{"start"}}, args: []string{"cp", "/etc/passwd"}, code: 14, stderr: "Please specify the path to copy"},
		{name: "cp into a missing directory with the docker driver exits 10", setup: [][]string{{"start", "--driver=docker"}}, args: []string{"cp", "/etc/passwd", "/etc/containerd/certs.d/x:5000/hosts.toml"},
			code: 10, stderr: "X Exiting due to MK_COMMAND_RUNNER: Fail to copy file /etc/passwd: Error response from daemon: Could not find the file /etc/containerd/certs.d/x:5000 in container minikube"},
		{name: "cp after mkdir -p", setup: [][]string{{"start", "--driver=docker"}, {"ssh", "--", "sudo mkdir -p /etc/d"}}, args: []string{"cp", "/etc/passwd", "/etc/d/p"}},
		{name: "cp to a missing node exits 85", setup: [][]string{{"start"}}, args: []string{"cp", "/etc/passwd", "minikube-m09:/etc/x"}, code: 85, stderr: "Node minikube-m09 does not exist."},
		{name: "cp to a stopped profile exits 83", setup: [][]string{{"start"}, {"stop"}}, args: []string{"cp", "/etc/passwd", "/etc/x"}, code: 83},
		{name: "ssh of a failing command exits 1", setup: [][]string{{"start"}}, args: []string{"ssh", "--", "sudo cat /etc/missing"}, code: 1, stderr: "ssh: Process exited with status 1"},
		{name: "ssh reads what cp wrote, with CRLF", setup: [][]string{{"start"}, {"ssh", "--", "sudo mkdir -p '/etc/a b'"}, {"cp", "/etc/passwd", "/etc/a b/h"}}, args: []string{"ssh", "--", "sudo cat '/etc/a b/h'"}},
		{name: "the docker driver refuses root, even with --dry-run", args: []string{"start", "--driver=docker", "--dry-run"}, code: 57, stderr: `X Exiting due to DRV_AS_ROOT: The "docker" driver should not be used with root privileges.`, extraEnv: map[string]string{"STANDIN_EUID": "0"}},
		{name: "an auto-selected docker driver refuses root", args: []string{"start"}, code: 57, stderr: "DRV_AS_ROOT", extraEnv: map[string]string{"STANDIN_EUID": "0"}},
		{name: "root with --force", args: []string{"start", "--force", "--dry-run"}, stdout: "dry-run validation complete!", extraEnv: map[string]string{"STANDIN_EUID": "0"}},
		{name: "docker daemon down exits 63", args: []string{"start", "--driver=docker"}, code: 63, stderr: "PROVIDER_DOCKER_NOT_RUNNING", extraEnv: map[string]string{"STANDIN_DOCKER_DOWN": "1"}},
		{name: "docker daemon down, auto-selected, exits 55", args: []string{"start"}, code: 55, stderr: "DRV_DOCKER_NOT_RUNNING", extraEnv: map[string]string{"STANDIN_DOCKER_DOWN": "1"}},
		{name: "a driver that is not installed exits 65", args: []string{"start", "--driver=kvm2"}, code: 65, stderr: "PROVIDER_KVM2_NOT_FOUND", extraEnv: map[string]string{"STANDIN_INSTALLED_DRIVERS": "docker"}},
		{name: "a Kubernetes version newer than known is looked up online, with no network", args: []string{"start", "--kubernetes-version=v1.99.0"}, code: 40, stderr: "X Exiting due to K8S_FAIL_CONNECT: error fetching Kubernetes version list from GitHub"},
		{name: "a Kubernetes version newer than known is looked up online, with no such host", args: []string{"start", "--kubernetes-version=v1.99.0"}, code: 48, stderr: "X Exiting due to INET_LOOKUP_HOST: error fetching Kubernetes version list from GitHub", extraEnv: map[string]string{"STANDIN_DNS": "nxdomain"}},
		{name: "online, a newer version is accepted", args: []string{"start", "--kubernetes-version=v1.99.0", "--dry-run"}, stdout: "dry-run validation complete!", extraEnv: map[string]string{"STANDIN_ONLINE": "1"}},
		{name: "a failed json start emits unnamed events around the named one", args: []string{"start", "-o", "json"}, code: 80, stdout: `"message":"If the above advice does not help, please let us know`, extraEnv: map[string]string{"STANDIN_FAIL_START": "GUEST_PROVISION"}},
		{name: "klog flags are accepted", setup: [][]string{{"start", "--alsologtostderr", "-v=1"}}, args: []string{"ip", "--alsologtostderr"}, stdout: "=192.168.49.2\n"},
	}
	for _, tc := range cases {
		tc := tc
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := newMK(t)
			for k, v := range tc.extraEnv {
				m.env[k] = v
			}
			for _, s := range tc.setup {
				if o, e, code := m.run(s...); code != 0 {
					t.Fatalf("setup %v: exit %d\n%s%s", s, code, o, e)
				}
			}
			o, e, code := m.run(tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, o, e)
			}
			check := func(stream, got, want string) {
				if want == "" {
					return
				}
				if strings.HasPrefix(want, "=") {
					if got != want[1:] {
						t.Errorf("%s = %q, want exactly %q", stream, got, want[1:])
					}
				} else if !strings.Contains(got, want) {
					t.Errorf("%s = %q, want it to contain %q", stream, got, want)
				}
			}
			check("stdout", o, tc.stdout)
			check("stderr", e, tc.stderr)
		})
	}
}

func TestExistingProfileIgnoresInsecureRegistrySilently(t *testing.T) {
	t.Parallel()
	m := newMK(t)
	if _, e, code := m.run("start", "--insecure-registry=10.0.0.1:5000"); code != 0 {
		t.Fatal(e)
	}
	_, e, code := m.run("start", "--insecure-registry=192.168.49.1:5000")
	if code != 0 || e != "" {
		t.Fatalf("re-run: exit %d, stderr %q; want a silent success", code, e)
	}
	o, _, _ := m.run("profile", "list", "-o", "json")
	var list struct {
		Valid []struct {
			Config struct{ InsecureRegistry []string }
			Status string
		} `json:"valid"`
	}
	if err := json.Unmarshal([]byte(o), &list); err != nil {
		t.Fatal(err)
	}
	if got := list.Valid[0].Config.InsecureRegistry; len(got) != 1 || got[0] != "10.0.0.1:5000" {
		t.Errorf("saved insecure registries = %q, want the first start's only", got)
	}
	if list.Valid[0].Status != "OK" {
		t.Errorf("status = %q, want OK", list.Valid[0].Status)
	}
	if !strings.HasPrefix(o, `{"invalid":[],"valid":[`) {
		t.Errorf(`"invalid" must come first: %s`, o)
	}
}

func TestStartWritesProfileFilesAndKubeconfig(t *testing.T) {
	t.Parallel()
	m := newMK(t)
	if _, e, code := m.run("start", "-p", "dev", "--memory=4g", "--cpus=3", "--container-runtime=cri-o"); code != 0 {
		t.Fatal(e)
	}
	home := filepath.Join(m.env["MINIKUBE_HOME"], ".minikube")
	for _, f := range []string{"profiles/dev/config.json", "profiles/dev/client.crt", "profiles/dev/client.key", "ca.crt"} {
		if _, err := os.Stat(filepath.Join(home, f)); err != nil {
			t.Errorf("missing %s: %v", f, err)
		}
	}
	b, _ := os.ReadFile(filepath.Join(home, "profiles/dev/config.json"))
	if !strings.Contains(string(b), "\n    \"Name\": \"dev\"") || !strings.Contains(string(b), `"ContainerRuntime": "crio"`) || !strings.Contains(string(b), `"Memory": 4096`) {
		t.Errorf("config.json:\n%s", b)
	}
	kc, _ := os.ReadFile(m.env["KUBECONFIG"])
	if !strings.Contains(string(kc), "current-context: dev") || !strings.Contains(string(kc), "server: https://192.168.49.2:8443") {
		t.Errorf("kubeconfig:\n%s", kc)
	}
	if _, _, code := m.run("delete", "-p", "dev"); code != 0 {
		t.Fatal("delete failed")
	}
	kc, _ = os.ReadFile(m.env["KUBECONFIG"])
	if strings.Contains(string(kc), "dev") {
		t.Errorf("delete left kubeconfig entries:\n%s", kc)
	}
	if _, err := os.Stat(filepath.Join(home, "profiles/dev")); !os.IsNotExist(err) {
		t.Errorf("delete left the profile directory: %v", err)
	}
}

func TestSSHRecordsCommands(t *testing.T) {
	t.Parallel()
	m := newMK(t)
	if _, e, code := m.run("start", "-p", "dev"); code != 0 {
		t.Fatal(e)
	}
	if _, e, code := m.run("ssh", "-p", "dev", "--", "sudo", "mkdir", "-p", "/etc/containerd/certs.d"); code != 0 {
		t.Fatal(e)
	}
	b, err := os.ReadFile(filepath.Join(m.env["MINIKUBE_HOME"], ".minikube/profiles/dev/ssh.log"))
	if err != nil || strings.TrimSpace(string(b)) != `["sudo","mkdir","-p","/etc/containerd/certs.d"]` {
		t.Errorf("ssh.log = %q, %v", b, err)
	}
}

// A profile whose machine was removed behind minikube's back: status -o
// json prints null with exit 7, and ip, update-context, ssh and unpause
// exit 80 GUEST_STATUS. Without minikube's record of the machine too, they
// exit 85: the host does not exist.
func TestMachineGone(t *testing.T) {
	t.Parallel()
	m := newMK(t)
	if _, e, code := m.run("start", "-p", "gone"); code != 0 {
		t.Fatal(e)
	}
	// The container goes; minikube's record of the machine stays.
	if err := os.Remove(filepath.Join(m.env["MINIKUBE_HOME"], ".minikube", "machines", "gone", "state.json")); err != nil {
		t.Fatal(err)
	}
	if o, _, code := m.run("status", "-p", "gone", "-o", "json"); code != 7 || o != "null" {
		t.Errorf("status -o json: exit %d, %q", code, o)
	}
	for _, args := range [][]string{{"ip", "-p", "gone"}, {"update-context", "-p", "gone"}, {"ssh", "-p", "gone", "--", "true"}, {"unpause", "-p", "gone"}} {
		if _, e, code := m.run(args...); code != 80 || !strings.Contains(e, "GUEST_STATUS") {
			t.Errorf("%v: exit %d\n%s", args, code, e)
		}
	}
	if err := os.RemoveAll(filepath.Join(m.env["MINIKUBE_HOME"], ".minikube", "machines", "gone")); err != nil {
		t.Fatal(err)
	}
	if o, _, code := m.run("ip", "-p", "gone"); code != 85 || !strings.Contains(o, "host does not exist") {
		t.Errorf("ip without a machine record: exit %d, %q", code, o)
	}
}
