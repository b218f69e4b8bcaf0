package kube

import (
	"context"
	"errors"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// ClusterWait configures WaitForCluster.
type ClusterWait struct {
	// Timeout bounds the whole wait.
	Timeout time.Duration
	// Interval between checks; default 250ms. The first check is immediate,
	// so a ready cluster costs one round of requests.
	Interval time.Duration
	// Progress receives a line whenever the reason for waiting changes.
	Progress func(string)
}

// ErrTimeout is wrapped by the error WaitForCluster returns on timeout.
var ErrTimeout = errors.New("timed out")

// WaitForCluster waits until the API server answers /readyz, every node is
// Ready and every kube-system pod is running. It returns a one-line summary
// such as "1 nodes Ready, 7 pods running".
func WaitForCluster(ctx context.Context, k kubernetes.Interface, w ClusterWait) (string, error) {
	if w.Interval <= 0 {
		w.Interval = 250 * time.Millisecond
	}
	ctx, cancel := context.WithTimeout(ctx, w.Timeout)
	defer cancel()
	last := ""
	for {
		ok, msg := CheckCluster(ctx, k)
		if ok {
			return msg, nil
		}
		if msg != last && w.Progress != nil {
			w.Progress(msg)
		}
		last = msg
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return "", fmt.Errorf("%w after %s: %s", ErrTimeout, w.Timeout, msg)
			}
			return "", ctx.Err()
		case <-time.After(w.Interval):
		}
	}
}

// CheckCluster checks once whether the API server is ready, every node is
// Ready and every kube-system pod runs; the message says what holds it up.
func CheckCluster(ctx context.Context, k kubernetes.Interface) (bool, string) {
	if rc := k.Discovery().RESTClient(); rc != nil {
		_, err := rc.Get().AbsPath("/readyz").DoRaw(ctx)
		if err != nil {
			return false, "API server not ready: " + shortErr(err)
		}
	}
	nodes, err := k.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return false, "listing nodes: " + err.Error()
	}
	ok, nodeMsg := NodesReady(nodes.Items)
	if !ok {
		return false, nodeMsg
	}
	pods, err := k.CoreV1().Pods("kube-system").List(ctx, metav1.ListOptions{})
	if err != nil {
		return false, "listing kube-system pods: " + err.Error()
	}
	ok, podMsg := PodsRunning(pods.Items)
	if !ok {
		return false, "kube-system: " + podMsg
	}
	return true, nodeMsg + ", kube-system " + podMsg
}

func shortErr(err error) string {
	s := err.Error()
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}
