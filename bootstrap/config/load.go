package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/devcluster/devcluster/internal/problem"
)

// DefaultFile is the file `up` reads from the working directory when no
// --config is given. It is optional.
const DefaultFile = "devcluster.yaml"

// Source is a decoded configuration file: the document and the line of each
// field, so validation can point at the line to fix.
type Source struct {
	// Path is where the file was read from ("" when no file was used).
	Path string
	File File
	// lines maps a field path such as "memory" or "extraStartArgs[1]" to its
	// line number.
	lines map[string]int
}

// Line returns the line of a field path, or 0 when unknown.
func (s *Source) Line(field string) int {
	if s == nil || s.lines == nil {
		return 0
	}
	return s.lines[field]
}

// Load reads and strictly decodes a configuration file. A missing file is an
// error; callers that treat the default file as optional check first.
func Load(path string) (*Source, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, problem.New(problem.Config, "reading config", err,
			"check the path given with --config")
	}
	return Decode(path, data)
}

// Decode strictly decodes one configuration document. Every problem found
// while decoding (unknown fields, wrong types) is reported at once, each with
// its line.
func Decode(path string, data []byte) (*Source, error) {
	name := path
	if name == "" {
		name = "config"
	}
	fail := func(problems ...string) error {
		return problem.New(problem.Config, "", &problem.List{Subject: name, Problems: problems},
			"fix the file; every field is described in the README's config reference")
	}

	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fail("the file is empty: it needs at least apiVersion: " + APIVersion + " and kind: " + KindCluster)
		}
		return nil, fail(strings.TrimPrefix(err.Error(), "yaml: "))
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, fail(fmt.Sprintf("line %d: a second document was found; devcluster.yaml holds one %s document", extra.Line, KindCluster))
	}
	doc := &root
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		doc = doc.Content[0]
	}
	if doc.Kind != yaml.MappingNode {
		return nil, fail(fmt.Sprintf("line %d: expected a mapping with apiVersion and kind", doc.Line))
	}

	var meta struct {
		APIVersion string `yaml:"apiVersion"`
		Kind       string `yaml:"kind"`
	}
	_ = doc.Decode(&meta)
	var problems []string
	switch {
	case meta.APIVersion == "":
		problems = append(problems, "apiVersion is missing: add apiVersion: "+APIVersion)
	case meta.APIVersion != APIVersion:
		problems = append(problems, fmt.Sprintf("unsupported apiVersion %q: this release reads %s", meta.APIVersion, APIVersion))
	}
	switch {
	case meta.Kind == "":
		problems = append(problems, "kind is missing: add kind: "+KindCluster)
	case meta.Kind != KindCluster:
		problems = append(problems, fmt.Sprintf("unknown kind %q for apiVersion %s: expected %s", meta.Kind, APIVersion, KindCluster))
	}
	if len(problems) > 0 {
		return nil, fail(problems...)
	}

	src := &Source{Path: path, lines: map[string]int{}}
	fieldLines("", doc, src.lines)
	strict := yaml.NewDecoder(bytes.NewReader(data))
	strict.KnownFields(true)
	if err := strict.Decode(&src.File); err != nil {
		var te *yaml.TypeError
		if errors.As(err, &te) {
			for _, e := range te.Errors {
				problems = append(problems, tidyYAMLError(e))
			}
			return nil, fail(problems...)
		}
		return nil, fail(strings.TrimPrefix(err.Error(), "yaml: "))
	}
	return src, nil
}

// tidyYAMLError makes yaml.v3's messages name the YAML field rather than the
// Go type: "field foo not found in type config.File" → "unknown field "foo"".
func tidyYAMLError(s string) string {
	if i := strings.Index(s, ": field "); i >= 0 && strings.Contains(s, " not found in type ") {
		field := s[i+len(": field "):]
		field = field[:strings.Index(field, " not found in type ")]
		return s[:i] + fmt.Sprintf(": unknown field %q", field)
	}
	return strings.ReplaceAll(s, "config.File", "Cluster")
}

// fieldLines records the line of every mapping key and sequence item.
func fieldLines(prefix string, n *yaml.Node, out map[string]int) {
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := k.Value
			if prefix != "" {
				p = prefix + "." + k.Value
			}
			out[p] = k.Line
			fieldLines(p, v, out)
		}
	case yaml.SequenceNode:
		for i, item := range n.Content {
			p := fmt.Sprintf("%s[%d]", prefix, i)
			out[p] = item.Line
			fieldLines(p, item, out)
		}
	}
}
