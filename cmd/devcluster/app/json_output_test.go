package app

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/devcluster/devcluster/bootstrap"
	"github.com/devcluster/devcluster/internal/testutil"
)

// -o json on stdout lands in the CI log too: the log lines it carries are
// the same data, and the GitHub runner acts on none of them (it looks for
// the legacy ##[…] form anywhere in a line, inside a JSON string too).
func TestJSONOutputRunsNoWorkflowCommand(t *testing.T) {
	t.Parallel()
	in := &bootstrap.DeployResult{Namespace: "apps", Failure: &bootstrap.DeployFailure{Pod: "web-1",
		Logs: []string{"::add-mask::x", "##[add-mask]hidden", "x ##[error]fake", "\x1b]1339;url=x\x07", "  ::stop-commands::x"}}}
	var b bytes.Buffer
	if err := writeJSON(&b, in); err != nil {
		t.Fatal(err)
	}
	for _, c := range testutil.GitHubCommands(b.String()) {
		t.Errorf("the runner acts on line %d: %q (%s)", c.Line, c.Raw, c.Name)
	}
	var out bootstrap.DeployResult
	if err := json.Unmarshal(b.Bytes(), &out); err != nil || !reflect.DeepEqual(&out, in) {
		t.Errorf("the JSON does not read back as the result (%v):\n%s", err, b.String())
	}
}
