//go:build e2e

package e2e

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// BenchmarkConvergedUp measures `devcluster up` on a cluster that already
// matches its configuration, side by side with the minikube calls it cannot
// avoid (status, and the ssh that reads hosts.toml) as the reference floor.
// The agent (registry and LoadBalancer controller) is on, as by default; the
// samples are off. Goals, checked: at most 2 minikube processes per up, and
// at most 1 s of devcluster's own time on top of minikube's answers.
func BenchmarkConvergedUp(b *testing.B) {
	u := newUser(b)
	port := freePort(b)
	if r := u.devcluster("-q", "up", "--name", "e2e-bench", "--registry-port", port); r.code != 0 {
		b.Fatalf("initial up: exit %d", r.code)
	}
	b.Cleanup(func() { u.devcluster("-q", "down", "--name", "e2e-bench") })

	timeIt := func(bin string, args ...string) time.Duration {
		cmd := exec.Command(bin, args...)
		cmd.Env, cmd.Dir = u.env, u.home
		start := time.Now()
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("%s %v: %v\n%s", bin, args, err, out)
		}
		return time.Since(start)
	}
	var up, floor time.Duration
	maxCalls := 0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		u.resetCalls()
		up += timeIt(filepath.Join(binDir, "devcluster"), "-q", "up", "--name", "e2e-bench", "--registry-port", port)
		if n := len(strings.Split(strings.TrimSpace(u.calls()), "\n")); n > maxCalls {
			maxCalls = n
		}
		floor += timeIt(filepath.Join(binDir, "minikube"), "status", "-p", "e2e-bench", "-o", "json")
		floor += timeIt(filepath.Join(binDir, "minikube"), "ssh", "-p", "e2e-bench", "--",
			"sudo cat /etc/containerd/certs.d/192.168.49.1:"+port+"/hosts.toml /etc/containerd/certs.d/localhost:"+port+"/hosts.toml")
	}
	b.StopTimer()
	n := float64(b.N)
	if maxCalls > 2 {
		b.Errorf("a converged up ran minikube %d times, goal at most 2:\n%s", maxCalls, u.calls())
	}
	if over := (up - floor) / time.Duration(b.N); over > time.Second {
		b.Errorf("devcluster's own time per converged up is %s, goal at most 1 s", over)
	}
	b.ReportMetric(float64(maxCalls), "minikube-calls/op")
	b.ReportMetric(float64(up.Milliseconds())/n, "up-ms/op")
	b.ReportMetric(float64(floor.Milliseconds())/n, "minikube-floor-ms/op")
	b.ReportMetric(float64(up-floor)/float64(time.Millisecond)/n, "overhead-ms/op")
	b.ReportMetric(float64(up)/float64(floor), "up/floor")
}
