// Package kubeconfig holds the one set of kubeconfig loading rules
// devcluster follows everywhere — when it makes clients, when providers
// read or write contexts, and when a diagnostics bundle copies the context
// out: kubectl's rules, with the environment read through a function so
// that tests control it.
package kubeconfig

import (
	"os"
	"path/filepath"

	"k8s.io/client-go/tools/clientcmd"
)

// Rules are client-go's loading rules: the explicit file if given (a
// missing one is an error), else the files of $KUBECONFIG merged (missing
// ones are skipped), else ~/.kube/config. env reads KUBECONFIG and HOME;
// nil is the process environment.
func Rules(explicitPath string, env func(string) (string, bool)) *clientcmd.ClientConfigLoadingRules {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = explicitPath
	if env == nil {
		env = os.LookupEnv
	}
	// NewDefaultClientConfigLoadingRules reads the process environment;
	// the same rules over env.
	if v, ok := env("KUBECONFIG"); ok && v != "" {
		rules.Precedence = filepath.SplitList(v)
		rules.MigrationRules = nil
	} else if home, ok := env("HOME"); ok && home != "" {
		rules.Precedence = []string{filepath.Join(home, clientcmd.RecommendedHomeDir, clientcmd.RecommendedFileName)}
		rules.MigrationRules = nil
	}
	return rules
}
