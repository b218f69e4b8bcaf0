package kube

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// A server that accepts the connection and never answers: ServerVersion
// returns after its bound instead of waiting for good.
func TestServerVersionIsBounded(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	done := make(chan struct{})
	defer close(done)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { <-done; c.Close() }()
		}
	}()
	k, err := kubernetes.NewForConfig(&rest.Config{Host: "http://" + ln.Addr().String()})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = ServerVersion(context.Background(), k, 300*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "did not answer /version within 300ms") {
		t.Fatalf("err = %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("returned after %s", d)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ServerVersion(ctx, k, time.Minute); err != context.Canceled {
		t.Errorf("cancelled: err = %v", err)
	}
}
