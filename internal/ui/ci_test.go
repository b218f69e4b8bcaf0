package ui

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"time"
)

// run drives a Printer through a passing step, a warning, a failing step
// and the error block, as `up` does when its second step fails.
func run(ci CI) string {
	var b bytes.Buffer
	t0 := time.Unix(1700000000, 0)
	now := t0
	p := NewPrinter(&b, Options{CI: ci, Style: Style{Spinner: true}, Now: func() time.Time { now = now.Add(500 * time.Millisecond); return now }})
	p.Start("Checking minikube")
	p.End(true, "v1.38.1")
	p.Start("Waiting for rollouts")
	p.Progress("Deployment apps/web: 1 of 2 updated")
	p.Warn("LoadBalancer IPs are not reachable: 100%, really")
	p.End(false, "")
	p.ErrorBlock("waiting for workloads: pod web-1: ImagePullBackOff\nsecond line", "", "push the image: registry, tag")
	return b.String()
}

func TestCIMarkersBuildkite(t *testing.T) {
	t.Parallel()
	want := "--- Checking minikube\n" +
		" • Checking minikube ...\n" +
		" ✓ Checking minikube: v1.38.1 (0.5s)\n" +
		"--- Waiting for rollouts\n" +
		" • Waiting for rollouts ...\n" +
		"   Deployment apps/web: 1 of 2 updated (+0.5s)\n" +
		" ! LoadBalancer IPs are not reachable: 100%, really\n" +
		" ✗ Waiting for rollouts (1.0s)\n" +
		"^^^ +++\n" +
		"+++ :x: waiting for workloads: pod web-1: ImagePullBackOff\n" +
		"✗ Error: waiting for workloads: pod web-1: ImagePullBackOff\n  second line\n" +
		"  To fix: push the image: registry, tag\n"
	if got := run(Buildkite); got != want {
		t.Errorf("Buildkite output:\n%s\nwant:\n%s", got, want)
	}
	if strings.ContainsAny(run(Buildkite), "\r\x1b") {
		t.Error("cursor control or colour codes in a Buildkite log")
	}
}

func TestCIMarkersGitHub(t *testing.T) {
	t.Parallel()
	want := "::group::Checking minikube\n" +
		" • Checking minikube ...\n" +
		" ✓ Checking minikube: v1.38.1 (0.5s)\n" +
		"::endgroup::\n" +
		"::group::Waiting for rollouts\n" +
		" • Waiting for rollouts ...\n" +
		"   Deployment apps/web: 1 of 2 updated (+0.5s)\n" +
		"::warning::LoadBalancer IPs are not reachable: 100%25, really\n" +
		" ✗ Waiting for rollouts (1.0s)\n" +
		"::endgroup::\n" +
		"::error title=devcluster%3A waiting for workloads%3A pod web-1%3A ImagePullBackOff::waiting for workloads: pod web-1: ImagePullBackOff%0Asecond line%0ATo fix: push the image: registry, tag\n" +
		"::stop-commands::TOKEN\n" +
		"✗ Error: waiting for workloads: pod web-1: ImagePullBackOff\n  second line\n" +
		"  To fix: push the image: registry, tag\n" +
		"::TOKEN::\n"
	// The error block is one stop-commands block, its token random.
	got := run(GitHub)
	if m := regexp.MustCompile(`::stop-commands::([0-9a-f]{32})\n`).FindStringSubmatch(got); m != nil {
		got = strings.ReplaceAll(got, m[1], "TOKEN")
	}
	if got != want {
		t.Errorf("GitHub output:\n%s\nwant:\n%s", got, want)
	}
}

func TestCIMarkersGitLab(t *testing.T) {
	t.Parallel()
	got := run(GitLab)
	want := "\x1b[0Ksection_start:1700000000:devcluster_1_checking_minikube[collapsed=true]\r\x1b[0KChecking minikube\n" +
		" • Checking minikube ...\n" +
		" ✓ Checking minikube: v1.38.1 (0.5s)\n" +
		"\x1b[0Ksection_end:1700000001:devcluster_1_checking_minikube\r\x1b[0K\n" +
		"\x1b[0Ksection_start:1700000002:devcluster_2_waiting_for_rollouts\r\x1b[0KWaiting for rollouts\n" +
		" • Waiting for rollouts ...\n" +
		"   Deployment apps/web: 1 of 2 updated (+0.5s)\n" +
		" ! LoadBalancer IPs are not reachable: 100%, really\n" +
		" ✗ Waiting for rollouts (1.0s)\n" +
		"\x1b[0Ksection_end:1700000003:devcluster_2_waiting_for_rollouts\r\x1b[0K\n" +
		"✗ Error: waiting for workloads: pod web-1: ImagePullBackOff\n  second line\n" +
		"  To fix: push the image: registry, tag\n"
	if got != want {
		t.Errorf("GitLab output:\n%q\nwant:\n%q", got, want)
	}
}

func TestNoCIIsUnchanged(t *testing.T) {
	t.Parallel()
	out := run(GenericCI)
	for _, marker := range []string{"---", "::", "section_", "^^^"} {
		if strings.Contains(out, marker) {
			t.Errorf("generic CI output has %q:\n%s", marker, out)
		}
	}
}

func TestGitHubWarningsAreCapped(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	p := NewPrinter(&b, Options{CI: GitHub})
	for i := 0; i < 12; i++ {
		p.Warn("w")
	}
	if n := strings.Count(b.String(), "::warning::"); n != 10 {
		t.Errorf("%d warning annotations, want 10 (GitHub's limit per step)", n)
	}
	if n := strings.Count(b.String(), " ! w"); n != 2 {
		t.Errorf("%d plain warnings after the limit, want 2", n)
	}
}

func TestDetectCI(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		env    map[string]string
		choice string
		want   CI
	}{
		{map[string]string{"BUILDKITE": "true", "CI": "true"}, "", Buildkite},
		{map[string]string{"GITHUB_ACTIONS": "true", "CI": "true"}, "auto", GitHub},
		{map[string]string{"GITLAB_CI": "true", "CI": "true"}, "", GitLab},
		{map[string]string{"CI": "true"}, "", GenericCI},
		{map[string]string{"BUILD_NUMBER": "12"}, "", GenericCI},
		{map[string]string{}, "", NoCI},
		{map[string]string{"BUILDKITE": "true"}, "none", NoCI},
		{map[string]string{}, "github", GitHub},
		{map[string]string{"DEVCLUSTER_CI": "gitlab"}, "", GitLab},
		{map[string]string{"DEVCLUSTER_CI": "gitlab"}, "buildkite", Buildkite},
	} {
		got, err := DetectCI(envOf(tc.env), tc.choice)
		if err != nil || got != tc.want {
			t.Errorf("DetectCI(%v, %q) = %v, %v; want %v", tc.env, tc.choice, got, err, tc.want)
		}
	}
	if _, err := DetectCI(envOf(nil), "jenkins"); err == nil {
		t.Error("an unknown CI system was accepted")
	}
}
