//go:build e2e

package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	ggcrempty "github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/random"

	"github.com/devcluster/devcluster/e2e/harness"
	"github.com/devcluster/devcluster/internal/testutil"
)

// freePort returns a free TCP port on loopback, as a string for flags.
func freePort(t testing.TB) string {
	t.Helper()
	return strconv.Itoa(testutil.Port(t))
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// verifyDigest reads rc to the end and checks its sha256.
func verifyDigest(rc io.ReadCloser, want v1.Hash) error {
	defer rc.Close()
	h := sha256.New()
	if _, err := io.Copy(h, rc); err != nil {
		return err
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != want.Hex {
		return fmt.Errorf("content hashes to sha256:%s", got)
	}
	return nil
}

// missing ends a test whose real parts are absent: a skip on a developer's
// machine, a failure under CI (CI=true), so a green CI run never silently
// drops a path.
func missing(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("CI=true and a real part is missing: "+format, args...)
	}
	t.Skipf(format, args...)
}

// appManifest is namespace ns and a Deployment app in it.
func appManifest(ns string) string {
	return fmt.Sprintf(`apiVersion: v1
kind: Namespace
metadata: {name: %[1]s}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: app, namespace: %[1]s}
spec:
  replicas: 1
  selector: {matchLabels: {app: app}}
  template:
    metadata: {labels: {app: app}}
    spec:
      containers: [{name: app, image: example.com/app:v1}]
`, ns)
}

// failingDeployment is a one-replica Deployment whose pod kwok holds in the
// waiting reason given (ImagePullBackOff, CrashLoopBackOff, ...).
func failingDeployment(namespace, name, container, image, reason string) string {
	return fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata: {name: %[2]s, namespace: %[1]s}
spec:
  replicas: 1
  selector: {matchLabels: {app: %[2]s}}
  template:
    metadata: {labels: {app: %[2]s, %[6]s: %[5]s}}
    spec:
      containers: [{name: %[3]s, image: %[4]s}]
`, namespace, name, container, image, reason, harness.FailureLabel)
}

// baseLayout writes a sample base image into an OCI layout under dir (kwok
// runs no containers: content does not matter, only that it is built,
// pushed and referenced) and returns the layout's path and the image.
func baseLayout(t *testing.T, dir string) (string, v1.Image) {
	t.Helper()
	path := filepath.Join(dir, "base-layout")
	lp, err := layout.Write(path, ggcrempty.Index)
	if err != nil {
		t.Fatal(err)
	}
	base, err := random.Image(64<<10, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := lp.AppendImage(base); err != nil {
		t.Fatal(err)
	}
	return path, base
}

func atoi(t testing.TB, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
