package minikube

import (
	"errors"
	"fmt"
	"os/exec"
	"slices"
	"strings"
)

// ssh records the command in the profile's ssh.log (one JSON array per
// line) and runs it on the node: with STANDIN_SSH_EXEC, prefixed by that
// command, answering as minikube's native client does (exit 1 with "ssh:
// Process exited with status N" when it fails); without, on the node's
// stand-in file system (see emulate).
func (s *invocation) ssh(p *parsed) int {
	o := &out{s: s}
	cc, code := s.running(o)
	if cc == nil {
		return code
	}
	node := cc.Name
	if n := p.str("node"); n != "" {
		if !slices.Contains(nodeNames(cc), n) {
			return o.Fatal(exGuestNotFound, "GUEST_NODE_RETRIEVE", fmt.Sprintf("retrieving node: Could not find node %s", n), "")
		}
		node = n
	}
	argv := append(p.rest, p.dashdash...)
	s.record(cc.Name, "ssh.log", argv)
	// The command reaches the node as one string run by a shell.
	line := strings.Join(argv, " ")
	prefix := strings.Fields(s.env.get("STANDIN_SSH_EXEC"))
	if len(prefix) == 0 {
		if st := s.emulate(cc.Name, node, line); st != 0 {
			fmt.Fprintf(s.env.Stderr, "ssh: Process exited with status %d\n", st)
			return exFailure
		}
		return 0
	}
	full := append(append([]string(nil), prefix...), "sh", "-c", line)
	c := exec.CommandContext(s.ctx, full[0], full[1:]...)
	c.Stdout, c.Stderr = s.env.Stdout, s.env.Stderr
	if err := c.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			fmt.Fprintf(s.env.Stderr, "ssh: Process exited with status %d\n", ee.ExitCode())
			return exFailure
		}
		fmt.Fprintln(s.env.Stderr, "ssh: "+err.Error())
		return exFailure
	}
	return 0
}

// kubectl runs kubectl from PATH with --cluster=<profile> inserted before
// the first flag, as minikube kubectl does.
func (s *invocation) kubectl(p *parsed) int {
	args := p.dashdash
	inserted := false
	var out []string
	for _, a := range args {
		if !inserted && strings.HasPrefix(a, "-") {
			out = append(out, "--cluster="+s.profile)
			inserted = true
		}
		out = append(out, a)
	}
	if !inserted {
		out = append(out, "--cluster="+s.profile)
	}
	c := exec.CommandContext(s.ctx, "kubectl", out...)
	c.Stdout, c.Stderr, c.Stdin = s.env.Stdout, s.env.Stderr, s.env.Stdin
	if err := c.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		fmt.Fprintln(s.env.Stderr, "Error caching kubectl: "+err.Error())
		return exFailure
	}
	return 0
}
