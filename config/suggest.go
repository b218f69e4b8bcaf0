package config

import (
	"reflect"
	"strings"
	"sync"
)

// schema lists the field names of each mapping of the document, by the Go
// type yaml.v3 names in its errors ("config.RegistryFile"), and the dotted
// path of every field below the top level ("registry.port").
type schema struct {
	fields map[string][]string
	paths  []string
}

var (
	schemaOnce sync.Once
	fileSchema schema
)

func documentSchema() schema {
	schemaOnce.Do(func() {
		fileSchema.fields = map[string][]string{}
		fileSchema.walk(reflect.TypeOf(File{}), "", false)
	})
	return fileSchema
}

// walk records the fields of struct type t, found at path prefix ("" for
// the document) or in the items of a list.
func (s *schema) walk(t reflect.Type, prefix string, inList bool) {
	if _, seen := s.fields[t.String()]; seen {
		return
	}
	var names []string
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "" || name == "-" {
			continue
		}
		names = append(names, name)
		path := name
		if prefix != "" {
			path = prefix + "." + name
			if !inList {
				s.paths = append(s.paths, path)
			}
		}
		ft := f.Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		switch {
		case ft.Kind() == reflect.Struct:
			s.walk(ft, path, inList)
		case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct:
			s.walk(ft.Elem(), path+"[]", true)
		}
	}
	s.fields[t.String()] = names
}

// suggestField is the known field an unknown key of a mapping of type
// goType most likely meant: a field of the same mapping a typo away (nmae:
// name, cpu: cpus, memmory: memory, case aside), else a field of that name
// elsewhere in the document (port: registry.port). "" when none is close.
func suggestField(key, goType string) string {
	sc := documentSchema()
	best, bestDist := "", -1
	for _, f := range sc.fields[goType] {
		d := editDistance(strings.ToLower(key), strings.ToLower(f))
		if d <= maxTypos(key) && (bestDist < 0 || d < bestDist) {
			best, bestDist = f, d
		}
	}
	if best != "" {
		return best
	}
	if goType != reflect.TypeOf(File{}).String() {
		// Below the top level, a top-level field given one level too deep.
		for _, f := range sc.fields[reflect.TypeOf(File{}).String()] {
			if strings.EqualFold(f, key) {
				return "the top-level " + f
			}
		}
	}
	for _, p := range sc.paths {
		if leaf := p[strings.LastIndex(p, ".")+1:]; strings.EqualFold(leaf, key) {
			return p
		}
	}
	return ""
}

// maxTypos is how far a key may be from a field and still be taken for it.
func maxTypos(key string) int {
	switch n := len(key); {
	case n <= 2:
		return 0
	case n <= 5:
		return 1
	default:
		return 2
	}
}

// editDistance is the optimal string alignment distance of a and b:
// insertions, deletions, substitutions and transpositions of neighbours
// (nmae → name is one).
func editDistance(a, b string) int {
	x, y := []rune(a), []rune(b)
	d := make([][]int, len(x)+1)
	for i := range d {
		d[i] = make([]int, len(y)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(x); i++ {
		for j := 1; j <= len(y); j++ {
			cost := 1
			if x[i-1] == y[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && x[i-1] == y[j-2] && x[i-2] == y[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(x)][len(y)]
}
