package config

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"gopkg.in/yaml.v3"

	"github.com/devcluster/devcluster/internal/testutil"
)

// compiledSchema is Schema, compiled by a JSON Schema validator.
func compiledSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(Schema))
	if err != nil {
		t.Fatalf("the schema is not JSON: %v", err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("devcluster.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("devcluster.schema.json")
	if err != nil {
		t.Fatalf("the schema does not compile: %v", err)
	}
	return s
}

// validate checks a YAML document against the schema.
func validate(s *jsonschema.Schema, data []byte) error {
	var v any
	if err := yaml.Unmarshal(data, &v); err != nil {
		return err
	}
	j, err := json.Marshal(v)
	if err != nil {
		return err
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(j))
	if err != nil {
		return err
	}
	return s.Validate(inst)
}

// load checks a document as devcluster does: Decode, then Complete.
func load(path string, data []byte) (*Config, error) {
	src, err := Decode(path, data)
	if src == nil {
		return nil, err
	}
	if err != nil {
		return nil, err
	}
	return Complete(src, Overrides{BaseDir: filepath.Dir(path), Home: "/home/u"})
}

// The schema names every field the loader knows, with a type the loader
// decodes, and no other: both are walked, the File type by its yaml tags.
func TestSchemaHasTheLoadersFields(t *testing.T) {
	var root map[string]any
	if err := json.Unmarshal(Schema, &root); err != nil {
		t.Fatal(err)
	}
	compareFields(t, "", reflect.TypeOf(File{}), root)
}

func compareFields(t *testing.T, at string, typ reflect.Type, obj map[string]any) {
	t.Helper()
	if obj["type"] != "object" || obj["additionalProperties"] != false {
		t.Errorf("%s: the schema's object is not closed (type object, additionalProperties false), as the loader is strict", orRoot(at))
	}
	props, _ := obj["properties"].(map[string]any)
	var fromType []string
	for i := range typ.NumField() {
		f := typ.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "" || name == "-" {
			continue
		}
		fromType = append(fromType, name)
		p, ok := props[name].(map[string]any)
		if !ok {
			t.Errorf("%s%s: known to the loader, missing from the schema", at, name)
			continue
		}
		if d, _ := p["description"].(string); d == "" && name != "apiVersion" && name != "kind" {
			t.Errorf("%s%s: no description (editors show it)", at, name)
		}
		checkType(t, at+name, f.Type, p)
	}
	var fromSchema []string
	for k := range props {
		fromSchema = append(fromSchema, k)
	}
	sort.Strings(fromType)
	sort.Strings(fromSchema)
	for _, k := range fromSchema {
		if !slices.Contains(fromType, k) {
			t.Errorf("%s%s: in the schema, unknown to the loader", at, k)
		}
	}
}

func orRoot(s string) string {
	if s == "" {
		return "the document"
	}
	return s
}

// checkType holds a property of the schema to the Go type the loader
// decodes it into.
func checkType(t *testing.T, at string, typ reflect.Type, p map[string]any) {
	t.Helper()
	if typ.Kind() == reflect.Pointer {
		typ = typ.Elem()
	}
	var types []string
	switch v := p["type"].(type) {
	case string:
		types = []string{v}
	case []any:
		for _, x := range v {
			types = append(types, x.(string))
		}
	}
	if c, ok := p["const"]; ok {
		types = append(types, jsonType(c))
	}
	if e, ok := p["enum"].([]any); ok {
		for _, x := range e {
			types = append(types, jsonType(x))
		}
	}
	want := map[reflect.Kind]string{reflect.String: "string", reflect.Int: "integer", reflect.Bool: "boolean", reflect.Slice: "array", reflect.Struct: "object"}[typ.Kind()]
	if want == "" || !slices.Contains(types, want) {
		t.Errorf("%s: the loader decodes a %s, the schema allows %q", at, typ, types)
		return
	}
	// A string field takes a YAML number too (cpus: 4): the schema may say
	// so, and must not allow anything else.
	for _, ty := range types {
		if ty != want && !(want == "string" && ty == "integer") {
			t.Errorf("%s: the schema allows %s, the loader decodes a %s", at, ty, typ)
		}
	}
	switch typ.Kind() {
	case reflect.Struct:
		compareFields(t, at+".", typ, p)
	case reflect.Slice:
		items, _ := p["items"].(map[string]any)
		if items == nil {
			t.Errorf("%s: an array without items", at)
			return
		}
		checkType(t, at+"[]", typ.Elem(), items)
	}
}

func jsonType(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case bool:
		return "boolean"
	case float64:
		return "integer"
	}
	return "?"
}

// Every devcluster.yaml the repository shows — the example files and the
// blocks of README.md and docs/ — is valid for the schema and loads as
// written. The README's minimal file and the configuration page's full one
// must be among them, so moving a page does not leave its blocks unchecked.
func TestExamplesAndDocsFollowTheSchemaAndLoad(t *testing.T) {
	s := compiledSchema(t)
	type doc struct {
		name string
		path string
		data []byte
	}
	var docs []doc
	files, _ := filepath.Glob("../examples/*.yaml")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, doc{f, f, b})
	}
	blocks, err := testutil.DocBlocks("..", "yaml")
	if err != nil {
		t.Fatal(err)
	}
	pages := map[string]int{}
	for _, b := range blocks {
		if !strings.Contains(b.Text(), "apiVersion: "+APIVersion) {
			continue
		}
		pages[b.Page]++
		docs = append(docs, doc{b.Where() + " block", filepath.Join("..", b.Page), []byte(b.Text())})
	}
	if len(files) < 2 || pages["README.md"] < 1 || pages["docs/configuration.md"] < 1 {
		t.Fatalf("found %d example files and devcluster.yaml blocks %v; want README.md's and docs/configuration.md's", len(files), pages)
	}
	for _, d := range docs {
		if err := validate(s, d.data); err != nil {
			t.Errorf("%s: not valid for the schema: %v", d.name, err)
		}
		if _, err := load(d.path, d.data); err != nil {
			t.Errorf("%s: does not load: %v", d.name, err)
		}
	}
}

// Where the loader refuses a document for its shape — a field it does not
// know, one of another provider, a value of a fixed set — the schema
// refuses it too, so an editor warns before up does.
func TestSchemaRefusesWhatTheLoaderRefuses(t *testing.T) {
	s := compiledSchema(t)
	head := "apiVersion: devcluster.dev/v1alpha1\nkind: Cluster\n"
	for _, body := range []string{
		"nmae: dev\n",
		"provider: minikube\nportMappings:\n  - containerPort: 30080\n",
		"workers: 1\n",
		"provider: kind\ncpus: 4\n",
		"provider: kind\nkubernetesVersion: stable\n",
		"provider: existing\ncontext: c\ndriver: docker\n",
		"provider: docker\n",
		"context: c\n",
		"registry:\n  port: 70000\n",
		"registry:\n  prot: 5001\n",
		"containerRuntime: rkt\n",
		"cpus: lots\n",
		"memory: 4 gigs\n",
		"wait: soon\n",
		"portMappings:\n  - hostPort: 8080\n",
		"install:\n  kindURL: ftp://mirror/kind\n",
		"name: Dev\n",
	} {
		data := []byte(head + body)
		if _, err := load("devcluster.yaml", data); err == nil {
			t.Errorf("the loader accepts %q (the test's premise)", body)
		}
		if err := validate(s, data); err == nil {
			t.Errorf("the schema accepts %q, which the loader refuses", body)
		}
	}
	for _, body := range []string{"", "cpus: 4\nmemory: 8192\n", "cpus: max\nmemory: 2.5g\n", "provider: kind\nworkers: 2\nkubernetesVersion: v1.35.1\n",
		"provider: existing\ncontext: staging\nregistry:\n  enabled: false\nloadBalancer:\n  enabled: false\n", "portMappings: []\ncontext: \"\"\n"} {
		data := []byte(head + body)
		if _, err := load("devcluster.yaml", data); err != nil {
			t.Errorf("the loader refuses %q (the test's premise): %v", body, err)
		}
		if err := validate(s, data); err != nil {
			t.Errorf("the schema refuses %q, which the loader accepts: %v", body, err)
		}
	}
}

// config init's file loads as written for every provider, follows the
// schema, points editors to it in its first line, and explains itself.
func TestTemplatesLoadAndFollowTheSchema(t *testing.T) {
	s := compiledSchema(t)
	for _, tc := range []struct{ provider, name, context string }{
		{"minikube", "", ""}, {"", "dev", ""}, {"kind", "ci-1", ""}, {"existing", "", "staging"}, {"existing", "prod", `we"ird: ctx #1`},
	} {
		text, err := Template(tc.provider, tc.name, tc.context, SchemaURL("v1.2.3"))
		if err != nil {
			t.Fatalf("%+v: %v", tc, err)
		}
		first, _, _ := strings.Cut(text, "\n")
		if first != "# yaml-language-server: $schema=https://raw.githubusercontent.com/devcluster/devcluster/v1.2.3/config/devcluster.schema.json" {
			t.Errorf("%+v: first line %q", tc, first)
		}
		if n := strings.Count(text, "\n#") + strings.Count(text, "  #"); n < 8 {
			t.Errorf("%+v: %d comments", tc, n)
		}
		if err := validate(s, []byte(text)); err != nil {
			t.Errorf("%+v: not valid for the schema: %v\n%s", tc, err, text)
		}
		cfg, err := load("devcluster.yaml", []byte(text))
		if err != nil {
			t.Errorf("%+v: does not load: %v\n%s", tc, err, text)
			continue
		}
		want := cmpOr(tc.provider, DefaultProvider)
		if cfg.Provider != want || cfg.Name != cmpOr(tc.name, DefaultName) || cfg.Context != tc.context {
			t.Errorf("%+v: loads as %+v", tc, cfg)
		}
	}
	for _, tc := range []struct{ provider, name, context string }{{"minikube", "", "c"}, {"kind", "", "c"}, {"existing", "", ""}, {"docker", "", ""}, {"", "Bad_Name", ""}} {
		if _, err := Template(tc.provider, tc.name, tc.context, SchemaURL("")); err == nil {
			t.Errorf("Template(%+v) succeeded", tc)
		}
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// config view's document loads back as the same configuration, for every
// provider and with values away from the defaults.
func TestEffectiveLoadsBackAsTheSameConfig(t *testing.T) {
	s := compiledSchema(t)
	head := "apiVersion: devcluster.dev/v1alpha1\nkind: Cluster\n"
	for _, body := range []string{
		"",
		"name: ci\ncpus: max\nmemory: 6144\ndriver: docker\ncontainerRuntime: cri-o\nkubernetesVersion: 1.35\ninsecureRegistries: [10.0.0.0/8]\nextraStartArgs: [--addons=metrics-server]\nwait: 90s\nregistry:\n  port: 5002\n  clusterAddress: 192.168.49.1\n  listenAddresses: [127.0.0.1]\n  dataDir: data\nloadBalancer:\n  ip: 192.168.49.2\nworkloads:\n  samples: false\n  manifests: [k8s/]\n  timeout: 1h\ninstall:\n  minikubeURL: https://mirror.internal/minikube\n",
		"provider: kind\nworkers: 2\nkubernetesVersion: v1.35.1\nportMappings:\n  - containerPort: 30080\n    protocol: udp\n",
		"provider: existing\ncontext: staging\nregistry:\n  enabled: false\nloadBalancer:\n  enabled: false\n",
	} {
		cfg, err := load("/src/app/devcluster.yaml", []byte(head+body))
		if err != nil {
			t.Fatalf("%q: %v", body, err)
		}
		var out bytes.Buffer
		enc := yaml.NewEncoder(&out)
		if err := enc.Encode(cfg.Effective()); err != nil {
			t.Fatal(err)
		}
		again, err := load("/elsewhere/devcluster.yaml", out.Bytes())
		if err != nil {
			t.Errorf("%q: the effective document does not load: %v\n%s", body, err, out.String())
			continue
		}
		if !reflect.DeepEqual(again, cfg) {
			t.Errorf("%q: loads back as\n%+v\nnot\n%+v\n%s", body, again, cfg, out.String())
		}
		if err := validate(s, out.Bytes()); err != nil {
			t.Errorf("%q: the effective document is not valid for the schema: %v", body, err)
		}
	}
}
