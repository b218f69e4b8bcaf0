package app

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
	"gopkg.in/yaml.v3"

	"github.com/devcluster/devcluster/bootstrap"
	"github.com/devcluster/devcluster/internal/testutil"
)

// -o yaml is -o json's document: the same field names, the same values,
// read back by a YAML reader; and, like JSON, no line of it is one the
// GitHub runner acts on, whatever text from the cluster it carries.
func TestYAMLOutputIsTheJSONDocument(t *testing.T) {
	t.Parallel()
	in := &bootstrap.DeployResult{Namespace: "apps", Changed: true, Written: []string{"deployment/web", "123", "true", "null", "- x", "a: b"},
		Failure: &bootstrap.DeployFailure{Pod: "web-1",
			Logs: []string{"::add-mask::x", "##[add-mask]hidden", "x ##[error]fake", "\x1b]1339;url=x\x07", "  ::stop-commands::x",
				"line one\n::error::second line", "tab\there", "\u2028split", ""}}}
	var js, ys bytes.Buffer
	if err := writeJSON(&js, in); err != nil {
		t.Fatal(err)
	}
	if err := writeYAML(&ys, in); err != nil {
		t.Fatal(err)
	}
	var fromJSON, fromYAML any
	if err := json.Unmarshal(js.Bytes(), &fromJSON); err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(ys.Bytes(), &fromYAML); err != nil {
		t.Fatalf("-o yaml is not YAML: %v\n%s", err, ys.String())
	}
	if !reflect.DeepEqual(normalize(fromYAML), fromJSON) {
		t.Errorf("the YAML document differs from the JSON one:\nyaml: %#v\njson: %#v\n%s", fromYAML, fromJSON, ys.String())
	}
	for _, c := range testutil.GitHubCommands(ys.String()) {
		t.Errorf("the runner acts on line %d: %q (%s)\n%s", c.Line, c.Raw, c.Name, ys.String())
	}
	if strings.Contains(ys.String(), "\x1b") || strings.Contains(ys.String(), "\u2028") {
		t.Errorf("a control character reached the output raw:\n%q", ys.String())
	}
	// Block style, as YAML is read by people: one field a line.
	y := ys.String()
	if !strings.Contains(y, "\nfailure:\n  workload: \"\"\n  pod: web-1\n") ||
		!(strings.Index(y, "\nnamespace: apps\n") < strings.Index(y, "\nchanged: true\n") && strings.Index(y, "\nchanged: true\n") < strings.Index(y, "\nfailure:")) {
		t.Errorf("not block style, or not the JSON names and order:\n%s", ys.String())
	}
}

// normalize turns a YAML decoding's map[string]any and ints into JSON's
// (float64 numbers).
func normalize(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = normalize(e)
		}
	case []any:
		for i, e := range x {
			x[i] = normalize(e)
		}
	case int:
		return float64(x)
	}
	return v
}

// Every command that prints a result takes text, json and yaml, and says
// so; an unknown format is a usage error that names all three.
func TestEveryOutputFlagOffersYAML(t *testing.T) {
	g := &globals{}
	a := newApp(g)
	n := 0
	walkCommands(a.Commands, nil, func(path []string, c *cli.Command) {
		f := flagNamed(c.Flags, "output")
		if f == nil {
			return
		}
		n++
		sf, ok := f.(*cli.StringFlag)
		if !ok || !strings.Contains(sf.Usage, "text, json or yaml") || sf.Value != outText {
			t.Errorf("%s: -o is %#v", strings.Join(path, " "), f)
		}
	})
	if n < 8 {
		t.Errorf("only %d commands take -o", n)
	}
	for _, o := range outputFormats {
		if err := checkOutput(o); err != nil {
			t.Errorf("checkOutput(%q) = %v", o, err)
		}
	}
	if err := checkOutput("yml"); err == nil || !strings.Contains(err.Error(), `"yml"`) {
		t.Errorf("checkOutput(yml) = %v", err)
	}
}

func TestUpStatusDownInYAML(t *testing.T) {
	h := newHarness(t)
	for _, args := range [][]string{{"up", "-o", "yaml"}, {"status", "-oyaml"}, {"lb", "-o", "yaml"}, {"registry", "ls", "-o", "yaml"}, {"down", "--output=yaml"}} {
		if code := h.run(args...); code != 0 {
			t.Fatalf("%s: exit %d\n%s", strings.Join(args, " "), code, h.stderr.String())
		}
		var doc any
		if err := yaml.Unmarshal(h.stdout.Bytes(), &doc); err != nil {
			t.Fatalf("%s is not YAML: %v\n%s", strings.Join(args, " "), err, h.stdout.String())
		}
		if strings.HasPrefix(strings.TrimSpace(h.stdout.String()), "{") {
			t.Errorf("%s printed flow style:\n%s", strings.Join(args, " "), h.stdout.String())
		}
		if args[0] == "up" {
			m, _ := doc.(map[string]any)
			cl, _ := m["cluster"].(map[string]any)
			if cl["name"] != "devcluster" || cl["state"] != "Running" {
				t.Errorf("up -o yaml = %s", h.stdout.String())
			}
		}
	}
}

// Every command prints its -o document through the one helper (output,
// or isData and writeData), so that json and yaml stay the same document
// and a new command gets -o yaml without asking: no file of the command
// line but output.go compares -o with "json" or calls writeJSON.
func TestOutputGoesThroughTheHelper(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	bad := regexp.MustCompile(`[!=]= "json"|"json" [!=]=|writeJSON\(|json\.Marshal(Indent)?\(`)
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") || f == "output.go" {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(b), "\n") {
			if bad.MatchString(line) {
				t.Errorf("%s:%d: %s\n\tprint results with g.output(format, v, render), or isData(format) and writeData(w, format, v)", f, i+1, strings.TrimSpace(line))
			}
		}
	}
}
