package minikube

import (
	"encoding/json"
	"fmt"
)

func (s *invocation) version(p *parsed) int {
	switch o := p.str("output"); {
	case p.has("short"):
		fmt.Fprintln(s.env.Stdout, Version)
	case o == "json":
		b, _ := json.Marshal(map[string]string{"commit": Commit, "minikubeVersion": Version})
		fmt.Fprintln(s.env.Stdout, string(b))
	case o == "yaml":
		fmt.Fprintf(s.env.Stdout, "commit: %s\nminikubeVersion: %s\n\n", Commit, Version)
	case o == "":
		fmt.Fprintf(s.env.Stdout, "minikube version: %s\ncommit: %s\n", Version, Commit)
	default:
		fmt.Fprintln(s.env.Stderr, "error: --output must be 'yaml' or 'json'")
		return exProgramError
	}
	return 0
}
