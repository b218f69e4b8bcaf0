//go:build e2e

package e2e

import (
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkConvergedUp measures `devcluster up` on a cluster that already
// matches its configuration, side by side with the minikube calls it cannot
// avoid (profile list + status) as the reference floor. The agent (registry
// and LoadBalancer controller) is on, as by default; the samples are off. The goal is ≤ 1 s
// plus minikube's own answer time; the overhead ratio is reported.
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
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		up += timeIt(filepath.Join(binDir, "devcluster"), "-q", "up", "--name", "e2e-bench", "--registry-port", port)
		floor += timeIt(filepath.Join(binDir, "minikube"), "profile", "list", "-o", "json", "-l")
		floor += timeIt(filepath.Join(binDir, "minikube"), "status", "-p", "e2e-bench", "-o", "json")
	}
	b.StopTimer()
	n := float64(b.N)
	b.ReportMetric(float64(up.Milliseconds())/n, "up-ms/op")
	b.ReportMetric(float64(floor.Milliseconds())/n, "minikube-floor-ms/op")
	b.ReportMetric(float64(up-floor)/float64(time.Millisecond)/n, "overhead-ms/op")
	b.ReportMetric(float64(up)/float64(floor), "up/floor")
}
