//go:build linux

package harness

import (
	"slices"
	"strings"
)

// globalValueFlags are devcluster's global flags that take a value as the
// next argument.
var globalValueFlags = []string{"-f", "--config", "--ci", "--minikube", "--kind", "--kubeconfig"}

// NoMirrors adds --no-mirrors to a devcluster command line that runs `up`.
// The pull-through mirrors are on by default with the real upstreams
// (docker.io, ...) as remotes; a test that does not configure them with a
// loopback remote itself must never have a node pull through them.
func NoMirrors(args []string) []string {
	for i, a := range args {
		if a == "--" {
			return args
		}
		if strings.HasPrefix(a, "-") || (i > 0 && slices.Contains(globalValueFlags, args[i-1])) {
			continue
		}
		if a != "up" || slices.Contains(args, "--no-mirrors") {
			return args
		}
		return append(slices.Clone(args), "--no-mirrors")
	}
	return args
}
