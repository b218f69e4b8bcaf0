package docker

import (
	"fmt"
	"net/netip"
	"os"
	"strings"
)

// daemonDown returns the real client's message when DOCKER_HOST names a
// unix socket that does not exist, else "".
func daemonDown(env Env) string {
	host := env.get("DOCKER_HOST")
	sock, ok := strings.CutPrefix(host, "unix://")
	if !ok {
		return ""
	}
	if _, err := os.Stat(sock); err == nil {
		return ""
	}
	return "Cannot connect to the Docker daemon at " + host + ". Is the docker daemon running?"
}

// down answers a command as the real client does when the daemon does not
// answer: what a --format template prints of empty data (an empty line
// for a lookup or `version`), "[]" for an inspect without one, then the
// message; exit 1, or 125 for `run`.
func down(env Env, args []string, msg string) int {
	s := &invocation{env: env}
	cmd := args[0]
	if (cmd == "container" || cmd == "network" || cmd == "system") && len(args) > 1 {
		cmd += " " + args[1]
	}
	f, pos := flags(args[1:], "--format", "-f", "--type", "--filter")
	t := s.format(f)
	switch cmd {
	case "version", "inspect", "container inspect", "network inspect":
		switch {
		case t != "" && cmd == "version":
			fmt.Fprintln(env.Stdout)
		case t != "":
			// One empty line per name asked for.
			for range max(1, len(pos)-strings.Count(cmd, " ")) {
				fmt.Fprintln(env.Stdout)
			}
		case cmd != "version":
			fmt.Fprintln(env.Stdout, "[]")
		}
	case "info", "system info":
		if t != "" {
			s.render(t, zeroInfo())
		}
	}
	fmt.Fprintln(env.Stderr, msg)
	switch cmd {
	case "run":
		return 125
	case "start":
		fmt.Fprintf(env.Stderr, "Error: failed to start containers: %s\n", strings.Join(pos, ", "))
	}
	return 1
}

// zeroInfo is infoData with every value empty: what the client formats
// when it has no answer.
func zeroInfo() map[string]any {
	z := map[string]any{}
	for k, v := range infoData() {
		switch v.(type) {
		case string:
			z[k] = ""
		case bool:
			z[k] = false
		case int, int64:
			z[k] = 0
		default:
			z[k] = nil
		}
	}
	return z
}

// gateway is a network's gateway: the one given, else the first address
// of the subnet, as the daemon's default IPAM picks it.
func gateway(subnet string, given []string) (string, error) {
	p, err := netip.ParsePrefix(subnet)
	if err != nil {
		return "", fmt.Errorf("invalid subnet %s: %v", subnet, err)
	}
	if len(given) > 0 && given[len(given)-1] != "" {
		gw, err := netip.ParseAddr(given[len(given)-1])
		if err != nil || !p.Contains(gw) {
			return "", fmt.Errorf("no matching subnet for gateway %s", given[len(given)-1])
		}
		return gw.String(), nil
	}
	return p.Masked().Addr().Next().String(), nil
}

// nthHost is the n-th address after the gateway (the daemon hands out
// addresses in order).
func nthHost(gw string, n int) string {
	a, err := netip.ParseAddr(gw)
	if err != nil {
		return ""
	}
	for range n {
		a = a.Next()
	}
	return a.String()
}
