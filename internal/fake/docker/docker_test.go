package docker

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

type daemon struct {
	t   *testing.T
	dir string
}

func (d *daemon) run(stdin string, args ...string) (string, string, int) {
	var o, e bytes.Buffer
	code := Main(context.Background(), Env{Args: args, Stdin: strings.NewReader(stdin), Stdout: &o, Stderr: &e,
		LookupEnv: func(k string) (string, bool) {
			if k == "DOCKER_STANDIN_STATE" {
				return d.dir, true
			}
			return "", false
		}})
	return o.String(), e.String(), code
}

// The commands and templates real kind v0.33.0 runs, answered as the real
// client answers them.
func TestWhatKindRuns(t *testing.T) {
	t.Parallel()
	d := &daemon{t: t, dir: t.TempDir()}
	check := func(stdin string, args []string, code int, stdout string) {
		t.Helper()
		o, e, c := d.run(stdin, args...)
		if c != code || o != stdout {
			t.Errorf("docker %q: exit %d, stdout %q (stderr %q); want exit %d, %q", args, c, o, e, code, stdout)
		}
	}
	check("", []string{"-v"}, 0, "Docker version 28.2.2, build e6534b4\n")
	check("", []string{"version", "--format", "{{.Server.Version}}"}, 0, "28.2.2\n")
	check("", []string{"info", "-f", "{{.Driver}}"}, 0, "overlay2\n")
	check("", []string{"info", "--format", "'{{json .SecurityOptions}}'"}, 0, `'["name=seccomp,profile=builtin","name=cgroupns"]'`+"\n")
	check("", []string{"ps", "-a", "--filter", "label=io.x-k8s.kind.cluster", "--format", `{{.Label "io.x-k8s.kind.cluster"}}`}, 0, "")
	check("", []string{"network", "ls", "--filter=name=^kind$", "--format={{.ID}}"}, 0, "")
	if o, _, c := d.run("", "network", "create", "-d=bridge", "-o", "com.docker.network.bridge.enable_ip_masquerade=true", "--ipv6", "--subnet", "fc00:f853:ccd:e793::/64", "kind"); c != 0 || len(strings.TrimSpace(o)) != 64 {
		t.Fatalf("network create: %d %q", c, o)
	}
	check("", []string{"network", "inspect", "kind", "-f", "{{range .IPAM.Config}}{{.Gateway}} {{end}}"}, 0, "172.18.0.1 fc00:f853:ccd:e793::1 \n")
	check("", []string{"network", "inspect", "nope"}, 1, "[]\n")
	if _, e, c := d.run("", "run", "--name", "dev-control-plane", "--label", "io.x-k8s.kind.cluster=dev", "--label", "io.x-k8s.kind.role=control-plane",
		"--net", "kind", "--publish=127.0.0.1:41234:6443/TCP", "--detach", "kindest/node:v1.37.0@sha256:abc"); c != 0 {
		t.Fatalf("run: %s", e)
	}
	check("", []string{"ps", "-a", "--filter", "label=io.x-k8s.kind.cluster=dev", "--format", "{{.Names}}"}, 0, "dev-control-plane\n")
	check("", []string{"inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}},{{.GlobalIPv6Address}}{{end}}", "dev-control-plane"}, 0, "172.18.0.2,\n")
	check("", []string{"inspect", "--format", `{{ index .Config.Labels "io.x-k8s.kind.role" }}`, "dev-control-plane"}, 0, "control-plane\n")
	check("", []string{"inspect", "--format", `{{ with (index (index .NetworkSettings.Ports "6443/tcp") 0) }}{{ printf "%s	%s" .HostIp .HostPort }}{{ end }}`, "dev-control-plane"}, 0, "127.0.0.1\t41234\n")
	check("", []string{"exec", "--privileged", "dev-control-plane", "cat", "/kind/version"}, 0, "v1.37.0\n")
	check("", []string{"exec", "dev-control-plane", "mkdir", "-p", "/etc/containerd/certs.d/x"}, 0, "")
	check("server = \"http://x\"\n", []string{"exec", "-i", "dev-control-plane", "cp", "/dev/stdin", "/etc/containerd/certs.d/x/hosts.toml"}, 0, "")
	check("", []string{"exec", "dev-control-plane", "cat", "/etc/containerd/certs.d/x/hosts.toml"}, 0, "server = \"http://x\"\n")
	if b, err := os.ReadFile(filepath.Join(d.dir, "fs", "dev-control-plane", "etc", "containerd", "certs.d", "x", "hosts.toml")); err != nil || len(b) == 0 {
		t.Errorf("the node's file is not in its directory: %v", err)
	}
	check("", []string{"exec", "dev-control-plane", "cat", "/etc/missing"}, 1, "")
	check("", []string{"stop", "dev-control-plane"}, 0, "dev-control-plane\n")
	check("", []string{"exec", "dev-control-plane", "true"}, 1, "")
	// docker cp reads a stopped container's files.
	if o, e, c := d.run("", "cp", "dev-control-plane:/kind/version", "-"); c != 0 || untar(t, o) != "v1.37.0\n" {
		t.Errorf("cp of a stopped node's file: exit %d %q", c, e)
	}
	if _, e, c := d.run("", "cp", "dev-control-plane:/kind/missing", "-"); c != 1 || !strings.Contains(e, "Could not find the file /kind/missing") {
		t.Errorf("cp of a missing file: exit %d %q", c, e)
	}
	check("", []string{"rm", "-f", "-v", "dev-control-plane"}, 0, "dev-control-plane\n")
	check("", []string{"inspect", "-f", "{{.Name}}", "dev-control-plane"}, 1, "\n")
	if _, err := os.Stat(filepath.Join(d.dir, "fs", "dev-control-plane")); !os.IsNotExist(err) {
		t.Errorf("the node's directory outlived it: %v", err)
	}
}

// untar is the content of the one file of a tar archive.
func untar(t *testing.T, archive string) string {
	t.Helper()
	tr := tar.NewReader(strings.NewReader(archive))
	if _, err := tr.Next(); err != nil {
		t.Fatalf("not a tar archive: %v", err)
	}
	b, err := io.ReadAll(tr)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// What the contract tier found the real engine (dockerd 20.10 with the
// docker 28 client) answers where the stand-in answered otherwise.
func TestAnswersAsTheRealEngine(t *testing.T) {
	t.Parallel()
	d := &daemon{t: t, dir: t.TempDir()}
	check := func(args []string, code int, stdout, stderr string) {
		t.Helper()
		o, e, c := d.run("", args...)
		if c != code || o != stdout || !strings.Contains(e, stderr) || stderr == "" && e != "" {
			t.Errorf("docker %q: exit %d, stdout %q, stderr %q; want exit %d, %q, stderr with %q", args, c, o, e, code, stdout, stderr)
		}
	}
	// An empty daemon: lookups say what the real client says.
	check([]string{"inspect", "-f", "{{.Name}}", "dc-control-plane"}, 1, "\n", "Error: No such object: dc-control-plane")
	check([]string{"network", "inspect", "kind", "-f", "{{range .IPAM.Config}}{{.Gateway}} {{end}}"}, 1, "\n", "network kind not found")
	check([]string{"rm", "-f", "-v", "dc-control-plane"}, 0, "", "No such container: dc-control-plane")
	check([]string{"info", "-f", "{{.MemoryLimit}} {{.PidsLimit}} {{.CPUShares}}"}, 0, "true true true\n", "")
	// docker run on a missing network creates the container and fails
	// to start it.
	o, e, c := d.run("", "run", "--detach", "--name", "dc-control-plane", "--net", "kind", "kindest/node:v1.37.2")
	if c != 125 || len(strings.TrimSpace(o)) != 64 || !strings.Contains(e, "network kind not found") {
		t.Errorf("run on a missing network: exit %d, stdout %q, stderr %q", c, o, e)
	}
	check([]string{"ps", "-a", "--format", "{{.Names}} {{.State}}"}, 0, "dc-control-plane created\n", "")
	check([]string{"rm", "-f", "dc-control-plane"}, 0, "dc-control-plane\n", "")
	// A /24 with its gateway, a container's address and prefix in it.
	if _, e, c := d.run("", "network", "create", "--subnet", "10.213.18.0/24", "--gateway", "10.213.18.1", "kind"); c != 0 {
		t.Fatalf("network create: %s", e)
	}
	check([]string{"network", "inspect", "kind", "-f", "{{range .IPAM.Config}}{{.Gateway}} {{end}}"}, 0, "10.213.18.1 \n", "")
	if _, e, c := d.run("", "run", "--detach", "--name", "dc-control-plane", "--net", "kind", "kindest/node:v1.37.2"); c != 0 {
		t.Fatalf("run: %s", e)
	}
	ip := "{{range .NetworkSettings.Networks}}{{.IPAddress}},{{end}}"
	check([]string{"inspect", "-f", ip, "dc-control-plane"}, 0, "10.213.18.2,\n", "")
	check([]string{"network", "inspect", "kind", "-f", "{{range .Containers}}{{.IPv4Address}}{{end}}"}, 0, "10.213.18.2/24\n", "")
	// unpause of a running container, stop with a timeout, then no
	// address while stopped.
	check([]string{"unpause", "dc-control-plane"}, 1, "", "is not paused")
	check([]string{"stop", "-t", "1", "dc-control-plane"}, 0, "dc-control-plane\n", "")
	check([]string{"inspect", "-f", ip, "dc-control-plane"}, 0, ",\n", "")
	check([]string{"kill", "dc-control-plane"}, 1, "", "is not running")
	// The stopped container gave its address back: a new container
	// takes it; the old one started again gets the next free one. A
	// container removed and run again gets the lowest free address (kind
	// deletes a cluster and creates it again: the node keeps its IP).
	if _, e, c := d.run("", "run", "--detach", "--name", "other", "--net", "kind", "kindest/node:v1.37.2"); c != 0 {
		t.Fatalf("run: %s", e)
	}
	check([]string{"inspect", "-f", ip, "other"}, 0, "10.213.18.2,\n", "")
	check([]string{"start", "dc-control-plane"}, 0, "dc-control-plane\n", "")
	check([]string{"inspect", "-f", ip, "dc-control-plane"}, 0, "10.213.18.3,\n", "")
	check([]string{"rm", "-f", "other"}, 0, "other\n", "")
	check([]string{"rm", "-f", "dc-control-plane"}, 0, "dc-control-plane\n", "")
	if _, e, c := d.run("", "run", "--detach", "--name", "dc-control-plane", "--net", "kind", "kindest/node:v1.37.2"); c != 0 {
		t.Fatalf("run: %s", e)
	}
	check([]string{"inspect", "-f", ip, "dc-control-plane"}, 0, "10.213.18.2,\n", "")
}

// DOCKER_HOST naming a socket nobody listens on is a daemon that is down.
func TestDaemonDown(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	host := "unix://" + filepath.Join(dir, "docker.sock")
	run := func(args ...string) (string, string, int) {
		var o, e bytes.Buffer
		code := Main(context.Background(), Env{Args: args, Stdin: strings.NewReader(""), Stdout: &o, Stderr: &e,
			LookupEnv: func(k string) (string, bool) {
				switch k {
				case "DOCKER_STANDIN_STATE":
					return dir, true
				case "DOCKER_HOST":
					return host, true
				}
				return "", false
			}})
		return o.String(), e.String(), code
	}
	msg := "Cannot connect to the Docker daemon at " + host + ". Is the docker daemon running?\n"
	for _, tc := range []struct {
		args   []string
		code   int
		stdout string
	}{
		{[]string{"version", "--format", "{{.Server.Version}}"}, 1, "\n"},
		{[]string{"inspect", "-f", "{{.Name}}", "dc-control-plane"}, 1, "\n"},
		{[]string{"inspect", "--type=image", "kindest/node:v1.37.2"}, 1, "[]\n"},
		{[]string{"network", "inspect", "kind", "-f", "{{.Name}}"}, 1, "\n"},
		{[]string{"info", "-f", "{{.Driver}}"}, 1, "\n"},
		{[]string{"ps", "-a"}, 1, ""},
		{[]string{"logs", "dc-control-plane"}, 1, ""},
		{[]string{"run", "--name", "x", "img"}, 125, ""},
	} {
		o, e, c := run(tc.args...)
		if c != tc.code || o != tc.stdout || !strings.HasPrefix(e, msg) {
			t.Errorf("docker %q with the daemon down: exit %d, stdout %q, stderr %q; want exit %d, %q, %q", tc.args, c, o, e, tc.code, tc.stdout, msg)
		}
	}
	if o, _, c := run("-v"); c != 0 || !strings.HasPrefix(o, "Docker version ") {
		t.Errorf("-v needs no daemon: exit %d %q", c, o)
	}
	// The socket there: the stand-in's state answers.
	if err := os.WriteFile(filepath.Join(dir, "docker.sock"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if o, e, c := run("version", "--format", "{{.Server.Version}}"); c != 0 || o != Version+"\n" {
		t.Errorf("with the socket: exit %d %q %q", c, o, e)
	}
}
