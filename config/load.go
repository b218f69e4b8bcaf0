package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
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
	// values maps field paths to the lines their keys and values are on
	// (for naming the field of a type error).
	values map[string]int
	// problems are what decoding found wrong in a document that decoded
	// (unknown fields, wrong types); failed are the fields that did not
	// decode. Complete reports them with the values' own problems.
	problems []string
	failed   []string
}

// Line returns the line of a field path, or 0 when unknown.
func (s *Source) Line(field string) int {
	if s == nil || s.lines == nil {
		return 0
	}
	return s.lines[field]
}

// Decode strictly decodes one configuration document. Every problem found
// while decoding (syntax, duplicate keys, unknown fields, wrong types) is
// reported at once, each with its line and field; an unknown field names
// the known one it resembles ("did you mean cpus?").
//
// When the document itself decoded and only some of its fields did not
// (unknown fields, wrong types), Decode returns the error together with a
// Source that holds every field that did decode: Complete then reports
// those problems and the values' own in one list, so fixing a type does not
// reveal another round of mistakes. A nil Source means there is nothing to
// validate.
func Decode(path string, data []byte) (*Source, error) {
	name := path
	if name == "" {
		name = "config"
	}
	fail := func(problems ...string) error {
		return problem.New(problem.Config, "", &problem.List{Subject: name, Problems: problems},
			"fix the file; every field is described in the configuration reference (docs/configuration.md)")
	}

	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fail("line 1: the file is empty: it needs at least apiVersion: " + APIVersion + " and kind: " + KindCluster)
		}
		return nil, fail(lineFirst("", syntaxError(err)))
	}
	var problems []string
	// Every further document is a mistake, empty ones (a trailing ---)
	// aside; a malformed one is reported, not ignored.
	for {
		var extra yaml.Node
		err := dec.Decode(&extra)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			problems = append(problems, lineFirst("after the first document: ", syntaxError(err)))
			break
		}
		if !emptyDocument(&extra) {
			problems = append(problems, fmt.Sprintf("line %d: a second document was found; devcluster.yaml holds one %s document", extra.Line, KindCluster))
			break
		}
	}
	doc := &root
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		doc = doc.Content[0]
	}
	if doc.Kind != yaml.MappingNode {
		return nil, fail(append([]string{fmt.Sprintf("line %d: expected a mapping with apiVersion and kind, got %s", doc.Line, nodeKind(doc))}, problems...)...)
	}
	problems = append(problems, duplicateKeys("", doc)...)

	src := &Source{Path: path, lines: map[string]int{}, values: map[string]int{}}
	fieldLines("", doc, src.lines, src.values)
	apiVersion, p1 := scalarField(doc, "apiVersion")
	kind, p2 := scalarField(doc, "kind")
	problems = append(problems, p1...)
	problems = append(problems, p2...)
	if len(p1) == 0 {
		switch {
		case apiVersion == "":
			problems = append(problems, fmt.Sprintf("line %d: apiVersion is missing: add apiVersion: %s", doc.Line, APIVersion))
		case apiVersion != APIVersion:
			problems = append(problems, fmt.Sprintf("line %d: apiVersion: unsupported apiVersion %q: this release reads %s", src.Line("apiVersion"), apiVersion, APIVersion))
		}
	}
	if len(p2) == 0 {
		switch {
		case kind == "":
			problems = append(problems, fmt.Sprintf("line %d: kind is missing: add kind: %s", doc.Line, KindCluster))
		case kind != KindCluster:
			problems = append(problems, fmt.Sprintf("line %d: kind: unknown kind %q for apiVersion %s: expected %s", src.Line("kind"), kind, APIVersion, KindCluster))
		}
	}
	if len(problems) > 0 {
		return nil, fail(problems...)
	}

	var file File
	strict := yaml.NewDecoder(bytes.NewReader(data))
	strict.KnownFields(true)
	if err := strict.Decode(&file); err != nil {
		var te *yaml.TypeError
		if !errors.As(err, &te) {
			return nil, fail(lineFirst("", syntaxError(err)))
		}
		// yaml.v3 decodes what it can and lists the rest.
		for _, e := range te.Errors {
			msg, field := src.tidyYAMLError(e)
			src.problems = append(src.problems, msg)
			if field != "" {
				src.failed = append(src.failed, field)
			}
		}
		src.File = file
		return src, fail(src.problems...)
	}
	src.File = file
	return src, nil
}

// lineFirst puts a parse error's line first ("line 3: <prefix>did not find
// ..."); an error without one (unexpected end of input) is given line 1.
func lineFirst(prefix, msg string) string {
	if m := lineRE.FindStringSubmatch(msg); m != nil {
		return "line " + m[1] + ": " + prefix + strings.TrimPrefix(msg[len(m[0]):], " ")
	}
	return "line 1: " + prefix + msg
}

var lineRE = regexp.MustCompile(`^line (\d+):`)

// emptyDocument reports whether a document holds nothing (a trailing ---).
func emptyDocument(d *yaml.Node) bool {
	if len(d.Content) == 0 {
		return true
	}
	c := d.Content[0]
	return len(d.Content) == 1 && c.Kind == yaml.ScalarNode && c.Tag == "!!null" && c.Value == ""
}

// syntaxError renders a yaml.v3 parse error: "line 3: did not find
// expected key".
func syntaxError(err error) string {
	return strings.TrimPrefix(err.Error(), "yaml: ")
}

// nodeKind names a node's kind for messages.
func nodeKind(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a mapping"
	case yaml.AliasNode:
		return "an alias"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "nothing"
		}
		return fmt.Sprintf("%q", n.Value)
	case yaml.DocumentNode:
		return "an empty document"
	}
	return "something else"
}

// scalarField returns the string value of key in mapping m ("" when absent),
// or a problem when it is not a plain string.
func scalarField(m *yaml.Node, key string) (string, []string) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		if k.Value != key {
			continue
		}
		if v.Kind != yaml.ScalarNode || (v.Tag != "!!str" && v.Tag != "") {
			return "", []string{fmt.Sprintf("line %d: %s: expected a string, got %s", v.Line, key, nodeKind(v))}
		}
		return v.Value, nil
	}
	return "", nil
}

// duplicateKeys reports every mapping key given twice, with both lines:
// YAML forbids it and minikube would only see one of the values.
func duplicateKeys(prefix string, n *yaml.Node) []string {
	var out []string
	switch n.Kind {
	case yaml.MappingNode:
		first := map[string]int{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := k.Value
			if prefix != "" {
				p = prefix + "." + k.Value
			}
			if line, ok := first[k.Value]; ok {
				out = append(out, fmt.Sprintf("line %d: %s: duplicate key, first given at line %d", k.Line, p, line))
			} else {
				first[k.Value] = k.Line
			}
			out = append(out, duplicateKeys(p, v)...)
		}
	case yaml.SequenceNode:
		for i, item := range n.Content {
			out = append(out, duplicateKeys(fmt.Sprintf("%s[%d]", prefix, i), item)...)
		}
	}
	return out
}

var (
	typeErrorRE   = regexp.MustCompile(`^line (\d+): cannot unmarshal (!!\w+)(?: ` + "`" + `([^` + "`" + `]*)` + "`" + `)? into (\S+)$`)
	unknownErrRE  = regexp.MustCompile(`^line (\d+): field (\S+) not found in type (\S+)$`)
	yamlTypeNames = map[string]string{"!!seq": "a list", "!!map": "a mapping", "!!int": "a number", "!!float": "a number",
		"!!bool": "true/false", "!!str": "a string", "!!null": "nothing", "!!timestamp": "a date"}
	goTypeNames = map[string]string{"string": "a string", "int": "a whole number", "bool": "true or false",
		"[]string": "a list of strings", "*bool": "true or false"}
)

// tidyYAMLError makes yaml.v3's messages name the field and speak YAML
// rather than Go: "line 4: cannot unmarshal !!seq into string" becomes
// "line 4: cpus: expected a string, got a list". It returns the field of a
// value that did not decode ("" for an unknown field, which is not one).
func (s *Source) tidyYAMLError(msg string) (string, string) {
	if m := unknownErrRE.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		field := s.fieldAt(line, m[2])
		out := fmt.Sprintf("line %s: %s: unknown field", m[1], field)
		if guess := suggestField(m[2], m[3]); guess != "" {
			out += "; did you mean " + guess + "?"
		}
		return out, ""
	}
	if m := typeErrorRE.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		got := yamlTypeNames[m[2]]
		if got == "" {
			got = m[2]
		}
		if m[3] != "" {
			got = fmt.Sprintf("%s %q", got, m[3])
		}
		want := goTypeNames[m[4]]
		if want == "" {
			want = "a mapping"
			if strings.HasPrefix(m[4], "[]") {
				want = "a list"
			}
		}
		field := s.fieldAt(line, "")
		return fmt.Sprintf("line %s: %s: expected %s, got %s", m[1], field, want, got), field
	}
	return strings.ReplaceAll(msg, "config.File", "Cluster"), ""
}

// fieldAt names the field whose key or value is on line: the deepest one
// that is not a list item (an item only when nothing else matches); with
// key, the one of that name.
func (s *Source) fieldAt(line int, key string) string {
	best, bestItem := "", ""
	better := func(f, cur string) bool { return len(f) > len(cur) || (len(f) == len(cur) && f < cur) }
	for _, m := range []map[string]int{s.lines, s.values} {
		for f, l := range m {
			if l != line || (key != "" && f != key && !strings.HasSuffix(f, "."+key)) {
				continue
			}
			if strings.HasSuffix(f, "]") {
				if better(f, bestItem) {
					bestItem = f
				}
			} else if better(f, best) {
				best = f
			}
		}
	}
	if best == "" {
		best = bestItem
	}
	if best == "" {
		if key != "" {
			return key
		}
		return "a field"
	}
	return best
}

// fieldLines records the line of every mapping key and sequence item.
// and, in values, the line each value starts on. Merge keys and aliases are
// followed (to a bounded depth: an alias may refer to itself).
func fieldLines(prefix string, n *yaml.Node, out, values map[string]int) {
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if v.Kind == yaml.AliasNode && v.Alias != nil && depth(prefix) < 8 {
				v = v.Alias
			}
			if k.Value == "<<" && k.Tag == "!!merge" {
				// A merge key: the merged mapping's fields are this one's.
				merged := []*yaml.Node{v}
				if v.Kind == yaml.SequenceNode {
					merged = v.Content
				}
				for _, m := range merged {
					if m.Kind == yaml.AliasNode && m.Alias != nil {
						m = m.Alias
					}
					if m.Kind == yaml.MappingNode && depth(prefix) < 8 {
						fieldLines(prefix, m, out, values)
					}
				}
				continue
			}
			p := k.Value
			if prefix != "" {
				p = prefix + "." + k.Value
			}
			if _, dup := out[p]; !dup {
				out[p] = k.Line
				values[p] = v.Line
			}
			fieldLines(p, v, out, values)
		}
	case yaml.SequenceNode:
		for i, item := range n.Content {
			p := fmt.Sprintf("%s[%d]", prefix, i)
			out[p] = item.Line
			values[p] = item.Line
			fieldLines(p, item, out, values)
		}
	}
}

// depth is the nesting depth of a field path.
func depth(p string) int { return strings.Count(p, ".") + strings.Count(p, "[") }
