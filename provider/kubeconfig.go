package provider

import (
	"fmt"
	"path/filepath"
	"strings"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/devcluster/devcluster/internal/kubeconfig"
)

// Kubeconfig is the kubeconfig devcluster reads and its providers write:
// the explicit file of --kubeconfig, else client-go's rules (the files of
// $KUBECONFIG merged, else ~/.kube/config), with the environment read
// through Env so that tests control it.
type Kubeconfig struct {
	// Path is the explicit file; "" follows the rules.
	Path string
	// Env reads KUBECONFIG and HOME; nil is the process environment.
	Env func(string) (string, bool)
}

// Rules are client-go's loading rules for the kubeconfig.
func (k Kubeconfig) Rules() *clientcmd.ClientConfigLoadingRules {
	return kubeconfig.Rules(k.Path, k.Env)
}

// Files names the kubeconfig file or files, for messages.
func (k Kubeconfig) Files() string {
	if k.Path != "" {
		return k.Path
	}
	var files []string
	for _, f := range k.Rules().Precedence {
		if f != "" {
			files = append(files, f)
		}
	}
	return strings.Join(files, string(filepath.ListSeparator))
}

// Load reads the kubeconfig, merged as kubectl merges it. Missing files
// of $KUBECONFIG are no error; a missing explicit file is.
func (k Kubeconfig) Load() (*clientcmdapi.Config, error) {
	cfg, err := k.Rules().Load()
	if err != nil {
		return nil, fmt.Errorf("reading the kubeconfig (%s): %w", k.Files(), err)
	}
	return cfg, nil
}

// HasContext reports whether the kubeconfig has the context; an unreadable
// kubeconfig has none.
func (k Kubeconfig) HasContext(name string) bool {
	cfg, err := k.Load()
	return err == nil && cfg.Contexts[name] != nil
}
