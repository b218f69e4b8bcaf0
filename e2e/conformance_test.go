//go:build e2e

package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/devcluster/devcluster/e2e/harness"
)

// TestOCIConformance runs the OCI distribution-spec conformance suite
// (pull, push, content discovery, content management) against `devcluster
// registry serve`. sha512 digests and the referrers API are out of scope
// and disabled; everything else must pass.
func TestOCIConformance(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	suite, err := harness.EnsureConformance(ctx)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	addr := serveRegistry(t)

	cmd := exec.CommandContext(ctx, suite)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"OCI_REGISTRY="+addr, "OCI_TLS=disabled", "OCI_RESULTS_DIR="+filepath.Join(dir, "results"),
		"OCI_DATA_SHA512=false", "OCI_API_REFERRER=false", "OCI_LOG=warn")
	out, err := cmd.CombinedOutput()
	counts := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^\s+(Pass|FAIL|Error|Total)\.+:\s+(\d+)$`).FindAllSubmatch(out, -1) {
		counts[string(m[1])] = string(m[2])
	}
	t.Logf("OCI conformance: %s pass, %s fail, %s error of %s", counts["Pass"], counts["FAIL"], counts["Error"], counts["Total"])
	if err != nil || counts["FAIL"] != "0" || counts["Error"] != "0" || counts["Pass"] == "" {
		t.Fatalf("conformance suite failed (%v):\n%s", err, out)
	}
}
