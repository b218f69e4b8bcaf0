//go:build contract

package dockercontract

import "strings"

// accepted are the differences between the real engine and the stand-in
// that neither kind nor devcluster depends on, each with its reason. Every
// other difference fails the tier.
var accepted = []struct {
	// command is the start of the command line ("" for any); state is
	// the state ("" for any); aspect is the aspect compared.
	command, state, aspect, reason string
}{}

func acceptedReason(state string, args []string, d difference) string {
	line := strings.Join(args, " ")
	for _, a := range accepted {
		if strings.HasPrefix(line, a.command) && (a.state == "" || a.state == state) && a.aspect == d.aspect {
			return a.reason
		}
	}
	return ""
}
