package bootstrap

import (
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/devcluster/devcluster/internal/testutil"
	"github.com/devcluster/devcluster/internal/ui"
	"github.com/devcluster/devcluster/kube"
	"github.com/devcluster/devcluster/provider"
)

// hostileLog is what a container may print to break out of a summary's
// code block and inject Markdown or HTML into the job summary.
var hostileLog = []string{
	"```",
	"````` five backticks",
	"~~~",
	"</details>",
	"<script>alert(1)</script><img src=x onerror=alert(1)>",
	"| a | fake | row |",
	"[a link](https://example.invalid) ![an image](https://example.invalid/x.png)",
	"\x1b[31mred\x1b[0m \x1b]1339;url=https://example.invalid\x07",
	"    ```",
}

// cells splits a GFM table row at its unescaped pipes.
func cells(row string) []string {
	row = strings.TrimSpace(row)
	var out []string
	var cur strings.Builder
	for i := 0; i < len(row); i++ {
		switch {
		case row[i] == '\\' && i+1 < len(row):
			cur.WriteByte(row[i])
			cur.WriteByte(row[i+1])
			i++
		case row[i] == '|':
			out = append(out, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(row[i])
		}
	}
	out = append(out, cur.String())
	return out[1 : len(out)-1] // the row's leading and trailing pipes
}

// outsideCode is md without its fenced code blocks and inline code spans.
func outsideCode(md string) string {
	_, rest := testutil.MarkdownCodeBlocks(md)
	return regexp.MustCompile("(`+)[^`].*?[^`]?(`+)").ReplaceAllString(strings.Join(rest, "\n"), "")
}

func checkNoMarkup(t *testing.T, md string) {
	t.Helper()
	if strings.ContainsAny(md, "\x1b\a") {
		t.Errorf("escape sequences in the summary:\n%q", md)
	}
	// Outside code, markup from the cluster would be these, unescaped.
	rest := outsideCode(md)
	for _, bad := range []string{`<script`, `<img`, `<b>`, `\]\(https://example.invalid`, `\*bold`, `\|\s*fake`} {
		if regexp.MustCompile(`(^|[^\\])` + bad).MatchString(rest) {
			t.Errorf("%s outside code in the summary:\n%s", bad, md)
		}
	}
}

// A failed deploy's summary shows the container's log lines and events in
// one code block that none of them can close, and no text from the cluster
// becomes Markdown or HTML.
func TestDeploySummaryFencesUntrustedText(t *testing.T) {
	t.Parallel()
	r := &DeployResult{Context: "ci`ctx", Namespace: "apps",
		Workloads: []DeployedWorkload{{Workload: kube.Workload{Kind: "Deployment", Namespace: "apps", Name: "web"},
			Revision: "3", Images: []string{"app:v2"}, Message: "waiting | <img src=x onerror=alert(1)> *bold* `code`"}},
		Failure: &DeployFailure{Workload: "Deployment apps/web", Pod: "web-1", Container: "app",
			Reason: "CrashLoopBackOff <b>", Message: "back-off | [a link](https://example.invalid)",
			Events: []string{"BackOff: </details><script>alert(1)</script>"}, Logs: hostileLog}}
	steps := []ui.StepRecord{{Title: "Waiting for rollouts | <img src=x>", OK: false, Result: "failed ```", Duration: time.Second}}
	md := deploySummary(r, errors.New("rolling out: Deployment apps/web is failing"), steps)
	t.Logf("summary:\n%s", md)
	checkNoMarkup(t, md)

	blocks, _ := testutil.MarkdownCodeBlocks(md)
	if len(blocks) != 1 {
		t.Fatalf("%d code blocks, want 1 (events and log lines)", len(blocks))
	}
	want := append([]string{"BackOff: </details><script>alert(1)</script>"}, hostileLog...)
	want[len(want)-2] = "red" // escapes dropped, trailing space too
	if strings.Join(blocks[0], "\n") != strings.Join(want, "\n") {
		t.Errorf("the code block holds:\n%s\nwant:\n%s", strings.Join(blocks[0], "\n"), strings.Join(want, "\n"))
	}
	i, j := strings.Index(md, "<details>"), strings.LastIndex(md, "</details>")
	if i < 0 || j < i || strings.Count(outsideCode(md), "</details>") != 1 {
		t.Errorf("the details element does not hold the code block")
	}
	for _, l := range strings.Split(md, "\n") {
		if !strings.HasPrefix(l, "|") || strings.HasPrefix(l, "|---") {
			continue
		}
		n := len(cells(l))
		if strings.HasPrefix(l, "| deployment/") && n != 4 || strings.Contains(l, "Waiting for rollouts") && n != 3 {
			t.Errorf("a table row with %d cells: %s", n, l)
		}
	}
}

// up's summary fences its error the same way.
func TestUpSummaryFencesTheError(t *testing.T) {
	t.Parallel()
	r := &Result{Cluster: &provider.Cluster{Name: "dev", Provider: "minikube", State: "Running"},
		Workloads: []kube.WorkloadState{{Workload: kube.Workload{Kind: "Deployment", Namespace: "apps", Name: "web"}, Message: "a | b <img src=x>"}}}
	err := errors.New("waiting for workloads: pod web-1: CrashLoopBackOff\n  last log lines of web-1/app:\n    " + strings.Join(hostileLog, "\n    ") +
		"\n" + strings.Join(hostileLog, "\n"))
	md := upSummary(r, err, nil)
	t.Logf("summary:\n%s", md)
	checkNoMarkup(t, md)
	blocks, _ := testutil.MarkdownCodeBlocks(md)
	if len(blocks) != 1 || len(blocks[0]) != 2*len(hostileLog)+2 {
		t.Fatalf("code blocks %q, want one of the error's %d lines", blocks, 2*len(hostileLog)+2)
	}
}
