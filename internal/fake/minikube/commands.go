package minikube

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

type invocation struct {
	ctx     context.Context
	env     Env
	profile string
}

var profileNameRE = regexp.MustCompile(`^(([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9\-]*[a-zA-Z0-9])\.)*([A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9\-]*[A-Za-z0-9])$`)

// commands maps command words to flags and handlers.
type command struct {
	flags []flagSpec
	run   func(s *invocation, p *parsed) int
}

var commands = map[string]command{
	"version":        {flags: []flagSpec{{long: "output", short: "o", kind: stringFlag}, {long: "short", kind: boolFlag}, {long: "components", kind: boolFlag}}, run: (*invocation).version},
	"start":          {flags: startFlags, run: (*invocation).start},
	"status":         {flags: []flagSpec{{long: "output", short: "o", kind: stringFlag}, {long: "format", short: "f", kind: stringFlag}, {long: "layout", short: "l", kind: stringFlag}, {long: "node", short: "n", kind: stringFlag}, {long: "watch", short: "w", kind: stringFlag}}, run: (*invocation).status},
	"ip":             {flags: []flagSpec{{long: "node", short: "n", kind: stringFlag}}, run: (*invocation).ip},
	"profile list":   {flags: []flagSpec{{long: "output", short: "o", kind: stringFlag}, {long: "light", short: "l", kind: boolFlag}, {long: "detailed", short: "d", kind: boolFlag}}, run: (*invocation).profileList},
	"stop":           {flags: []flagSpec{{long: "all", kind: boolFlag}, {long: "keep-context-active", kind: boolFlag}, {long: "output", short: "o", kind: stringFlag}}, run: (*invocation).stop},
	"pause":          {flags: []flagSpec{{long: "all-namespaces", short: "A", kind: boolFlag}, {long: "output", short: "o", kind: stringFlag}}, run: (*invocation).pause},
	"unpause":        {flags: []flagSpec{{long: "all-namespaces", short: "A", kind: boolFlag}, {long: "output", short: "o", kind: stringFlag}}, run: (*invocation).unpause},
	"delete":         {flags: []flagSpec{{long: "all", kind: boolFlag}, {long: "purge", kind: boolFlag}, {long: "output", short: "o", kind: stringFlag}}, run: (*invocation).delete},
	"update-context": {run: (*invocation).updateContext},
	"cp":             {run: (*invocation).cp},
	"logs":           {flags: []flagSpec{{long: "file", kind: stringFlag}, {long: "node", short: "n", kind: stringFlag}, {long: "length", kind: stringFlag}}, run: (*invocation).logs},
	"ssh":            {flags: []flagSpec{{long: "node", short: "n", kind: stringFlag}, {long: "native-ssh", kind: stringFlag}}, run: (*invocation).ssh},
	"kubectl":        {flags: []flagSpec{{long: "ssh", kind: boolFlag}}, run: (*invocation).kubectl},
}

var startFlags = []flagSpec{
	{long: "cpus", kind: stringFlag}, {long: "memory", short: "m", kind: stringFlag},
	{long: "driver", short: "d", kind: stringFlag}, {long: "vm-driver", kind: stringFlag},
	{long: "kubernetes-version", kind: stringFlag}, {long: "container-runtime", short: "c", kind: stringFlag},
	{long: "insecure-registry", kind: sliceFlag}, {long: "registry-mirror", kind: sliceFlag},
	{long: "nodes", short: "n", kind: stringFlag}, {long: "wait", kind: sliceFlag}, {long: "wait-timeout", kind: stringFlag},
	{long: "addons", kind: sliceFlag}, {long: "output", short: "o", kind: stringFlag}, {long: "dry-run", kind: boolFlag},
	{long: "keep-context", kind: boolFlag}, {long: "embed-certs", kind: boolFlag}, {long: "force", kind: boolFlag},
	{long: "delete-on-failure", kind: boolFlag}, {long: "apiserver-port", kind: stringFlag}, {long: "extra-config", kind: sliceFlag},
	{long: "disk-size", kind: stringFlag}, {long: "cni", kind: stringFlag}, {long: "namespace", kind: stringFlag},
	{long: "network", kind: stringFlag}, {long: "subnet", kind: stringFlag}, {long: "static-ip", kind: stringFlag},
	{long: "no-kubernetes", kind: boolFlag}, {long: "ha", kind: boolFlag}, {long: "download-only", kind: boolFlag},
	{long: "interactive", kind: boolFlag}, {long: "install-addons", kind: boolFlag},
}

func (s *invocation) main() int {
	args := s.env.Args
	if path := s.env.get("STANDIN_CALL_LOG"); path != "" {
		if f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600); err == nil {
			b, _ := json.Marshal(args)
			fmt.Fprintln(f, string(b))
			_ = f.Close()
		}
	}
	// Command words are the leading non-flag arguments.
	var words []string
	for _, a := range args {
		if strings.HasPrefix(a, "-") {
			break
		}
		words = append(words, a)
	}
	if len(words) == 0 {
		fmt.Fprintln(s.env.Stdout, "minikube provisions and manages local Kubernetes clusters optimized for development workflows.")
		return 0
	}
	key := words[0]
	if key == "profile" && len(words) > 1 && words[1] == "list" {
		key = "profile list"
	}
	cmd, ok := commands[key]
	if !ok {
		fmt.Fprintf(s.env.Stderr, "Error: unknown command %q for \"minikube\"\nRun 'minikube --help' for usage.\n", words[0])
		return exProgramUsage
	}
	p, err := parseFlags(args[len(strings.Fields(key)):], cmd.flags)
	if err != nil {
		fmt.Fprintf(s.env.Stderr, "Error: %v\nSee 'minikube %s --help' for usage.\n", err, key)
		return exProgramUsage
	}
	s.profile = p.str("profile")
	if s.profile == "" {
		s.profile = s.env.get("MINIKUBE_PROFILE")
	}
	if s.profile == "" {
		s.profile = s.configProfile()
	}
	if s.profile == "" {
		s.profile = "minikube"
	}
	return cmd.run(s, p)
}

// configProfile reads "profile" from $MINIKUBE_HOME/.minikube/config/config.json.
func (s *invocation) configProfile() string {
	b, err := os.ReadFile(filepath.Join(s.miniPath(), "config", "config.json"))
	if err != nil {
		return ""
	}
	var m map[string]any
	if json.Unmarshal(b, &m) != nil {
		return ""
	}
	v, _ := m["profile"].(string)
	return v
}

func (s *invocation) output(p *parsed, allowed ...string) (string, bool) {
	o := p.str("output")
	if o == "" {
		o = "text"
	}
	for _, a := range allowed {
		if o == a {
			return o, true
		}
	}
	return o, false
}
