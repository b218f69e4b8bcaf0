package app

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

type actionFile struct {
	Name    string
	Inputs  map[string]struct{ Default string }
	Outputs map[string]struct{ Value string }
	Runs    struct {
		Using string
		Steps []struct {
			ID, Name, If, Shell, Run, Uses string
			With                           map[string]string
		}
	}
}

var arrayFlags = regexp.MustCompile(`(args|global)\+?=\((.*)\)`)

// The repository's GitHub Action is a valid composite action: the inputs
// mirror devcluster.yaml, the outputs come from the up step, every
// devcluster command it runs exists with the flags it uses, and every
// ${{ inputs.x }} names a declared input. The real-minikube workflow uses
// it and only its declared outputs.
func TestGitHubActionAndWorkflow(t *testing.T) {
	b, err := os.ReadFile("../../../action.yml")
	if err != nil {
		t.Fatal(err)
	}
	var a actionFile
	if err := yaml.Unmarshal(b, &a); err != nil {
		t.Fatalf("action.yml: %v", err)
	}
	if a.Runs.Using != "composite" {
		t.Errorf("runs.using = %q", a.Runs.Using)
	}
	for _, in := range []string{"config", "provider", "cpus", "memory", "kubernetes-version", "wait", "samples", "command", "job-status"} {
		if _, ok := a.Inputs[in]; !ok {
			t.Errorf("no input %q", in)
		}
	}
	for _, out := range []string{"kube-context", "registry", "node-ip"} {
		if o, ok := a.Outputs[out]; !ok || !strings.Contains(o.Value, "steps.up.outputs."+out) {
			t.Errorf("output %q = %+v", out, o)
		}
	}
	ref := regexp.MustCompile(`\$\{\{\s*inputs\.([a-z-]+)\s*\}\}|inputs\.([a-z-]+)`)
	for _, m := range ref.FindAllStringSubmatch(string(b), -1) {
		n := m[1] + m[2]
		if _, ok := a.Inputs[n]; !ok {
			t.Errorf("action.yml refers to undeclared input %q", n)
		}
	}
	app := newApp(&globals{env: Env{}})
	ids := []string{}
	for _, st := range a.Runs.Steps {
		ids = append(ids, st.ID)
		if st.Run != "" && st.Shell == "" {
			t.Errorf("step %q runs a script without a shell (required in composite actions)", st.Name)
		}
		for _, line := range joinContinuations(st.Run) {
			// Flags collected in bash arrays for `devcluster up`.
			if m := arrayFlags.FindStringSubmatch(line); m != nil {
				cmd := []string{"up"}
				if m[1] == "global" {
					cmd = nil
				}
				for _, w := range strings.Fields(m[2]) {
					if strings.HasPrefix(w, "-") {
						if e := checkInvocation(app, append(append([]string(nil), cmd...), w, "x")); e != "" && !(m[1] == "global" && e == "no such command") {
							t.Errorf("action.yml: `%s`: %s", strings.TrimSpace(line), e)
						}
					}
				}
				continue
			}
			i := strings.Index(line, "devcluster ")
			if i < 0 || strings.Contains(line[:i], "/") || strings.Contains(line, "${") {
				continue
			}
			words := strings.Fields(line[i:])
			var args []string
			for _, w := range words[1:] {
				if strings.HasPrefix(w, `"$`) || strings.HasPrefix(w, "|") || w == ">" || w == "||" {
					if w == "||" || w == ">" {
						break
					}
					continue
				}
				args = append(args, w)
			}
			if e := checkInvocation(app, args); e != "" {
				t.Errorf("action.yml: `%s`: %s", strings.TrimSpace(line), e)
			}
		}
	}
	if !slices.Contains(ids, "up") {
		t.Error("no step with id up")
	}

	w, err := os.ReadFile("../../../.github/workflows/real-minikube.yml")
	if err != nil {
		t.Fatal(err)
	}
	var wf struct {
		Jobs map[string]struct {
			Steps []struct {
				ID, Uses, If, Run string
				With              map[string]string
			}
		}
	}
	if err := yaml.Unmarshal(w, &wf); err != nil {
		t.Fatalf("real-minikube.yml: %v", err)
	}
	for name, job := range wf.Jobs {
		usesAction := 0
		for _, st := range job.Steps {
			if st.Uses == "./" {
				usesAction++
				for k := range st.With {
					if _, ok := a.Inputs[k]; !ok {
						t.Errorf("the workflow passes undeclared input %q", k)
					}
				}
			}
		}
		if usesAction != 2 {
			t.Errorf("job %s uses the action %d times, want up and down", name, usesAction)
		}
	}
	if len(wf.Jobs) != 2 {
		t.Errorf("%d jobs, want minikube and kind", len(wf.Jobs))
	}
	outRef := regexp.MustCompile(`steps\.cluster\.outputs\.([a-z-]+)`)
	for _, m := range outRef.FindAllStringSubmatch(string(w), -1) {
		if _, ok := a.Outputs[m[1]]; !ok {
			t.Errorf("the workflow reads undeclared output %q", m[1])
		}
	}
}
