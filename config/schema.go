package config

import _ "embed"

// Schema is the JSON Schema of devcluster.yaml (`devcluster config schema`),
// for editors: a file that starts with
//
//	# yaml-language-server: $schema=<SchemaURL>
//
// is checked and completed as it is typed. It is kept by hand beside the
// types, and a test holds the two to the same fields.
//
//go:embed devcluster.schema.json
var Schema []byte

// SchemaURL is where editors fetch the schema of a release: the file in
// the repository at the release's tag (ref), or at main for a build that
// is not a release.
func SchemaURL(ref string) string {
	if ref == "" {
		ref = "main"
	}
	return "https://raw.githubusercontent.com/devcluster/devcluster/" + ref + "/config/devcluster.schema.json"
}
