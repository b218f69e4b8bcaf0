//go:build contract

package dockercontract

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// The states a case runs in.
const (
	// noDaemon: DOCKER_HOST names a socket nobody listens on.
	noDaemon = "no daemon"
	// empty: a daemon with no container and no user-defined network.
	empty = "empty"
	// network: the kind network alone, where kind starts its nodes.
	network = "network"
	// node: the kind network and a running container shaped like a kind
	// control-plane node (kind's labels, name, hostname, network and
	// published API server port), not privileged.
	node = "node"
	// stopped: the same container, stopped.
	stopped = "stopped"
	// recreated: the container removed and run again (a cluster deleted
	// and created again), which must get its address back.
	recreated = "recreated"
)

var states = []string{noDaemon, empty, network, node, stopped, recreated}

// clusterName is the kind cluster of the node-shaped container; the
// recorded command lines use it too.
const clusterName = "dc"

// The node-shaped container's setup, run against both daemons.
var (
	createNetwork = []string{"network", "create", "-d=bridge", "-o", "com.docker.network.bridge.enable_ip_masquerade=true",
		"-o", "com.docker.network.driver.mtu=1500", "--subnet", "10.213.18.0/24", "--gateway", "10.213.18.1", "kind"}
	runNode = []string{"run", "--detach", "--name", clusterName + "-control-plane", "--hostname", clusterName + "-control-plane",
		"--label", "io.x-k8s.kind.cluster=" + clusterName, "--label", "io.x-k8s.kind.role=control-plane",
		"--net", "kind", "--publish=127.0.0.1:40443:6443/TCP", nodeImage}
	stopNode = []string{"stop", "-t", "1", clusterName + "-control-plane"}
	rmNode   = []string{"rm", "-f", clusterName + "-control-plane"}
)

func setupOf(state string) [][]string {
	switch state {
	case network:
		return [][]string{createNetwork}
	case node:
		return [][]string{createNetwork, runNode}
	case stopped:
		return [][]string{createNetwork, runNode, stopNode}
	case recreated:
		return [][]string{createNetwork, runNode, rmNode, runNode}
	}
	return nil
}

// outcome is what one docker command produced.
type outcome struct {
	code           int
	stdout, stderr string
}

// class is what kind of error standard error says, the way kind and
// devcluster tell them apart.
func (o outcome) class() string {
	e := o.stderr
	switch {
	case strings.TrimSpace(e) == "":
		return "none"
	case strings.Contains(e, "Cannot connect to the Docker daemon"):
		return "daemon down"
	case strings.Contains(e, "No such container:path"), strings.Contains(e, "Could not find the file"):
		return "no such file in the container"
	case strings.Contains(e, "No such container"):
		return "no such container"
	case strings.Contains(e, "No such object"), strings.Contains(e, "No such image"):
		return "no such object"
	case regexp.MustCompile(`network \S+ not found`).MatchString(e):
		return "network not found"
	case strings.Contains(e, "is not running"):
		return "container not running"
	case strings.Contains(e, "is not paused"):
		return "container not paused"
	case strings.Contains(e, "Conflict"), strings.Contains(e, "already exists"), strings.Contains(e, "already in use"):
		return "conflict"
	case strings.Contains(e, "executable file not found"):
		return "no such executable"
	case strings.Contains(e, "No such file or directory"):
		return "no such file (command's own error)"
	}
	return "other"
}

var (
	longID  = regexp.MustCompile(`\b[0-9a-f]{64}\b`)
	shortID = regexp.MustCompile(`\b[0-9a-f]{12}\b`)
)

// normalized is standard output with the IDs a daemon makes up replaced.
func (o outcome) normalized() string {
	s := longID.ReplaceAllString(o.stdout, "<id>")
	return shortID.ReplaceAllString(s, "<short id>")
}

// daemon is one side of the comparison.
type daemon interface {
	name() string
	// reset brings the daemon to an empty state.
	reset(t *testing.T)
	run(t *testing.T, down bool, stdin string, args ...string) outcome
}

// realDaemon is the Docker Engine through the real client.
type realDaemon struct{}

func (realDaemon) name() string { return "real engine" }

func (realDaemon) reset(t *testing.T) {
	t.Helper()
	if err := engine.Reset(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func (realDaemon) run(t *testing.T, down bool, stdin string, args ...string) outcome {
	t.Helper()
	env := engine.Env()
	if down {
		env = []string{"DOCKER_HOST=unix://" + filepath.Join(work, "nobody-listens.sock"), "DOCKER_CONFIG=" + filepath.Join(work, "config")}
	}
	return execute(t, engine.CLI, env, stdin, args)
}

// standinDaemon is the stand-in with a state directory of its own.
type standinDaemon struct{ dir string }

var states64 atomic.Int64

func (*standinDaemon) name() string { return "stand-in" }

func (s *standinDaemon) reset(t *testing.T) {
	t.Helper()
	s.dir = filepath.Join(work, "standin-state", strconv.FormatInt(states64.Add(1), 10))
	if err := os.MkdirAll(s.dir, 0o755); err != nil {
		t.Fatal(err)
	}
}

func (s *standinDaemon) run(t *testing.T, down bool, stdin string, args ...string) outcome {
	t.Helper()
	env := []string{"DOCKER_STANDIN_STATE=" + s.dir}
	if down {
		env = append(env, "DOCKER_HOST=unix://"+filepath.Join(work, "nobody-listens.sock"))
	}
	return execute(t, standIn, env, stdin, args)
}

func execute(t *testing.T, bin string, env []string, stdin string, args []string) outcome {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append([]string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=" + work, "LANG=C"}, env...)
	cmd.Stdin = strings.NewReader(stdin)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	out := outcome{stdout: o.String(), stderr: e.String()}
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit) && exit.ExitCode() >= 0:
		out.code = exit.ExitCode()
	default:
		t.Fatalf("running %s %s: %v\n%s", bin, strings.Join(args, " "), err, e.String())
	}
	return out
}

// inState brings d to state and runs args.
func inState(t *testing.T, d daemon, state, stdin string, args []string) outcome {
	t.Helper()
	d.reset(t)
	for _, s := range setupOf(state) {
		if o := d.run(t, false, "", s...); o.code != 0 {
			t.Fatalf("setting up %q on the %s: docker %s: exit %d\n%s", state, d.name(), strings.Join(s, " "), o.code, o.stderr)
		}
	}
	return d.run(t, state == noDaemon, stdin, args...)
}

// difference is one aspect in which the two disagree.
type difference struct{ aspect, real, standin string }

func compare(args []string, real, standin outcome) []difference {
	var d []difference
	add := func(aspect, r, s string) {
		if r != s {
			d = append(d, difference{aspect, r, s})
		}
	}
	add("exit code", strconv.Itoa(real.code), strconv.Itoa(standin.code))
	add("stderr class", real.class(), standin.class())
	read := readFields(args)
	if read == nil {
		add("stdout", real.normalized(), standin.normalized())
		return d
	}
	r, s := read(real.stdout), read(standin.stdout)
	keys := map[string]bool{}
	for k := range r {
		keys[k] = true
	}
	for k := range s {
		keys[k] = true
	}
	for _, k := range slices.Sorted(maps.Keys(keys)) {
		add("field "+k, or(r, k), or(s, k))
	}
	return d
}

func or(m map[string]string, k string) string {
	if v, ok := m[k]; ok {
		return v
	}
	return "(absent)"
}

// readFields is, for a command whose output holds more than kind reads,
// what kind reads of it (the structs and checks of kind v0.33.0's docker
// provider); nil for the others, whose whole output is compared.
func readFields(args []string) func(string) map[string]string {
	line := strings.Join(args, " ")
	switch {
	case line == "info --format {{json .}}":
		// kind's dockerInfo, and the rootless flag it derives.
		return func(out string) map[string]string {
			var v struct {
				CgroupDriver, CgroupVersion       string
				MemoryLimit, PidsLimit, CPUShares bool
				SecurityOptions                   []string
			}
			if err := json.Unmarshal([]byte(out), &v); err != nil {
				return map[string]string{"stdout": "not JSON: " + out}
			}
			return map[string]string{"CgroupDriver": v.CgroupDriver, "CgroupVersion": v.CgroupVersion,
				"MemoryLimit": strconv.FormatBool(v.MemoryLimit), "PidsLimit": strconv.FormatBool(v.PidsLimit),
				"CPUShares": strconv.FormatBool(v.CPUShares), "rootless": strconv.FormatBool(slices.Contains(v.SecurityOptions, "name=rootless"))}
		}
	case strings.HasPrefix(line, "info --format '{{json .SecurityOptions}}'"):
		// kind looks for user-namespace remapping (its quotes are
		// passed to docker and come back).
		return func(out string) map[string]string {
			return map[string]string{"userns": strconv.FormatBool(strings.Contains(out, "name=userns")),
				"quoted": strconv.FormatBool(strings.HasPrefix(out, "'") && strings.HasSuffix(strings.TrimSpace(out), "'"))}
		}
	case strings.HasPrefix(line, "inspect --type=image "):
		// kind only asks whether the image is there: the exit code; the
		// output's shape is the JSON array of the images asked for.
		return func(out string) map[string]string {
			var v []struct{ RepoTags []string }
			if err := json.Unmarshal([]byte(out), &v); err != nil {
				return map[string]string{"stdout": "not JSON: " + out}
			}
			m := map[string]string{"images": strconv.Itoa(len(v))}
			for i, img := range v {
				m[fmt.Sprintf("%d.RepoTags", i)] = strings.Join(img.RepoTags, ",")
			}
			return m
		}
	}
	return nil
}

// check runs one command line in one state against both and fails on a
// difference the table does not accept.
func check(t *testing.T, state string, args []string) {
	t.Helper()
	stdin := ""
	if len(args) > 1 && args[0] == "exec" && (contains(args, "-i") || contains(args, "--interactive")) {
		stdin = "contract\n"
	}
	real := inState(t, realDaemon{}, state, stdin, args)
	standin := inState(t, &standinDaemon{}, state, stdin, args)
	var unexpected []difference
	for _, d := range compare(args, real, standin) {
		if reason := acceptedReason(state, args, d); reason != "" {
			t.Logf("accepted: %s: real %q, stand-in %q (%s)", d.aspect, clip(d.real), clip(d.standin), reason)
			continue
		}
		unexpected = append(unexpected, d)
	}
	line := "docker " + strings.Join(args, " ")
	if len(unexpected) > 0 {
		var b strings.Builder
		for _, d := range unexpected {
			fmt.Fprintf(&b, "  %-13s | real %q\n  %-13s | stand-in %q\n", d.aspect, d.real, "", d.standin)
		}
		t.Errorf("%s (%s): the real engine and the stand-in differ:\n%s\nreal: exit %d\n  stdout: %q\n  stderr: %q\nstand-in: exit %d\n  stdout: %q\n  stderr: %q",
			line, state, b.String(), real.code, real.stdout, real.stderr, standin.code, standin.stdout, standin.stderr)
		return
	}
	t.Logf("%s (%s): exit %d, stderr %s, stdout %q", line, state, real.code, real.class(), clip(real.normalized()))
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func clip(s string) string {
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}
