package bootstrap

import (
	"strings"
	"testing"

	"github.com/devcluster/devcluster/internal/problem"
	"github.com/devcluster/devcluster/kube"
)

// Workload arguments: each in namespace, and every bad one reported at
// once as bad input, with the command's help to look at.
func TestParseWorkloads(t *testing.T) {
	ws, err := ParseWorkloads("diagnose", []string{"deployment/web", "sts/db"}, "apps")
	if err != nil || len(ws) != 2 || ws[0] != (kube.Workload{Kind: "Deployment", Namespace: "apps", Name: "web"}) || ws[1].Kind != "StatefulSet" {
		t.Errorf("%+v, %v", ws, err)
	}
	if ws, err := ParseWorkloads("diagnose", nil, ""); err != nil || ws != nil {
		t.Errorf("no arguments: %+v, %v", ws, err)
	}
	_, err = ParseWorkloads("diagnose", []string{"web", "deployment/web", "service/web"}, "")
	if problem.KindOf(err) != problem.Usage || problem.FixOf(err) != "run `devcluster diagnose --help`" ||
		!strings.Contains(err.Error(), `"web" is not KIND/NAME`) || !strings.Contains(err.Error(), `kind "service" cannot be deployed`) {
		t.Errorf("bad references: %v (fix %q)", err, problem.FixOf(err))
	}
}
