//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/devcluster/devcluster/e2e/harness"
)

// BenchmarkDeploy runs the deploy step of a rolling update — a new
// nginx.conf and a new image, then the wait — with `devcluster deploy` and,
// side by side on the same control plane, with the kubectl sequence CI jobs
// use (create configmap | apply, set image, rollout status), alternating
// which goes first, then the same deploy again (unchanged). Both wait for
// the same rollout, so the goals are those of a step that waits as kubectl
// does, checked on the medians: a rolling deploy at most 1.0× the kubectl
// sequence's wall time, an unchanged deploy at most 0.5× of it, devcluster's
// CPU time at most 0.2× the kubectl sequence's, and an image that cannot be
// pulled reported within 2 s (kubectl only sees the progress deadline, here
// lowered to 15 s).
func BenchmarkDeploy(b *testing.B) {
	ctx := context.Background()
	kubectl, err := harness.EnsureKubectl(ctx, func(f string, a ...any) { b.Logf(f, a...) })
	if err != nil {
		b.Fatal(err)
	}
	u := newUser(b)
	admin, ns := deployTarget(b, u, "e2e-dbench", "dbench")
	for _, name := range []string{"web-kubectl", "web-devcluster", "broken-kubectl", "broken-devcluster"} {
		replicas, deadline := int32(2), int32(15)
		d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
			Spec: appsv1.DeploymentSpec{Replicas: &replicas, ProgressDeadlineSeconds: &deadline,
				Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}},
				Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": name}},
					Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "nginx", Image: "example.com/web:v0",
						VolumeMounts: []corev1.VolumeMount{{Name: "conf", MountPath: "/etc/nginx/conf.d"}}}},
						Volumes: []corev1.Volume{{Name: "conf", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
							LocalObjectReference: corev1.LocalObjectReference{Name: name + "-config"}, Optional: boolPtr(true)}}}}}}}}
		if _, err := admin.AppsV1().Deployments(ns).Create(ctx, d, metav1.CreateOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	conf := filepath.Join(u.home, "nginx.conf")
	// run returns the wall time and the CPU time (user + system of the
	// process and the children it waited for: the shell's kubectl
	// processes are counted).
	var cpu time.Duration
	run := func(name string, args ...string) time.Duration {
		cmd := exec.Command(name, args...)
		cmd.Env, cmd.Dir = append(u.env, "KUBECONFIG="+cp.Kubeconfig), u.home
		start := time.Now()
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("%s %v: %v\n%s", name, args, err, out)
		}
		cpu = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
		return time.Since(start)
	}
	viaKubectl := func(i int) time.Duration {
		return run("sh", "-c", fmt.Sprintf(`set -e
%[1]s -n %[2]s create configmap web-kubectl-config --from-file %[3]s -o yaml --dry-run=client | %[1]s -n %[2]s apply -f - >/dev/null
%[1]s -n %[2]s set image deployment/web-kubectl nginx=example.com/web:k%[4]d >/dev/null
%[1]s -n %[2]s rollout status deployment/web-kubectl >/dev/null`, kubectl, ns, conf, i))
	}
	viaDevcluster := func(i int) time.Duration {
		return run(filepath.Join(binDir, "devcluster"), "-q", "--kubeconfig", cp.Kubeconfig, "deploy", "deployment/web-devcluster", "-n", ns,
			"--configmap", "web-devcluster-config="+conf, "--image", fmt.Sprintf("nginx=example.com/web:d%d", i))
	}
	var kt, dt, kc, dc, ut []time.Duration
	kubectlRun := func(i int) {
		kt = append(kt, viaKubectl(i))
		kc = append(kc, cpu)
	}
	devclusterRun := func(i int) {
		dt = append(dt, viaDevcluster(i))
		dc = append(dc, cpu)
		ut = append(ut, viaDevcluster(i)) // the same deploy again: unchanged
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := os.WriteFile(conf, []byte(fmt.Sprintf("server { listen 80; add_header X-Build %d; }\n", i)), 0o600); err != nil {
			b.Fatal(err)
		}
		if i%2 == 0 {
			kubectlRun(i)
			devclusterRun(i)
		} else {
			devclusterRun(i)
			kubectlRun(i)
		}
	}
	b.StopTimer()
	km, dm, um := medianOf(kt), medianOf(dt), medianOf(ut)
	ratio, unchanged := float64(dm)/float64(km), float64(um)/float64(km)
	kcm, dcm := medianOf(kc), medianOf(dc)
	cpuRatio := float64(dcm) / float64(kcm)
	b.ReportMetric(float64(km.Milliseconds()), "kubectl-ms")
	b.ReportMetric(float64(dm.Milliseconds()), "devcluster-ms")
	b.ReportMetric(float64(um.Milliseconds()), "unchanged-ms")
	b.ReportMetric(ratio, "devcluster/kubectl")
	b.ReportMetric(unchanged, "unchanged/kubectl")
	b.ReportMetric(float64(kcm.Milliseconds()), "kubectl-cpu-ms")
	b.ReportMetric(float64(dcm.Milliseconds()), "devcluster-cpu-ms")
	b.ReportMetric(cpuRatio, "cpu-devcluster/kubectl")
	b.Logf("wall: devcluster %s, kubectl %s (first runs: %s, %s), unchanged %s; CPU: devcluster %s, kubectl %s (%.2f×)",
		dm.Round(time.Millisecond), km.Round(time.Millisecond), dt[0].Round(time.Millisecond), kt[0].Round(time.Millisecond),
		um.Round(time.Millisecond), dcm.Round(time.Millisecond), kcm.Round(time.Millisecond), cpuRatio)
	var missed []string
	if ratio > 1.0 {
		missed = append(missed, fmt.Sprintf("a rolling deploy takes %.2f× the kubectl sequence's wall time (median %s vs %s), goal ≤ 1.0×", ratio, dm, km))
	}
	if unchanged > 0.5 {
		missed = append(missed, fmt.Sprintf("an unchanged deploy takes %.2f× the kubectl sequence's wall time (median %s vs %s), goal ≤ 0.5×", unchanged, um, km))
	}
	if cpuRatio > 0.2 {
		missed = append(missed, fmt.Sprintf("a rolling deploy takes %.2f× the kubectl sequence's CPU time (median %s vs %s), goal ≤ 0.2×", cpuRatio, dcm, kcm))
	}

	// An image that cannot be pulled: devcluster reports the pod and the
	// reason; kubectl's rollout status waits for the progress deadline.
	start := time.Now()
	cmd := exec.Command(filepath.Join(binDir, "devcluster"), "-q", "--kubeconfig", cp.Kubeconfig, "deploy", "deployment/broken-devcluster", "-n", ns,
		"--image", "nginx="+harness.MissingImage)
	cmd.Env, cmd.Dir = u.env, u.home
	if err := cmd.Run(); err == nil {
		b.Fatal("devcluster deploy of a missing image succeeded")
	}
	dBroken := time.Since(start)
	start = time.Now()
	cmd = exec.Command("sh", "-c", fmt.Sprintf("%[1]s -n %[2]s set image deployment/broken-kubectl nginx=%[3]s >/dev/null && %[1]s -n %[2]s rollout status deployment/broken-kubectl",
		kubectl, ns, harness.MissingImage))
	cmd.Env = append(u.env, "KUBECONFIG="+cp.Kubeconfig)
	if err := cmd.Run(); err == nil {
		b.Fatal("kubectl rollout status of a missing image succeeded")
	}
	kBroken := time.Since(start)
	b.ReportMetric(dBroken.Seconds(), "devcluster-broken-s")
	b.ReportMetric(kBroken.Seconds(), "kubectl-broken-s")
	b.Logf("deploy median %s vs kubectl %s (%.2f×); a missing image reported after %s vs %s (progress deadline 15 s; 600 s by default)",
		dm.Round(time.Millisecond), km.Round(time.Millisecond), ratio, dBroken.Round(time.Millisecond), kBroken.Round(time.Millisecond))
	if dBroken > 2*time.Second {
		missed = append(missed, fmt.Sprintf("an image that cannot be pulled was reported after %s, goal ≤ 2 s", dBroken.Round(time.Millisecond)))
	}
	for _, m := range missed {
		b.Error(m)
	}
}

func medianOf(ds []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

func boolPtr(b bool) *bool { return &b }
