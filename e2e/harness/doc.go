//go:build linux

// Package harness runs the real parts the end-to-end tiers test devcluster
// against: etcd, kube-apiserver, kube-controller-manager and kube-scheduler
// built from pinned Go modules (the e2e/tools module), kwok simulating
// nodes so workloads really roll out, the minikube stand-in pointing
// kubeconfig contexts at that control plane, and a Docker Engine of the
// test's own (Debian's docker.io, every path under the test's directory)
// for the docker stand-in's contract and Docker as a registry client.
//
// Binaries are built on first use and cached under the user cache dir keyed
// by the tools module's go.sum, so later runs start in seconds. Every
// process runs in its own process group with a parent-death signal, logs to
// its own file, and is stopped by PID (TERM, then KILL) when the harness
// stops — also when a test fails, panics or times out.
package harness
