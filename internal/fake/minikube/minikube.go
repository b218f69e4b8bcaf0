// Package minikube is a fake of the minikube command, for tests only (the
// "stand-in"). It
// implements minikube's command-line contract — flags, validation order,
// exit codes, JSON shapes and warnings, the profile files under
// MINIKUBE_HOME and the kubeconfig entries — without any VM or container.
// Instead of booting a node it points the profile's kubeconfig context at an
// API server given by the test (a real control plane in the end-to-end
// tiers) and registers a Node object for the profile.
//
// The contract tier (e2e/contract) runs the same command lines against real
// minikube v1.38.1 and this stand-in and fails on any difference devcluster
// could notice. Faithfulness matters more than completeness: the commands devcluster uses
// (version, start, status, ip, profile list, stop, pause, unpause, delete,
// update-context, ssh, cp, kubectl) behave as minikube v1.38.1 does, including
// the quirks devcluster must cope with: changed --cpus/--memory on an
// existing profile only warn, a changed --insecure-registry is silently
// ignored, `status` encodes state in exit-code bits and exits 85 for a
// missing profile.
//
// Test controls (environment variables, none of them minikube's):
//
//	STANDIN_APISERVER     https URL of the API server contexts point at
//	STANDIN_TOKEN         bearer token written into the kubeconfig user
//	STANDIN_CA_FILE       CA bundle of the API server (else TLS is not verified)
//	STANDIN_NODE_IP       node IP reported by `ip` and saved in the profile (192.168.49.2)
//	STANDIN_NO_DOCKER     when set, the docker driver is "not found" (exit 65)
//	STANDIN_FAIL_START    a reason ID (e.g. GUEST_PROVISION): `start` saves the profile, then
//	                      fails to create the machine with that reason (exit 80)
//	STANDIN_CALL_LOG      a file to which every invocation's arguments are appended (JSON)
//	STANDIN_SSH_EXEC      a command prefix that runs `ssh` and `cp` for real (e.g. nsenter ...);
//	                      without it they act on a per-node directory (see nodefs.go)
//	STANDIN_HOST_CPUS     CPUs of the simulated host (8), STANDIN_HOST_MEMORY_MB (16384)
//	STANDIN_EUID          the effective user ID minikube sees; 0 makes the docker and podman
//	                      drivers refuse to run (DRV_AS_ROOT, exit 57) unless --force
//	STANDIN_DOCKER_DOWN   docker is installed but its daemon is down (exit 63, or 55 when auto-selected)
//	STANDIN_INSTALLED_DRIVERS  comma-separated drivers present on the host; another driver is
//	                      refused with PROVIDER_<DRIVER>_NOT_FOUND (exit 65)
//	STANDIN_ONLINE        set: a Kubernetes version newer than the newest known one is
//	                      found online; unset: its lookup fails as with no network at all
//	                      (K8S_FAIL_CONNECT, exit 40), or with STANDIN_DNS=nxdomain as with a
//	                      resolver that answers "no such host" (INET_LOOKUP_HOST, exit 48)
package minikube

import (
	"context"
	"io"
)

// Version is the minikube release the stand-in mimics.
const Version = "v1.38.1"

// Commit is the commit of that release.
const Commit = "c93a4cb9311efc66b90d33ea03f75f2c4120e9b0"

// NewestKubernetesVersion is the newest version minikube v1.38.1 knows
// without looking it up online.
const NewestKubernetesVersion = "v1.35.1"

// DefaultKubernetesVersion is minikube v1.38.1's default.
const DefaultKubernetesVersion = "v1.35.1"

// Env is the stand-in's process environment.
type Env struct {
	Args      []string // without the program name
	Stdout    io.Writer
	Stderr    io.Writer
	Stdin     io.Reader
	LookupEnv func(string) (string, bool)
}

func (e Env) get(k string) string {
	v, _ := e.LookupEnv(k)
	return v
}

// Exit codes (pkg/minikube/reason/exitcodes.go).
const (
	exFailure               = 1
	exProgramError          = 10
	exProgramUsage          = 14
	exInsufficientMemory    = 23
	exInternetConfig        = 48
	exInternetError         = 40
	exDriverNotFound        = 55
	exDriverPermission      = 57
	exProviderNotRunning    = 63
	exHostError             = 30
	exHostNotFound          = 35
	exInsufficientCores     = 29
	exDriverUnsupported     = 56
	exProviderNotFound      = 65
	exGuestError            = 80
	exGuestConflict         = 81
	exGuestNotRunning       = 83
	exGuestNotFound         = 85
	exControlPlaneUnsupport = 106
)

// Main runs one stand-in command and returns its exit code.
func Main(ctx context.Context, env Env) int {
	s := &invocation{ctx: ctx, env: env}
	return s.main()
}
