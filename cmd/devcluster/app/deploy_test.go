package app

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/devcluster/devcluster/kube"
)

// countingListener accepts connections on a loopback port and counts them,
// closing each at once: a kubeconfig pointing at it shows whether a
// command tried to reach the cluster at all.
func countingListener(t *testing.T) (addr string, accepted *atomic.Int32) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	accepted = &atomic.Int32{}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			_ = c.Close()
		}
	}()
	return l.Addr().String(), accepted
}

// Every argument and flag of deploy is checked before the cluster is
// contacted: bad input is exit 2, with no connection to the API server.
func TestDeployChecksItsInputBeforeConnecting(t *testing.T) {
	h := newHarness(t)
	addr, accepted := countingListener(t)
	kubeconfig := filepath.Join(h.dir, "kubeconfig-closed")
	if err := os.WriteFile(kubeconfig, []byte(fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: c
  cluster: {server: "https://%s", insecure-skip-tls-verify: true}
users:
- name: u
  user: {token: not-a-secret}
contexts:
- name: c
  context: {cluster: c, user: u, namespace: apps}
current-context: c
`, addr)), 0o600); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(h.dir, "nginx.conf")
	if err := os.WriteFile(conf, []byte("server {}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"deploy"}, "no workload given"},
		{[]string{"deploy", "web"}, `"web" is not KIND/NAME`},
		{[]string{"deploy", "pod/web"}, `kind "pod" cannot be deployed`},
		{[]string{"deploy", "deployment/web", "--image", "nginx=Not A Reference"}, "invalid image reference"},
		{[]string{"deploy", "deployment/web", "--image", "nginx"}, "use CONTAINER=IMAGE"},
		{[]string{"deploy", "deployment/web", "--configmap", "web-config=" + filepath.Join(h.dir, "missing.conf")}, "missing.conf: no such file"},
		{[]string{"deploy", "deployment/web", "--manifest", filepath.Join(h.dir, "missing.yaml")}, "missing.yaml: no such file"},
		{[]string{"deploy", "deployment/web", "--configmap", "Bad_Name=" + conf}, "invalid ConfigMap name"},
	} {
		h.stderr.Reset()
		code := ExitCode(Run(context.Background(), Env{
			Stdout: &h.stdout, Stderr: &h.stderr, Dir: h.dir, Runner: h.runner, Agent: h.agents,
			LookupEnv: func(k string) (string, bool) { v, ok := h.env[k]; return v, ok },
			Kube:      kube.KubeconfigLoader,
		}, append([]string{"devcluster", "--kubeconfig", kubeconfig}, c.args...)))
		if code != ExitUsage {
			t.Errorf("%q: exit %d, want %d\n%s", c.args, code, ExitUsage, h.stderr.String())
		}
		if !strings.Contains(h.stderr.String(), c.want) {
			t.Errorf("%q: the error does not say %q:\n%s", c.args, c.want, h.stderr.String())
		}
		if n := accepted.Load(); n != 0 {
			t.Errorf("%q: %d connection(s) to the API server before the input was checked", c.args, n)
			accepted.Store(0)
		}
		if _, err := os.Stat(filepath.Join(h.dir, "devcluster-diagnostics")); err == nil {
			t.Errorf("%q: bad input wrote a diagnostics bundle", c.args)
			_ = os.RemoveAll(filepath.Join(h.dir, "devcluster-diagnostics"))
		}
	}
}
