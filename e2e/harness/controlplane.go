//go:build linux

package harness

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/devcluster/devcluster/internal/testutil"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// ControlPlane is a running etcd + kube-apiserver + kube-controller-manager
// + kube-scheduler + kwok on loopback ports picked at run time.
type ControlPlane struct {
	Dir string
	// URL is the API server's https URL.
	URL string
	// Token is the admin bearer token.
	Token string
	// Kubeconfig is an admin kubeconfig for the components and the tests.
	Kubeconfig string
	// CAFile is the API server's self-signed serving certificate.
	CAFile string

	bins  *Binaries
	mu    sync.Mutex
	procs map[string]*Process
	ports map[string]int
	order []string
	opts  cpOptions
}

// cpOptions are set by CPOption.
type cpOptions struct {
	netns  string // run every component in this network namespace
	hostIP string // the address of that namespace the host reaches
	noKwok bool
}

// CPOption configures StartControlPlane.
type CPOption func(*cpOptions)

// InNetNS runs the whole control plane inside a network namespace (so a
// real node in that namespace can reach it); the host reaches the API
// server at ip.
func InNetNS(name, ip string) CPOption {
	return func(o *cpOptions) { o.netns, o.hostIP = name, ip }
}

// WithoutKwok starts no simulated nodes (a real kubelet joins instead).
func WithoutKwok() CPOption { return func(o *cpOptions) { o.noKwok = true } }

// addr is where the host reaches a component's port.
func (cp *ControlPlane) addr(port string) string {
	if cp.opts.netns != "" {
		return cp.opts.hostIP + ":" + port
	}
	return "127.0.0.1:" + port
}

// bind is the address components listen on.
func (cp *ControlPlane) bind() string {
	if cp.opts.netns != "" {
		return "0.0.0.0"
	}
	return "127.0.0.1"
}

// StartControlPlane starts every component and waits until the API server
// is ready and the controllers and kwok run.
func StartControlPlane(ctx context.Context, bins *Binaries, dir string, options ...CPOption) (cp *ControlPlane, err error) {
	cp = &ControlPlane{Dir: dir, bins: bins, procs: map[string]*Process{}, ports: map[string]int{}}
	for _, o := range options {
		o(&cp.opts)
	}
	defer func() {
		if err != nil {
			err = fmt.Errorf("%w\n%s", err, cp.Logs(40))
			cp.Stop()
		}
	}()
	for _, name := range []string{"etcd-client", "etcd-peer", "apiserver", "kcm", "scheduler", "kwok"} {
		p, err := testutil.FreePort()
		if err != nil {
			return nil, err
		}
		cp.ports[name] = p
	}
	tok := make([]byte, 16)
	_, _ = rand.Read(tok)
	cp.Token = hex.EncodeToString(tok)
	cp.URL = "https://" + cp.addr(cp.port("apiserver"))
	cp.CAFile = filepath.Join(dir, "pki", "apiserver.crt")
	cp.Kubeconfig = filepath.Join(dir, "admin.kubeconfig")
	if err := cp.writeFiles(); err != nil {
		return nil, err
	}

	if err := cp.startEtcd(ctx); err != nil {
		return nil, err
	}
	if err := cp.StartAPIServer(ctx); err != nil {
		return nil, err
	}
	kc := cp.Kubeconfig
	if err := cp.start("kube-controller-manager", bins.KubeControllerManager,
		"--kubeconfig="+kc, "--authentication-kubeconfig="+kc, "--authorization-kubeconfig="+kc,
		"--leader-elect=false", "--bind-address="+cp.bind(), "--secure-port="+cp.port("kcm"),
		"--service-account-private-key-file="+filepath.Join(dir, "sa.key"), "--root-ca-file="+cp.CAFile,
		"--controllers=*", "--node-monitor-grace-period=2m", "--cluster-cidr=10.244.0.0/16"); err != nil {
		return nil, err
	}
	if err := cp.start("kube-scheduler", bins.KubeScheduler,
		"--kubeconfig="+kc, "--authentication-kubeconfig="+kc, "--authorization-kubeconfig="+kc,
		"--leader-elect=false", "--bind-address="+cp.bind(), "--secure-port="+cp.port("scheduler")); err != nil {
		return nil, err
	}
	// kwok manages only nodes annotated as fake, so a real kubelet can join
	// the same control plane.
	if !cp.opts.noKwok {
		failStages := filepath.Join(dir, "e2e-stages.yaml")
		if err := os.WriteFile(failStages, []byte(FailureStages), 0o644); err != nil {
			return nil, err
		}
		if err := cp.start("kwok", bins.Kwok, "--kubeconfig="+kc,
			"--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
			"--server-address=127.0.0.1:"+cp.port("kwok"), "--config="+bins.KwokStages, "--config="+failStages); err != nil {
			return nil, err
		}
	}
	for _, c := range []struct{ name, port string }{{"kube-controller-manager", "kcm"}, {"kube-scheduler", "scheduler"}} {
		url := "https://" + cp.addr(cp.port(c.port)) + "/healthz"
		if err := waitFor(ctx, c.name+" /healthz", cp.procs[c.name], func() error { return httpOK(url, "") }); err != nil {
			return nil, err
		}
	}
	return cp, nil
}

func (cp *ControlPlane) port(name string) string { return strconv.Itoa(cp.ports[name]) }

func (cp *ControlPlane) start(name, bin string, args ...string) error {
	if cp.opts.netns != "" {
		args = append([]string{"--net=/run/netns/" + cp.opts.netns, "--", bin}, args...)
		bin = "nsenter"
	}
	p, err := startProcess(cp.Dir, name, bin, args, nil)
	if err != nil {
		return err
	}
	cp.mu.Lock()
	cp.procs[name] = p
	cp.order = append(cp.order, name)
	cp.mu.Unlock()
	return nil
}

func (cp *ControlPlane) startEtcd(ctx context.Context) error {
	client := "http://127.0.0.1:" + cp.port("etcd-client")
	peer := "http://127.0.0.1:" + cp.port("etcd-peer")
	if err := cp.start("etcd", cp.bins.Etcd, "--name=default", "--data-dir="+filepath.Join(cp.Dir, "etcd"),
		"--listen-client-urls="+client, "--advertise-client-urls="+client,
		"--listen-peer-urls="+peer, "--initial-advertise-peer-urls="+peer, "--initial-cluster=default="+peer,
		"--unsafe-no-fsync=true", "--log-level=warn"); err != nil {
		return err
	}
	if cp.opts.netns != "" {
		// etcd listens on the namespace's loopback: the API server's
		// readiness covers it.
		return nil
	}
	return waitFor(ctx, "etcd /health", cp.procs["etcd"], func() error { return httpOK(client+"/health", "") })
}

// StartAPIServer starts (or restarts, after StopAPIServer) kube-apiserver on
// the same port and waits for /readyz.
func (cp *ControlPlane) StartAPIServer(ctx context.Context) error {
	d := cp.Dir
	if err := cp.start("kube-apiserver", cp.bins.KubeAPIServer,
		"--etcd-servers=http://127.0.0.1:"+cp.port("etcd-client"),
		"--bind-address="+cp.bind(), "--advertise-address="+cp.advertise(), "--secure-port="+cp.port("apiserver"),
		"--kubelet-preferred-address-types=InternalIP",
		"--cert-dir="+filepath.Join(d, "pki"), "--token-auth-file="+filepath.Join(d, "tokens.csv"),
		"--authorization-mode=RBAC", "--service-account-issuer=https://kubernetes.default.svc",
		"--service-account-key-file="+filepath.Join(d, "sa.pub"),
		"--service-account-signing-key-file="+filepath.Join(d, "sa.key"),
		"--service-cluster-ip-range=10.96.0.0/16", "--endpoint-reconciler-type=none",
		"--enable-priority-and-fairness=false"); err != nil {
		return err
	}
	return waitFor(ctx, "kube-apiserver /readyz", cp.procs["kube-apiserver"], func() error {
		return httpOK(cp.URL+"/readyz", cp.Token)
	})
}

func (cp *ControlPlane) advertise() string {
	if cp.opts.netns != "" {
		return cp.opts.hostIP
	}
	return "127.0.0.1"
}

// StopAPIServer stops kube-apiserver only, to test clients surviving a
// restart.
func (cp *ControlPlane) StopAPIServer() {
	cp.mu.Lock()
	p := cp.procs["kube-apiserver"]
	cp.mu.Unlock()
	p.Stop(10 * time.Second)
}

// Stop stops every component in reverse start order.
func (cp *ControlPlane) Stop() {
	cp.mu.Lock()
	order := append([]string(nil), cp.order...)
	cp.mu.Unlock()
	seen := map[string]bool{}
	for i := len(order) - 1; i >= 0; i-- {
		if seen[order[i]] {
			continue
		}
		seen[order[i]] = true
		cp.procs[order[i]].Stop(10 * time.Second)
	}
}

// Logs returns the last n lines of every component's log.
func (cp *ControlPlane) Logs(n int) string {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	var b strings.Builder
	seen := map[string]bool{}
	for _, name := range cp.order {
		if seen[name] {
			continue
		}
		seen[name] = true
		fmt.Fprintf(&b, "----- %s (%s) -----\n%s\n", name, cp.procs[name].LogPath, cp.procs[name].Tail(n))
	}
	return b.String()
}

// RESTConfig is an admin client configuration.
func (cp *ControlPlane) RESTConfig() *rest.Config {
	// A test client must not be the bottleneck it measures: lift
	// client-go's default 5 QPS.
	return &rest.Config{Host: cp.URL, BearerToken: cp.Token, TLSClientConfig: rest.TLSClientConfig{Insecure: true}, QPS: 500, Burst: 1000}
}

// Client is an admin clientset.
func (cp *ControlPlane) Client() (kubernetes.Interface, error) {
	return kubernetes.NewForConfig(cp.RESTConfig())
}

func (cp *ControlPlane) writeFiles() error {
	if err := os.MkdirAll(filepath.Join(cp.Dir, "pki"), 0o700); err != nil {
		return err
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return err
	}
	files := map[string][]byte{
		"sa.key":     pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}),
		"sa.pub":     pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}),
		"tokens.csv": []byte(cp.Token + ",admin,admin,system:masters\n"),
		"admin.kubeconfig": []byte(fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: e2e
  cluster:
    server: %s
    insecure-skip-tls-verify: true
users:
- name: admin
  user:
    token: %s
contexts:
- name: e2e
  context: {cluster: e2e, user: admin}
current-context: e2e
`, cp.URL, cp.Token)),
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(cp.Dir, name), data, 0o600); err != nil {
			return err
		}
	}
	return nil
}

var insecureClient = &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{
	TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // loopback test server with a self-signed cert
}}

func httpOK(url, token string) error {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := insecureClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: HTTP %d", url, resp.StatusCode)
	}
	return nil
}

// FailureLabel on a pod makes kwok hold it in a waiting state whose reason is
// the label's value (ImagePullBackOff, CrashLoopBackOff, ...), the way a
// kubelet reports a pod that cannot start.
const FailureLabel = "e2e.devcluster.dev/fail"

// MissingImage is an image no registry has: kwok holds a pod whose first
// container runs it in ImagePullBackOff, as a kubelet would report it.
const MissingImage = "registry.invalid/e2e/missing:v0"

// FailureStages are the kwok Stages behind FailureLabel and MissingImage.
// Their weight beats kwok's pod-ready stage, and their delay keeps them from
// re-applying in a tight loop.
var FailureStages = waitingStage("devcluster-e2e-pod-failure",
	`    - key: '.metadata.labels["`+FailureLabel+`"]'
      operator: 'Exists'`,
	`{{ index $.metadata.labels "`+FailureLabel+`" | Quote }}`,
	`{{ printf "stage %s for image %s" (index $.metadata.labels "`+FailureLabel+`") .image | Quote }}`) +
	"---\n" + waitingStage("devcluster-e2e-missing-image",
	`    - key: '.spec.containers[0].image'
      operator: 'In'
      values: ['`+MissingImage+`']`,
	`ImagePullBackOff`,
	`{{ printf "Back-off pulling image %q: ErrImagePull: failed to resolve reference %q: not found" .image .image | Quote }}`)

// waitingStage is a kwok Stage that holds the pods matched by selector
// pending, every container waiting with reason and message (templates
// evaluated per container).
func waitingStage(name, selector, reason, message string) string {
	return `apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: ` + name + `
spec:
  resourceRef:
    apiGroup: v1
    kind: Pod
  selector:
    matchExpressions:
` + selector + `
    - key: '.metadata.deletionTimestamp'
      operator: 'DoesNotExist'
  delay:
    durationMilliseconds: 500
  weight: 10000
  next:
    statusTemplate: |
      {{ $now := Now }}
      phase: Pending
      conditions:
      - lastTransitionTime: {{ $now | Quote }}
        status: "True"
        type: PodScheduled
      - lastTransitionTime: {{ $now | Quote }}
        status: "False"
        type: Ready
      containerStatuses:
      {{ range .spec.containers }}
      - image: {{ .image | Quote }}
        name: {{ .name | Quote }}
        ready: false
        restartCount: 0
        started: false
        state:
          waiting:
            reason: ` + reason + `
            message: ` + message + `
      {{ end }}
`
}
