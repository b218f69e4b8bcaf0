package docker

import (
	"encoding/json"
	"fmt"
	"strings"
	"text/template"
)

// templateFuncs are the functions docker's --format templates have.
var templateFuncs = template.FuncMap{
	"json": func(v any) (string, error) {
		b, err := json.Marshal(v)
		return string(b), err
	},
	"join":  strings.Join,
	"lower": strings.ToLower,
	"upper": strings.ToUpper,
	"split": strings.Split,
	"println": func(a ...any) string {
		return fmt.Sprintln(a...)
	},
}

// render executes a --format template against data and prints it with a
// newline, as the docker client does; a bad template is the client's
// "template parsing error" (exit 1).
func (s *invocation) render(t string, data any) int {
	tmpl, err := template.New("format").Funcs(templateFuncs).Option("missingkey=zero").Parse(t)
	if err != nil {
		fmt.Fprintf(s.env.Stderr, "template parsing error: %v\n", err)
		return 1
	}
	var b strings.Builder
	if err := tmpl.Execute(&b, data); err != nil {
		fmt.Fprintf(s.env.Stderr, "template: %v\n", err)
		return 1
	}
	fmt.Fprintln(s.env.Stdout, b.String())
	return 0
}
