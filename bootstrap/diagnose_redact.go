package bootstrap

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/yaml"

	"github.com/devcluster/devcluster/internal/run"
)

// redactedKubeconfig is the kubeconfig of one context — the context kctx
// ("" = the current one), its cluster and its user, minified — with every
// credential replaced: tokens, passwords, client keys, auth-provider
// configuration, the exec plugin's environment and argument values, the
// passwords of the server and proxy URLs, and every extension.
func redactedKubeconfig(raw *clientcmdapi.Config, kctx string) ([]byte, error) {
	c := raw.DeepCopy()
	if kctx != "" {
		c.CurrentContext = kctx
	}
	if c.CurrentContext == "" {
		return nil, fmt.Errorf("no context is in use (the kubeconfig sets no current-context)")
	}
	if err := clientcmdapi.MinifyConfig(c); err != nil {
		return nil, err
	}
	redactExtensions(c.Extensions)
	redactExtensions(c.Preferences.Extensions)
	for _, x := range c.Contexts {
		redactExtensions(x.Extensions)
	}
	for _, x := range c.Clusters {
		x.Server = run.RedactURL(x.Server)
		x.ProxyURL = run.RedactURL(x.ProxyURL)
		redactExtensions(x.Extensions)
	}
	for _, a := range c.AuthInfos {
		redactString(&a.Token)
		redactString(&a.Password)
		redactString(&a.TokenFile)
		if len(a.ClientKeyData) > 0 {
			a.ClientKeyData = []byte(run.Redacted)
		}
		if a.AuthProvider != nil {
			for k := range a.AuthProvider.Config {
				a.AuthProvider.Config[k] = run.Redacted
			}
		}
		if a.Exec != nil {
			for i := range a.Exec.Env {
				a.Exec.Env[i].Value = run.Redacted
			}
			a.Exec.Args = redactArgs(a.Exec.Args)
		}
		redactExtensions(a.Extensions)
	}
	return clientcmd.Write(*c)
}

func redactString(s *string) {
	if *s != "" {
		*s = run.Redacted
	}
}

// redactExtensions keeps each extension's name (which says what wrote it)
// and replaces its contents.
func redactExtensions(m map[string]runtime.Object) {
	for k := range m {
		m[k] = &runtime.Unknown{Raw: []byte(`"` + run.Redacted + `"`), ContentType: runtime.ContentTypeJSON}
	}
}

// flagName is an argument that is only the name of a flag.
var flagName = regexp.MustCompile(`^--?[A-Za-z][A-Za-z0-9_.-]*$`)

// redactArgs keeps the names of an exec plugin's flags and replaces every
// value and every other word: --oidc-client-secret=x becomes
// --oidc-client-secret=REDACTED, and in `--password x` the x goes.
func redactArgs(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		name, _, hasValue := strings.Cut(a, "=")
		switch {
		case hasValue && flagName.MatchString(name):
			out[i] = name + "=" + run.Redacted
		case !hasValue && flagName.MatchString(a):
			out[i] = a
		default:
			out[i] = run.Redacted
		}
	}
	return out
}

// lastApplied is kubectl's copy of the applied manifest, env values and
// all.
const lastApplied = "kubectl.kubernetes.io/last-applied-configuration"

// redactedYAML is obj as YAML with the literal value of every environment
// variable of every container list in it (containers, init and ephemeral
// containers, also inside kubectl's last-applied annotation) replaced:
// such values often are credentials. References (valueFrom) stay: they
// name a Secret or ConfigMap, not its contents.
func redactedYAML(obj any) ([]byte, error) {
	var m any
	if o, ok := obj.(runtime.Object); ok {
		u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(o)
		if err != nil {
			return nil, err
		}
		m = u
	} else {
		m = obj
	}
	redactEnv(m)
	return yaml.Marshal(m)
}

func redactEnv(v any) {
	switch t := v.(type) {
	case map[string]any:
		for k, child := range t {
			switch k {
			case "containers", "initContainers", "ephemeralContainers":
				list, _ := child.([]any)
				for _, c := range list {
					if c, ok := c.(map[string]any); ok {
						redactEnvList(c["env"])
					}
				}
			case "annotations":
				if a, ok := child.(map[string]any); ok {
					if s, ok := a[lastApplied].(string); ok {
						a[lastApplied] = redactedJSON(s)
					}
				}
			}
			redactEnv(child)
		}
	case []any:
		for _, c := range t {
			redactEnv(c)
		}
	}
}

func redactEnvList(env any) {
	list, _ := env.([]any)
	for _, e := range list {
		if e, ok := e.(map[string]any); ok {
			if v, ok := e["value"].(string); ok && v != "" {
				e["value"] = run.Redacted
			}
		}
	}
}

// redactedJSON is a manifest in JSON with its env values redacted; what
// does not parse is replaced as a whole.
func redactedJSON(s string) string {
	var m any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return run.Redacted
	}
	redactEnv(m)
	b, err := json.Marshal(m)
	if err != nil {
		return run.Redacted
	}
	return string(b)
}

// secretName is a flag, variable or field name whose value is a
// credential.
const secretName = `[A-Za-z0-9_.-]*(?i:pass(?:word|wd)?|secret|token|credential|api[-_]?key|private[-_]?key|authorization)[A-Za-z0-9_.-]*`

var (
	bearer       = regexp.MustCompile(`(?i)((?:bearer|basic)\s+)[A-Za-z0-9._~+/=-]+`)
	secretFlag   = regexp.MustCompile(`(--?` + secretName + `)(\s+)[^\s-]\S*`)
	secretAssign = regexp.MustCompile(`(` + secretName + `)("?\s*[=:]\s*"?)[^\s"',\]\})]+`)
)

// redactLogText replaces what looks like a credential in a tool's logs:
// minikube's repeat the start flags (its audit table, the cluster
// configuration of the last start), so --docker-env=AWS_SECRET_ACCESS_KEY=…,
// a registry mirror's password or kubeadm's --token would reach the bundle.
// URL passwords and lone user names (tokens), bearer and basic
// credentials, the values of secret-named flags and of
// secret-named NAME=value and name: value pairs are replaced.
func redactLogText(b []byte) []byte {
	b = run.RedactURLsInText(b)
	b = bearer.ReplaceAll(b, []byte("${1}"+run.Redacted))
	b = secretFlag.ReplaceAll(b, []byte("${1}${2}"+run.Redacted))
	return secretAssign.ReplaceAll(b, []byte("${1}${2}"+run.Redacted))
}
