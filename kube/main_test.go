package kube

import (
	"os"
	"testing"
)

// TestMain turns off client-go's streaming lists (WatchListClient) for the
// fake clientset, whose tracker sends no initial-events bookmark; against a
// real API server (the e2e tiers) they stay on.
func TestMain(m *testing.M) {
	_ = os.Setenv("KUBE_FEATURE_WatchListClient", "false")
	os.Exit(m.Run())
}
