package docker

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/devcluster/devcluster/internal/fake/apiserver"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// fsDir is the directory standing in for a node's file system.
func (s *invocation) fsDir(name string) string { return filepath.Join(s.dir, "fs", name) }

// onNode maps a path on a node into its directory.
func (s *invocation) onNode(node, p string) string {
	return filepath.Join(s.fsDir(node), filepath.FromSlash(path.Clean("/"+p)))
}

// seedNode writes the files a kind node image has: /kind/version and the
// default manifests (minimal ones: nothing runs).
func (s *invocation) seedNode(c *Container) error {
	version := "v1.37.0"
	if _, tag, ok := strings.Cut(strings.SplitN(c.Image, "@", 2)[0], ":"); ok {
		version = tag
	}
	cluster := c.Labels["io.x-k8s.kind.cluster"]
	files := map[string]string{
		"/kind/version": version + "\n",
		"/kind/manifests/default-cni.yaml": fmt.Sprintf(`apiVersion: v1
kind: ConfigMap
metadata: {name: kindnet-standin-%s, namespace: kube-system}
data: {note: "the docker stand-in runs no CNI"}
`, cluster),
		"/kind/manifests/default-storage.yaml": `apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: standard
  annotations: {storageclass.kubernetes.io/is-default-class: "true"}
provisioner: rancher.io/local-path
`,
	}
	for p, content := range files {
		dst := s.onNode(c.Name, p)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(dst, []byte(content), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// exec runs a command "in" a node: the few commands kind and devcluster
// use, against the node's directory and the test's API server.
func (s *invocation) exec(args []string) int {
	i := 0
	for i < len(args) && strings.HasPrefix(args[i], "-") {
		if (args[i] == "-e" || args[i] == "--env" || args[i] == "-w" || args[i] == "-u") && i+1 < len(args) {
			i++
		}
		i++
	}
	if i+1 >= len(args) {
		fmt.Fprintln(s.env.Stderr, "\"docker exec\" requires at least 2 arguments.")
		return 1
	}
	c := s.container(args[i])
	if c == nil {
		fmt.Fprintf(s.env.Stderr, "Error response from daemon: No such container: %s\n", args[i])
		return 1
	}
	if c.State != "running" {
		fmt.Fprintf(s.env.Stderr, "Error response from daemon: container %s is not running\n", c.ID)
		return 1
	}
	cmd := args[i+1:]
	if s.onRealNode(cmd) {
		return s.realExec(cmd)
	}
	switch cmd[0] {
	case "true":
		return 0
	case "cat":
		code := 0
		for _, f := range cmd[1:] {
			b, err := os.ReadFile(s.onNode(c.Name, f))
			if err != nil {
				fmt.Fprintf(s.env.Stderr, "cat: %s: No such file or directory\n", f)
				code = 1
				continue
			}
			_, _ = s.env.Stdout.Write(b)
		}
		return code
	case "mkdir":
		for _, d := range cmd[1:] {
			if strings.HasPrefix(d, "-") {
				continue
			}
			if err := os.MkdirAll(s.onNode(c.Name, d), 0o755); err != nil {
				fmt.Fprintf(s.env.Stderr, "mkdir: %v\n", err)
				return 1
			}
		}
		return 0
	case "cp":
		if len(cmd) == 3 && cmd[1] == "/dev/stdin" {
			dst := s.onNode(c.Name, cmd[2])
			if _, err := os.Stat(filepath.Dir(dst)); err != nil {
				fmt.Fprintf(s.env.Stderr, "cp: cannot create regular file '%s': No such file or directory\n", cmd[2])
				return 1
			}
			b, err := io.ReadAll(s.env.Stdin)
			if err == nil {
				err = os.WriteFile(dst, b, 0o644)
			}
			if err != nil {
				fmt.Fprintf(s.env.Stderr, "cp: %v\n", err)
				return 1
			}
			return 0
		}
	case "kubeadm":
		return s.kubeadm(c, cmd[1:])
	case "kubectl":
		return s.kubectl(c, cmd[1:])
	case "bash", "sh":
		// kind restarts containerd after patching its config; there is
		// none here.
		return 0
	}
	fmt.Fprintf(s.env.Stderr, "OCI runtime exec failed: exec failed: unable to start container process: exec: %q: executable file not found in $PATH: unknown\n", cmd[0])
	return 126
}

// onRealNode says whether a node command goes to the real node
// (STANDIN_NODE_EXEC): the file commands on containerd's configuration,
// which the real node's containerd reads. kind's own files (/kind,
// /etc/kubernetes) stay in the node's directory.
func (s *invocation) onRealNode(cmd []string) bool {
	if s.env.get("STANDIN_NODE_EXEC") == "" {
		return false
	}
	switch cmd[0] {
	case "cat", "mkdir", "cp":
	default:
		return false
	}
	for _, a := range cmd[1:] {
		if strings.HasPrefix(a, "/etc/containerd/") {
			return true
		}
	}
	return false
}

// realExec runs a command in the real node's namespaces.
func (s *invocation) realExec(cmd []string) int {
	return s.attached(append(strings.Fields(s.env.get("STANDIN_NODE_EXEC")), cmd...), 126)
}

// attached runs argv with the stand-in's standard streams and returns its
// exit code, or cannotStart when it could not be started.
func (s *invocation) attached(argv []string, cannotStart int) int {
	c := exec.CommandContext(s.ctx, argv[0], argv[1:]...)
	c.Stdin, c.Stdout, c.Stderr = s.env.Stdin, s.env.Stdout, s.env.Stderr
	if err := c.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		fmt.Fprintln(s.env.Stderr, err)
		return cannotStart
	}
	return 0
}

// kubeadm init and join register the node with the test's API server (kwok
// makes it Ready); init also writes /etc/kubernetes/admin.conf.
func (s *invocation) kubeadm(c *Container, args []string) int {
	if len(args) == 0 || args[0] != "init" && args[0] != "join" {
		fmt.Fprintf(s.env.Stderr, "kubeadm: the docker stand-in only does init and join\n")
		return 1
	}
	if args[0] == "init" {
		conf, err := s.adminConf()
		if err == nil {
			dst := s.onNode(c.Name, "/etc/kubernetes/admin.conf")
			if err = os.MkdirAll(filepath.Dir(dst), 0o755); err == nil {
				err = os.WriteFile(dst, conf, 0o600)
			}
		}
		if err != nil {
			fmt.Fprintf(s.env.Stderr, "kubeadm init: %v\n", err)
			return 1
		}
	}
	if err := s.registerNode(c); err != nil {
		fmt.Fprintf(s.env.Stderr, "kubeadm %s: registering the node: %v\n", args[0], err)
		return 1
	}
	fmt.Fprintf(s.env.Stdout, "[kubelet-start] node %s registered (docker stand-in)\n", c.Name)
	return 0
}

// adminConf is a kubeconfig for the test's API server, in kubeadm's shape
// (one cluster, user and context).
func (s *invocation) adminConf() ([]byte, error) {
	server := s.env.get("STANDIN_APISERVER")
	if server == "" {
		return nil, errors.New("STANDIN_APISERVER is not set")
	}
	ca := "insecure-skip-tls-verify: true"
	if f := s.env.get("STANDIN_CA_FILE"); f != "" {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		ca = "certificate-authority-data: " + base64.StdEncoding.EncodeToString(b)
	}
	return []byte(fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- cluster:
    %s
    server: %s
  name: kubernetes
contexts:
- context:
    cluster: kubernetes
    user: kubernetes-admin
  name: kubernetes-admin@kubernetes
current-context: kubernetes-admin@kubernetes
preferences: {}
users:
- name: kubernetes-admin
  user:
    token: %s
`, ca, server, s.env.get("STANDIN_TOKEN"))), nil
}

func (s *invocation) client() (kubernetes.Interface, error) {
	k, err := apiserver.Client(s.env.get)
	if err == nil && k == nil {
		err = errors.New("STANDIN_APISERVER is not set")
	}
	return k, err
}

// registerNode creates the Node a kubelet in the container would register,
// for kwok to manage: kind's labels, the control-plane taint, the node's IP.
func (s *invocation) registerNode(c *Container) error {
	k, err := s.client()
	if err != nil {
		return err
	}
	role := c.Labels["io.x-k8s.kind.role"]
	if s.env.get("STANDIN_REAL_NODE") != "" {
		// A real kubelet registers itself; it is labelled as kubeadm
		// would label it.
		return s.labelRealNode(k, c.Name, role)
	}
	capacity := corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("8"), corev1.ResourceMemory: resource.MustParse("16Gi"),
		corev1.ResourcePods: resource.MustParse("110")}
	n := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: c.Name, Annotations: map[string]string{"kwok.x-k8s.io/node": "fake"},
			Labels: map[string]string{"kubernetes.io/hostname": c.Name, "kubernetes.io/os": "linux", "type": "kwok"}},
		Status: corev1.NodeStatus{Capacity: capacity, Allocatable: capacity,
			Addresses: []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: c.IP}, {Type: corev1.NodeHostName, Address: c.Name}}},
	}
	if role == "control-plane" {
		n.Labels["node-role.kubernetes.io/control-plane"] = ""
		n.Labels["node.kubernetes.io/exclude-from-external-load-balancers"] = ""
		n.Spec.Taints = []corev1.Taint{{Key: "node-role.kubernetes.io/control-plane", Effect: corev1.TaintEffectNoSchedule}}
	}
	_, err = k.CoreV1().Nodes().Create(s.ctx, n, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		return nil
	}
	return err
}

func (s *invocation) unregisterNode(c *Container) error {
	if s.env.get("STANDIN_APISERVER") == "" {
		return nil
	}
	k, err := s.client()
	if err != nil {
		return err
	}
	if s.env.get("STANDIN_REAL_NODE") != "" {
		// The real node outlives the container; what ran on it does not.
		err = apiserver.WipeWorkloads(s.ctx, k)
	} else {
		err = k.CoreV1().Nodes().Delete(s.ctx, c.Name, metav1.DeleteOptions{})
	}
	if err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	if c.Labels["io.x-k8s.kind.role"] == "control-plane" {
		// The cluster's own objects end with its control plane; the
		// test's control plane stays, so the stand-in's CNI object goes.
		err = k.CoreV1().ConfigMaps("kube-system").Delete(s.ctx, "kindnet-standin-"+c.Labels["io.x-k8s.kind.cluster"], metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			return err
		}
	}
	return nil
}

// readyQuery is kind's wait for Ready control-plane nodes: it reads the
// last condition, which kubelet keeps as Ready and kwok does not.
const readyQuery = "-o=jsonpath='{.items..status.conditions[-1:].status}'"

// kubectl runs the real kubectl with the node's admin.conf; kind's
// readiness query is answered from the Ready condition instead.
func (s *invocation) kubectl(c *Container, args []string) int {
	bin := s.env.get("STANDIN_KUBECTL")
	if bin == "" {
		fmt.Fprintln(s.env.Stderr, "docker stand-in: STANDIN_KUBECTL is not set")
		return 127
	}
	out := make([]string, 0, len(args))
	for _, a := range args {
		if v, ok := strings.CutPrefix(a, "--kubeconfig="); ok {
			a = "--kubeconfig=" + s.onNode(c.Name, v)
		}
		if a == readyQuery {
			a = `-o=jsonpath='{.items[*].status.conditions[?(@.type=="Ready")].status}'`
		}
		out = append(out, a)
	}
	return s.attached(append([]string{bin}, out...), 127)
}

// labelRealNode waits for the real kubelet's Node and marks it as
// kubeadm marks a control-plane node.
func (s *invocation) labelRealNode(k kubernetes.Interface, name, role string) error {
	if role != "control-plane" {
		return nil
	}
	deadline := time.Now().Add(time.Minute)
	for {
		n, err := k.CoreV1().Nodes().Get(s.ctx, name, metav1.GetOptions{})
		if err == nil {
			// kubeadm's mark-control-plane phase: the role label and the
			// taint kind removes next.
			n.Labels["node-role.kubernetes.io/control-plane"] = ""
			taint := corev1.Taint{Key: "node-role.kubernetes.io/control-plane", Effect: corev1.TaintEffectNoSchedule}
			if !slices.ContainsFunc(n.Spec.Taints, func(t corev1.Taint) bool { return t.Key == taint.Key }) {
				n.Spec.Taints = append(n.Spec.Taints, taint)
			}
			_, err = k.CoreV1().Nodes().Update(s.ctx, n, metav1.UpdateOptions{})
			if err == nil || !apierrors.IsConflict(err) {
				return err
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the real node %s did not register within a minute: %v", name, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
