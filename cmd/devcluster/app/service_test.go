package app

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/devcluster/devcluster/loadbalancer"
)

// forwarded is a ClusterIP Service the agent already forwards.
func forwarded() *corev1.Service {
	return &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "apps", UID: "uid-web", Annotations: map[string]string{
		loadbalancer.ForwardAnnotation: "true", loadbalancer.HostURLAnnotation: "http://127.0.0.1:41000,http://127.0.0.1:41002"}},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP, Ports: []corev1.ServicePort{
			{Name: "http", Port: 80}, {Name: "dns", Port: 53, Protocol: corev1.ProtocolUDP}, {Name: "metrics", Port: 9090}}}}
}

// The service command: its arguments, what it prints in each mode, when it
// opens the browser, and its exit codes.
func TestServiceCommand(t *testing.T) {
	h := newHarness(t)
	if code := h.run("service", "web", "-n", "apps"); code != ExitNotRunning {
		t.Fatalf("service before up: exit %d\n%s", code, h.stderr.String())
	}
	if code := h.run("up"); code != 0 {
		t.Fatalf("up: exit %d\n%s", code, h.stderr.String())
	}
	if _, err := h.clientset.CoreV1().Services("apps").Create(context.Background(), forwarded(), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		code int
		out  string
		err  string
	}{
		{[]string{"service"}, ExitUsage, "", "service needs a Service's NAME"},
		{[]string{"service", "web", "db"}, ExitUsage, "", `service takes one argument, got ["web" "db"]`},
		{[]string{"service", "web", "-n", "apps", "--port", "8443"}, ExitUsage, "", "--port 8443: Service apps/web has no such port"},
		{[]string{"service", "web", "-n", "apps", "--stop", "--url"}, ExitUsage, "", "--stop withdraws the whole forward"},
		{[]string{"service", "web", "-n", "apps", "--timeout", "0s"}, ExitUsage, "", "--timeout 0s"},
		{[]string{"service", "nope", "-n", "apps"}, ExitFailed, "", "Service apps/nope not found"},
		{[]string{"service", "web", "-n", "apps", "--url"}, 0, "http://127.0.0.1:41000\nhttp://127.0.0.1:41002\n", ""},
		{[]string{"service", "web", "-n", "apps", "--url", "--port", "metrics"}, 0, "http://127.0.0.1:41002\n", ""},
		{[]string{"service", "--url", "-napps", "web", "--port=80"}, 0, "http://127.0.0.1:41000\n", ""},
		{[]string{"service", "web", "-n", "apps"}, 0, "  dns      53/UDP    not forwarded: port-forwarding carries TCP only\n", ""},
	} {
		code := h.run(tc.args...)
		if code != tc.code || !strings.Contains(h.stdout.String(), tc.out) || !strings.Contains(h.stderr.String(), tc.err) {
			t.Errorf("%v: exit %d, want %d\nstdout %q (want %q)\nstderr %q (want %q)", tc.args, code, tc.code, h.stdout.String(), tc.out, h.stderr.String(), tc.err)
		}
	}
	if len(h.opened) != 0 {
		t.Errorf("opened %v without a terminal", h.opened)
	}

	// On a terminal: the first URL is opened; with --url, -o json or in CI
	// it is only printed.
	h.tty = true
	h.run("service", "web", "-n", "apps")
	h.run("service", "web", "-n", "apps", "--url")
	h.run("service", "web", "-n", "apps", "-o", "json")
	if !slices.Equal(h.opened, []string{"http://127.0.0.1:41000"}) {
		t.Errorf("opened %v, want the first URL once", h.opened)
	}
	var res struct {
		Namespace, Name, Type, Access string
		Requested                     bool
		URLs                          []string
		Ports                         []struct {
			Name, Protocol, URL string
			Port                int32
		}
	}
	if err := json.Unmarshal(h.stdout.Bytes(), &res); err != nil || res.Type != "ClusterIP" || res.Access != "forward" || len(res.URLs) != 2 ||
		len(res.Ports) != 3 || res.Ports[2].URL != "http://127.0.0.1:41002" || res.Ports[1].Protocol != "UDP" {
		t.Errorf("-o json: %v\n%s", err, h.stdout.String())
	}
	h.env["CI"] = "true"
	h.run("service", "web", "-n", "apps")
	h.run("service", "web", "-n", "apps", "--ci", "none")
	if len(h.opened) != 1 {
		t.Errorf("opened in CI: %v", h.opened)
	}
	delete(h.env, "CI")

	if code := h.run("service", "web", "-n", "apps", "--stop"); code != 0 || !strings.Contains(h.stdout.String(), "Forward of Service apps/web withdrawn") {
		t.Fatalf("--stop: exit %d\n%s%s", code, h.stdout.String(), h.stderr.String())
	}
	svc, _ := h.clientset.CoreV1().Services("apps").Get(context.Background(), "web", metav1.GetOptions{})
	if loadbalancer.WantsForward(svc) {
		t.Errorf("--stop left %v", svc.Annotations)
	}
	if code := h.run("service", "web", "-n", "apps", "--stop"); code != 0 || !strings.Contains(h.stdout.String(), "is not forwarded; nothing to withdraw") {
		t.Errorf("second --stop: exit %d\n%s", code, h.stdout.String())
	}
}

// The sign-in token is printed when asked for, or for a person at the
// terminal, and never by itself in CI, with --url or -o json.
func TestDashboardShowsTheTokenOnlyWhereDocumented(t *testing.T) {
	for _, tc := range []struct {
		token, url  bool
		output      string
		interactive bool
		want        bool
	}{
		{false, false, "text", true, true},
		{false, false, "text", false, false},
		{false, true, "text", true, false},
		{false, false, "json", true, false},
		{true, false, "text", false, true},
		{true, true, "text", false, true},
		{true, false, "json", false, true},
		{false, false, "yaml", true, false},
	} {
		if got := showToken(tc.token, tc.url, tc.output, tc.interactive); got != tc.want {
			t.Errorf("--token=%v --url=%v -o %s interactive=%v: %v, want %v", tc.token, tc.url, tc.output, tc.interactive, got, tc.want)
		}
	}
	h := newHarness(t)
	for _, args := range [][]string{{"dashboard", "extra"}, {"dashboard", "--duration", "1m"}, {"dashboard", "-o", "xml"}} {
		if code := h.run(args...); code != ExitUsage && !(args[1] == "--duration" && code == ExitNotRunning) {
			t.Errorf("%v: exit %d\n%s", args, code, h.stderr.String())
		}
	}
}

// Under GitHub Actions the token is masked on standard error before it is
// printed; elsewhere nothing is written for it.
func TestDashboardTokenIsMaskedOnGitHub(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		ci   string
		want string
	}{
		{map[string]string{"GITHUB_ACTIONS": "true", "CI": "true"}, "auto", "::add-mask::tok.en-1\n"},
		{map[string]string{"CI": "true"}, "github", "::add-mask::tok.en-1\n"},
		{map[string]string{"BUILDKITE": "true"}, "auto", ""},
		{map[string]string{}, "auto", ""},
	} {
		var stdout, stderr strings.Builder
		g := &globals{ci: tc.ci, env: Env{Stdout: &stdout, Stderr: &stderr, LookupEnv: func(k string) (string, bool) { v, ok := tc.env[k]; return v, ok }}}
		g.maskToken("tok.en-1")
		if stderr.String() != tc.want || stdout.Len() != 0 {
			t.Errorf("%v --ci %s: stderr %q stdout %q, want stderr %q", tc.env, tc.ci, stderr.String(), stdout.String(), tc.want)
		}
	}
}
