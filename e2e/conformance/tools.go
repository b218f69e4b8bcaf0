//go:build tools

// Package conformance records the OCI conformance suite as a dependency of
// this module; the e2e tier builds it with
// `go build github.com/opencontainers/distribution-spec/conformance`.
package conformance

import _ "github.com/opencontainers/distribution-spec/conformance"
