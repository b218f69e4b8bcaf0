package app

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"unicode"

	"github.com/urfave/cli/v2"
	"gopkg.in/yaml.v3"

	"github.com/devcluster/devcluster/internal/problem"
	"github.com/devcluster/devcluster/internal/ui"
)

// The formats of -o. Every command that prints a result takes all three:
// text for people, json and yaml for programs, the two from the same value
// with the same field names (yaml is the JSON document, re-encoded).
const (
	outText = "text"
	outJSON = "json"
	outYAML = "yaml"
)

// outputFormats are the values -o accepts.
var outputFormats = []string{outText, outJSON, outYAML}

// outputFlag is -o text|json|yaml.
func outputFlag(dst *string) cli.Flag {
	return &cli.StringFlag{Name: "output", Aliases: []string{"o"}, Value: outText, Usage: "output `FORMAT`: text, json or yaml", Destination: dst}
}

// checkOutput refuses an -o value that is not a format.
func checkOutput(o string) error {
	for _, f := range outputFormats {
		if o == f {
			return nil
		}
	}
	return problem.New(problem.Usage, "", fmt.Errorf("invalid output format %q", o), "use -o text, -o json or -o yaml")
}

// isData says that -o asks for a document (json or yaml) instead of text.
func isData(format string) bool { return format == outJSON || format == outYAML }

// writeData prints v in format (json or yaml); see writeJSON and writeYAML.
func writeData(w io.Writer, format string, v any) error {
	if format == outYAML {
		return writeYAML(w, v)
	}
	return writeJSON(w, v)
}

// output prints a command's result: the document of v for -o json or
// yaml, else the text render draws, through the printer (Printer.Text).
func (g *globals) output(format string, v any, render func(io.Writer)) error {
	if isData(format) {
		return writeData(g.env.Stdout, format, v)
	}
	g.printText(render)
	return nil
}

// writeJSON prints v as indented JSON; the result holds text from the
// cluster (log lines, events), so it is made safe for the CI log it may land
// in (ui.JSONSafe).
func writeJSON(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(ui.JSONSafe(b), '\n'))
	return err
}

// writeYAML prints v as YAML: its JSON document (the json tags name the
// fields, in the same order), re-encoded. Text from the cluster is made as
// safe as in JSON: a string with a line break, a control character or
// "##[" is written double-quoted, with escapes, so no line of the output
// starts with text from the cluster ("::error::…" is a GitHub workflow
// command) and no "##[" appears.
func writeYAML(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return fmt.Errorf("re-encoding the result as YAML: %w", err)
	}
	blockStyle(&doc)
	var out bytes.Buffer
	enc := yaml.NewEncoder(&out)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return fmt.Errorf("encoding the result as YAML: %w", err)
	}
	if err := enc.Close(); err != nil {
		return err
	}
	// Only double-quoted scalars hold "##[" now, where \x5b is '['.
	_, err = w.Write(bytes.ReplaceAll(out.Bytes(), []byte("##["), []byte(`##\x5b`)))
	return err
}

// blockStyle gives the document YAML's usual look (the JSON it was read
// from is all flow style and quotes): block mappings and sequences, plain
// strings where plain reads back as the same string, and the
// double-quoted style for every string that needs it (see writeYAML).
func blockStyle(n *yaml.Node) {
	switch {
	case n.Kind == yaml.MappingNode || n.Kind == yaml.SequenceNode:
		n.Style = 0
	case n.Kind == yaml.ScalarNode && n.Tag == "!!str":
		n.Style = 0
		if needsQuotes(n.Value) {
			n.Style = yaml.DoubleQuotedStyle
		}
	}
	for _, c := range n.Content {
		blockStyle(c)
	}
}

func needsQuotes(s string) bool {
	if strings.Contains(s, "##[") {
		return true
	}
	for _, r := range s {
		if !unicode.IsPrint(r) && r != ' ' {
			return true
		}
	}
	return false
}
