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
}{
	{"version --format {{.Server.Version}}", "", "stdout",
		"the engine's version: Debian's dockerd 20.10 here, Docker Engine 28.2.2 in the stand-in; devcluster and kind only need the command to succeed"},
	{"info --format {{json .}}", "", "field CgroupDriver",
		"the host's: this machine's cgroup v1 hierarchy is driven by cgroupfs, the stand-in answers as the common systemd host"},
	{"info --format {{json .}}", "", "field CgroupVersion",
		"the host's: this machine mounts cgroup v1, the stand-in answers as a cgroup v2 host (kind passes --cgroupns=private either way)"},
	{"run ", network, "exit code", privileged},
	{"run ", network, "stderr class", privileged},
	{"run ", network, "stdout", privileged},
	{"logs ", "", "stdout",
		"the node's own output: the stand-in's node prints the systemd lines of a booted kind node, which kind waits for; the contract's node runs sleep and prints nothing"},
}

const privileged = "this machine cannot start a privileged container (CAP_SYS_RESOURCE is not in its bounding set: " +
	"\"unable to apply caps\"), and a kind node is one; the stand-in starts it as a host that can does"

func acceptedReason(state string, args []string, d difference) string {
	line := strings.Join(args, " ")
	for _, a := range accepted {
		if strings.HasPrefix(line, a.command) && (a.state == "" || a.state == state) && a.aspect == d.aspect {
			return a.reason
		}
	}
	return ""
}
