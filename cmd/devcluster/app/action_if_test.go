package app

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
)

// actionRun runs the Action's steps as the runner decides which run: each
// step's if: (success() && it when it names no status function) against the job's status so far,
// the inputs and the earlier steps' outputs; a step that fails sets the
// status to failure unless it has continue-on-error. fails names the steps
// that fail; outputs are the outputs a step sets when it runs.
func actionRun(t *testing.T, a actionFile, inputs map[string]string, fails map[string]bool, outputs map[string]map[string]string) []string {
	t.Helper()
	failed := false
	ran := []string{}
	got := map[string]map[string]string{}
	for _, st := range a.Runs.Steps {
		// A condition without a status function is success() && it.
		cond := strings.TrimSpace(st.If)
		if !regexp.MustCompile(`\b(always|success|failure|cancelled)\(\)`).MatchString(cond) {
			if cond == "" {
				cond = "success()"
			} else {
				cond = "success() && (" + cond + ")"
			}
		}
		e := &exprEval{src: cond, failed: failed, inputs: inputs, steps: got}
		ok, err := e.eval()
		if err != nil {
			t.Fatalf("step %q: if: %s: %v", st.Name, st.If, err)
		}
		if !ok {
			continue
		}
		ran = append(ran, st.Name)
		if st.ID != "" {
			got[st.ID] = outputs[st.ID]
		}
		if fails[st.Name] && !st.ContinueOnError {
			failed = true
		}
	}
	return ran
}

// exprEval evaluates the part of GitHub's expression language action.yml
// uses: ||, &&, !, parentheses, == and != on strings, always(), success(),
// failure(), inputs.<name> and steps.<id>.outputs.<name>. Anything else is
// an error, so a condition this cannot read fails the test.
type exprEval struct {
	src    string
	toks   []string
	pos    int
	failed bool
	inputs map[string]string
	steps  map[string]map[string]string
}

var exprToken = regexp.MustCompile(`\s*(\|\||&&|==|!=|!|\(|\)|'[^']*'|[A-Za-z_][\w.-]*\(\)|[A-Za-z_][\w.-]*)`)

func (e *exprEval) eval() (bool, error) {
	rest := e.src
	for strings.TrimSpace(rest) != "" {
		m := exprToken.FindStringSubmatchIndex(rest)
		if m == nil || m[0] != 0 {
			return false, fmt.Errorf("cannot read %q", rest)
		}
		e.toks = append(e.toks, rest[m[2]:m[3]])
		rest = rest[m[1]:]
	}
	v, err := e.or()
	if err == nil && e.pos != len(e.toks) {
		err = fmt.Errorf("unexpected %q", e.toks[e.pos])
	}
	return truthy(v), err
}

func (e *exprEval) peek() string {
	if e.pos < len(e.toks) {
		return e.toks[e.pos]
	}
	return ""
}

func (e *exprEval) or() (any, error) {
	l, err := e.and()
	for err == nil && e.peek() == "||" {
		e.pos++
		var r any
		r, err = e.and()
		l = truthy(l) || truthy(r)
	}
	return l, err
}

func (e *exprEval) and() (any, error) {
	l, err := e.unary()
	for err == nil && e.peek() == "&&" {
		e.pos++
		var r any
		r, err = e.unary()
		l = truthy(l) && truthy(r)
	}
	return l, err
}

func (e *exprEval) unary() (any, error) {
	if e.peek() == "!" {
		e.pos++
		v, err := e.unary()
		return !truthy(v), err
	}
	l, err := e.primary()
	if err != nil {
		return nil, err
	}
	if op := e.peek(); op == "==" || op == "!=" {
		e.pos++
		r, err := e.primary()
		if err != nil {
			return nil, err
		}
		eq := fmt.Sprint(l) == fmt.Sprint(r)
		return eq == (op == "=="), nil
	}
	return l, nil
}

func (e *exprEval) primary() (any, error) {
	tok := e.peek()
	e.pos++
	switch {
	case tok == "(":
		v, err := e.or()
		if e.peek() != ")" {
			return nil, fmt.Errorf("no closing parenthesis")
		}
		e.pos++
		return v, err
	case tok == "always()":
		return true, nil
	case tok == "success()":
		return !e.failed, nil
	case tok == "failure()":
		return e.failed, nil
	case strings.HasPrefix(tok, "'"):
		return strings.Trim(tok, "'"), nil
	case strings.HasPrefix(tok, "inputs."):
		return e.inputs[strings.TrimPrefix(tok, "inputs.")], nil
	case strings.HasPrefix(tok, "steps."):
		p := strings.Split(tok, ".")
		if len(p) != 4 || p[2] != "outputs" {
			return nil, fmt.Errorf("cannot read %q", tok)
		}
		return e.steps[p[1]][p[3]], nil
	}
	return nil, fmt.Errorf("cannot read %q", tok)
}

func truthy(v any) bool {
	switch x := v.(type) {
	case bool:
		return x
	case string:
		return x != ""
	}
	return v != nil
}

// The down use deletes the cluster whatever its diagnostics did: after a
// failed diagnose, a failed upload, both, or an install that failed before
// them; and a job that succeeded gets no diagnostics, only the delete.
func TestGitHubActionDownRunsAfterFailedDiagnostics(t *testing.T) {
	a, _ := readAction(t)
	inputs := func(status string) map[string]string {
		in := map[string]string{}
		for k, v := range a.Inputs {
			in[k] = v.Default
		}
		in["command"], in["job-status"] = "down", status
		return in
	}
	names := map[string]string{}
	for _, st := range a.Runs.Steps {
		switch {
		case st.ID == "diagnose":
			names["diagnose"] = st.Name
		case strings.Contains(st.Uses, "upload-artifact") && strings.Contains(st.If, "'down'"):
			names["upload"] = st.Name
		case strings.Contains(st.Run, "devcluster-action.js\" down"):
			names["down"] = st.Name
		case st.ID == "install":
			names["install"] = st.Name
		}
	}
	if len(names) != 4 {
		t.Fatalf("steps found: %v", names)
	}
	diagnosed := map[string]map[string]string{"diagnose": {"diagnostics-dir": "/diag", "artifact-name": "devcluster-diagnostics-e2e-attempt1"}}
	for _, tc := range []struct {
		name   string
		status string
		fails  []string
		want   []string
	}{
		{name: "all well", status: "failure", want: []string{"diagnose", "upload", "down"}},
		{name: "diagnose fails", status: "failure", fails: []string{"diagnose"}, want: []string{"diagnose", "upload", "down"}},
		{name: "upload fails", status: "failure", fails: []string{"upload"}, want: []string{"diagnose", "upload", "down"}},
		{name: "both fail", status: "failure", fails: []string{"diagnose", "upload"}, want: []string{"diagnose", "upload", "down"}},
		{name: "cancelled job", status: "cancelled", fails: []string{"diagnose"}, want: []string{"diagnose", "upload", "down"}},
		{name: "install fails", status: "failure", fails: []string{"install"}, want: []string{"down"}},
		{name: "job succeeded", status: "success", want: []string{"down"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fails := map[string]bool{}
			for _, f := range tc.fails {
				fails[names[f]] = true
			}
			ran := actionRun(t, a, inputs(tc.status), fails, diagnosed)
			var got []string
			for _, r := range ran {
				for k, n := range names {
					if n == r && k != "install" {
						got = append(got, k)
					}
				}
			}
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Errorf("ran %v (all: %q), want %v", got, ran, tc.want)
			}
		})
	}
	// The up use never deletes, and registers the post step that does.
	in := inputs("success")
	in["command"] = "up"
	ran := strings.Join(actionRun(t, a, in, nil, nil), "\n")
	if strings.Contains(ran, names["down"]) || !strings.Contains(ran, "Delete the cluster at the end of the job") {
		t.Errorf("the up use ran:\n%s", ran)
	}
}
