package minikube

import (
	"errors"
	"fmt"
	"strings"

	"github.com/devcluster/devcluster/internal/problem"
	"github.com/devcluster/devcluster/internal/run"
	"github.com/devcluster/devcluster/provider"
)

// Exit codes of minikube that devcluster branches on
// (pkg/minikube/reason/exitcodes.go).
const (
	exitUsage                 = 14  // ExProgramUsage
	exitInsufficientMemory    = 23  // ExInsufficientMemory (RSRC_INSUFFICIENT_REQ_MEMORY)
	exitInsufficientCores     = 29  // ExInsufficientCores (RSRC_INSUFFICIENT_CORES)
	exitDriverNotFound        = 55  // ExDriverNotFound (DRV_NOT_DETECTED, DRV_DOCKER_NOT_RUNNING)
	exitDriverUnsupported     = 56  // ExDriverUnsupported (DRV_UNSUPPORTED_OS, unknown driver)
	exitDriverPermission      = 57  // ExDriverPermission (DRV_AS_ROOT)
	exitProviderNotRunning    = 63  // ExProviderNotRunning (PROVIDER_DOCKER_NOT_RUNNING)
	exitProviderNotFound      = 65  // ExProviderNotFound (PROVIDER_*_NOT_FOUND)
	exitProviderUnavailable   = 69  // ExProviderUnavailable
	exitGuestError            = 80  // ExGuestError (GUEST_STATUS, GUEST_PROVISION, ...)
	exitGuestNotRunning       = 83  // ExGuestNotRunning
	exitGuestNotFound         = 85  // ExGuestNotFound
	exitControlPlaneUnsupport = 106 // ExControlPlaneUnsupported (K8S_DOWNGRADE_UNSUPPORTED, versions)
)

// startError turns a failed `minikube start -o json` into a problem that
// carries minikube's own reason, message and advice.
func startError(what, name string, res run.Result, err error) error {
	if run.IsNotFound(err) {
		return problem.New(problem.Missing, what, err, InstallHint)
	}
	// A failed start emits several error events: unnamed ones for retries
	// ("StartHost failed, but will try again"), the named one that is the
	// reason, and an unnamed issue link. The named one counts.
	var reason, msg, advice string
	for _, line := range run.Lines(res.Stdout) {
		if ev, ok := parseEvent(line); ok && ev.Type == eventError && ev.Data["name"] != "" {
			reason, msg, advice = ev.Data["name"], ev.Data["message"], ev.Data["advice"]
		}
	}
	if reason == "" {
		for _, line := range run.Lines(res.Stderr) {
			if i := strings.Index(line, "Exiting due to "); i >= 0 {
				reason, msg, _ = strings.Cut(line[i+len("Exiting due to "):], ": ")
			}
		}
	}
	kind := problem.Failed
	switch run.ExitCode(err) {
	case exitUsage, exitInsufficientMemory, exitInsufficientCores, exitDriverUnsupported, exitControlPlaneUnsupport:
		kind = problem.Config
	case exitDriverNotFound, exitProviderNotRunning, exitProviderNotFound, exitProviderUnavailable, exitDriverPermission:
		kind = problem.Missing
	}
	// Causes with a fix of devcluster's own.
	switch reason {
	case "DRV_AS_ROOT":
		return problem.New(problem.Missing, fmt.Sprintf("minikube refuses to run the %s driver as root", driverIn(msg)), fmt.Errorf("DRV_AS_ROOT: %s (%w)", strings.TrimSpace(msg), err),
			"run devcluster as a non-root user in the docker group, or — knowing that minikube then runs as root — pass --start-arg=--force")
	case "PROVIDER_DOCKER_NOT_RUNNING", "DRV_DOCKER_NOT_RUNNING":
		return provider.Docker.NotRunning(fmt.Errorf("%s: %s (%w)", reason, strings.TrimSpace(msg), err))
	case "K8S_FAIL_CONNECT", "INET_LOOKUP_HOST":
		// Both name any failed lookup; only the version check's is
		// devcluster's configuration to mend.
		if !strings.Contains(msg, "Kubernetes version") {
			break
		}
		return problem.New(problem.Config, what, fmt.Errorf("minikube does not know this Kubernetes version and could not look it up online (%s): %s (%w)", reason, strings.TrimSpace(msg), err),
			"use a Kubernetes version this minikube knows (`minikube config defaults kubernetes-version`), or connect to the internet (check HTTP_PROXY and HTTPS_PROXY)")
	}
	// Show minikube's CloudEvents as the lines it would have printed.
	var re *run.Error
	if errors.As(err, &re) {
		human := *re
		human.Stdout = []byte(humanize(res.Stdout))
		err = &human
	}
	if reason != "" {
		cause := fmt.Errorf("minikube failed with %s: %s (%w)", reason, strings.TrimSpace(msg), err)
		if advice == "" {
			advice = "see the minikube output above; `minikube logs -p " + name + "` has more"
		}
		return problem.New(kind, what, cause, strings.TrimSpace(advice))
	}
	return problem.New(kind, what, err, "see the minikube output above; `minikube logs -p "+name+"` has more")
}

// machineGone recognises GUEST_STATUS: minikube has the profile but its
// machine (container or VM) no longer exists.
func machineGone(err error) bool {
	var re *run.Error
	return errors.As(err, &re) && re.ExitCode == exitGuestError && strings.Contains(re.Output(), "GUEST_STATUS")
}

// orGone is fix, or the advice for a machine that is gone.
func orGone(err error, fix string) string {
	if machineGone(err) {
		return goneFix
	}
	return fix
}

// goneFix is the advice for a cluster whose machine is gone.
const goneFix = "the cluster's machine is gone (deleted outside minikube): run `devcluster up --recreate`"

// driverIn picks the driver's name out of minikube's DRV_AS_ROOT message.
func driverIn(msg string) string {
	if _, rest, ok := strings.Cut(msg, `"`); ok {
		if d, _, ok := strings.Cut(rest, `"`); ok {
			return d
		}
	}
	return "container"
}

// humanize renders `-o json` CloudEvent lines as minikube's own text
// prefixes ("* ", "! ", "X "); other lines are kept.
func humanize(out []byte) string {
	var b strings.Builder
	for _, line := range run.Lines(out) {
		ev, ok := parseEvent(line)
		switch {
		case !ok:
			b.WriteString(line)
		case ev.Type == eventError && ev.Data["name"] == "":
			b.WriteString("X " + ev.Data["message"])
		case ev.Type == eventError:
			b.WriteString("X Exiting due to " + ev.Data["name"] + ": " + ev.Data["message"])
			if a := ev.Data["advice"]; a != "" {
				b.WriteString("\n* Suggestion: " + a)
			}
		case ev.Type == eventWarning:
			b.WriteString("! " + ev.Data["message"])
		default:
			b.WriteString("* " + ev.Data["message"])
		}
		b.WriteByte('\n')
	}
	return b.String()
}
