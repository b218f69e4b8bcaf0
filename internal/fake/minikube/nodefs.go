package minikube

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// A stand-in node has no machine. Without STANDIN_SSH_EXEC its file system
// is a directory per node under the machine directory, and `ssh` and `cp`
// act on it for the few commands devcluster runs there (mkdir -p, cat);
// node paths are always resolved inside that directory, never on the host.
// With STANDIN_SSH_EXEC both run in the environment that prefix enters (the
// e2e tiers' node namespaces).

// nodeRoot is the directory standing in for a node's "/".
func (s *invocation) nodeRoot(profile, node string) string {
	return filepath.Join(s.machineDir(profile), "fs", node)
}

// nodePath maps an absolute node path into the node's directory.
func (s *invocation) nodePath(profile, node, p string) string {
	return filepath.Join(s.nodeRoot(profile, node), filepath.FromSlash(path.Clean("/"+p)))
}

// nodeNames lists a profile's node names; the primary node is named after
// the profile.
func nodeNames(cc *clusterConfig) []string {
	out := []string{}
	for _, n := range cc.Nodes {
		if n.Name == "" {
			out = append(out, cc.Name)
		} else {
			out = append(out, n.Name)
		}
	}
	return out
}

// emulate runs a node command line on the node's directory: `[sudo] mkdir
// -p DIR...` and `[sudo] cat FILE...`. Other commands are only recorded.
// It returns the exit status of the command.
func (s *invocation) emulate(profile, node, line string) int {
	words, err := shellWords(line)
	if err != nil || len(words) == 0 {
		return 0
	}
	if words[0] == "sudo" {
		words = words[1:]
	}
	if len(words) == 0 {
		return 0
	}
	switch words[0] {
	case "mkdir":
		if len(words) < 2 || words[1] != "-p" {
			return 0
		}
		for _, d := range words[2:] {
			if err := os.MkdirAll(s.nodePath(profile, node, d), 0o755); err != nil {
				fmt.Fprintf(s.env.Stderr, "mkdir: cannot create directory '%s': %v\n", d, err)
				return 1
			}
		}
	case "cat":
		status := 0
		for _, f := range words[1:] {
			b, err := os.ReadFile(s.nodePath(profile, node, f))
			if err != nil {
				fmt.Fprintf(s.env.Stderr, "cat: %s: No such file or directory\n", f)
				status = 1
				continue
			}
			// The native ssh client allocates a terminal: CRLF line ends.
			_, _ = s.env.Stdout.Write([]byte(strings.ReplaceAll(string(b), "\n", "\r\n")))
		}
		return status
	}
	return 0
}

// shellWords splits a POSIX command line: single and double quotes and
// backslash escapes; no expansions (the stand-in runs nothing).
func shellWords(line string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == '\'':
			j := strings.IndexByte(line[i+1:], '\'')
			if j < 0 {
				return nil, errors.New("unterminated quote")
			}
			cur.WriteString(line[i+1 : i+1+j])
			i += j + 1
			inWord = true
		case c == '"':
			i++
			for ; i < len(line) && line[i] != '"'; i++ {
				if line[i] == '\\' && i+1 < len(line) && strings.IndexByte("$`\"\\\n", line[i+1]) >= 0 {
					i++
				}
				cur.WriteByte(line[i])
			}
			if i >= len(line) {
				return nil, errors.New("unterminated quote")
			}
			inWord = true
		case c == '\\' && i+1 < len(line):
			i++
			cur.WriteByte(line[i])
			inWord = true
		case c == ' ' || c == '\t' || c == '\n':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}

// cp is `minikube cp SRC [NODE:]DST` from the host to a node (cmd/cp.go):
// two arguments, an existing source, an absolute target on an existing
// node. The docker and podman drivers copy with `docker cp`, which needs
// the target's directory to exist; VM drivers scp as root after `sudo mkdir
// -p`. The file arrives owned by root with mode 0644.
func (s *invocation) cp(p *parsed) int {
	o := &out{s: s}
	if len(p.rest) != 2 {
		return o.Fatal(exProgramUsage, "MK_USAGE", "Please specify the path to copy: \n\tminikube cp <source file path> <target file absolute path> (example: \"minikube cp a/b.txt /copied.txt\")", "")
	}
	src, dst := p.rest[0], p.rest[1]
	node := ""
	if n, rest, ok := strings.Cut(dst, ":"); ok && n != "" && !strings.Contains(n, "/") && strings.HasPrefix(rest, "/") {
		node, dst = n, rest
	}
	if strings.HasSuffix(dst, "/") {
		dst = path.Join(dst, filepath.Base(src))
	}
	if node == "" && !strings.HasPrefix(dst, "/") {
		return o.Fatal(exProgramUsage, "MK_USAGE", `Target <remote file path> must be an absolute Path. Relative Path is not allowed (example: "minikube:/home/docker/copied.txt")`, "")
	}
	cc, code := s.running(o)
	if cc == nil {
		return code
	}
	if node == "" {
		node = cc.Name
	}
	if !slices.Contains(nodeNames(cc), node) {
		return o.Fatal(exGuestNotFound, "GUEST_NODE_RETRIEVE", fmt.Sprintf("Node %s does not exist.", node), "")
	}
	content, err := os.ReadFile(src)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return o.Fatal(exHostNotFound, "HOST_PATH_MISSING", fmt.Sprintf("Cannot find directory %s for copy", src), "")
		}
		return o.Fatal(exHostError, "HOST_PATH_STAT", "stat failed: "+err.Error(), "")
	}
	kic := cc.Driver == "docker" || cc.Driver == "podman"
	fail := func(err string) int {
		return o.Fatal(exProgramError, "MK_COMMAND_RUNNER", fmt.Sprintf("Fail to copy file %s: %s", src, err), "")
	}
	s.record(cc.Name, "cp.log", []string{node, dst})
	if prefix := strings.Fields(s.env.get("STANDIN_SSH_EXEC")); len(prefix) > 0 {
		script := `d=$(dirname "$1"); if [ "$2" = kic ]; then [ -d "$d" ] || { echo "Error response from daemon: Could not find the file $d in container $3" >&2; exit 3; }; else mkdir -p "$d"; fi; cat > "$1" && chmod 0644 "$1"`
		mode := "vm"
		if kic {
			mode = "kic"
		}
		full := append(append([]string(nil), prefix...), "sh", "-c", script, "sh", dst, mode, node)
		c := exec.CommandContext(s.ctx, full[0], full[1:]...)
		c.Stdin = strings.NewReader(string(content))
		var stderr strings.Builder
		c.Stdout, c.Stderr = s.env.Stdout, &stderr
		if err := c.Run(); err != nil {
			return fail(strings.TrimSpace(stderr.String()))
		}
		return 0
	}
	target := s.nodePath(cc.Name, node, dst)
	if kic {
		if fi, err := os.Stat(filepath.Dir(target)); err != nil || !fi.IsDir() {
			return fail(fmt.Sprintf("Error response from daemon: Could not find the file %s in container %s", path.Dir(dst), node))
		}
	} else if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return fail(err.Error())
	}
	if err := os.WriteFile(target, content, 0o644); err != nil {
		return fail(err.Error())
	}
	return 0
}

// record appends argv as one JSON line to a log in the profile directory.
func (s *invocation) record(profile, file string, argv []string) {
	f, err := os.OpenFile(filepath.Join(s.profileDir(profile), file), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return
	}
	b, _ := json.Marshal(argv)
	fmt.Fprintln(f, string(b))
	_ = f.Close()
}
