// Package docker is a fake of the docker CLI, for tests only (the docker
// stand-in). It answers what real kind runs — `-v`, `info`, `ps`,
// `inspect`, `network`, `run`, `logs`, `exec`, `rm`, `start`, `port` — with
// the real client's output shapes (Go templates given with -f/--format are
// executed against data shaped like docker's JSON), so that the real kind
// binary can create, list and delete clusters with it — and `cp
// CONTAINER:FILE -`, with which devcluster reads a file of a node that may
// be stopped.
//
// Containers never run. Each kind node becomes a kwok Node on the test's
// API server (registered at `kubeadm init`/`join`), and a node's file system
// is a directory under the state directory (never a host path), so what is
// written with `docker exec … cp /dev/stdin FILE` can be checked. `kubectl`
// run in a node runs the real kubectl against the test's API server.
//
// Test controls (environment variables, none of docker's):
//
//	DOCKER_STANDIN_STATE  directory of the fake daemon's state (required)
//
// DOCKER_HOST means what it means to docker: a unix socket that does not
// exist is a daemon that is down, and every command but `-v` fails as the
// real client does ("Cannot connect to the Docker daemon at …").
//
//	STANDIN_APISERVER     https URL of the API server nodes register with
//	STANDIN_TOKEN         bearer token for it
//	STANDIN_CA_FILE       its CA bundle
//	STANDIN_KUBECTL       the kubectl executable run for `exec NODE kubectl …`
package docker

import (
	"archive/tar"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/devcluster/devcluster/internal/lockfile"
)

// Version is the docker client and engine version the stand-in reports.
const Version = "28.2.2"

// Env is the stand-in's process environment.
type Env struct {
	Args      []string
	Stdin     io.Reader
	Stdout    io.Writer
	Stderr    io.Writer
	LookupEnv func(string) (string, bool)
}

func (e Env) get(k string) string {
	v, _ := e.LookupEnv(k)
	return v
}

// Container is one container of the fake daemon.
type Container struct {
	ID      string            `json:"id"`
	Name    string            `json:"name"`
	Image   string            `json:"image"`
	Labels  map[string]string `json:"labels"`
	Network string            `json:"network"`
	IP      string            `json:"ip"`
	State   string            `json:"state"` // running, exited, paused
	// Ports maps "6443/tcp" to "127.0.0.1:PORT".
	Ports   map[string]string `json:"ports"`
	Created time.Time         `json:"created"`
}

// Network is one network of the fake daemon.
type Network struct {
	ID      string            `json:"id"`
	Name    string            `json:"name"`
	Subnet  string            `json:"subnet"`
	Gateway string            `json:"gateway"`
	Subnet6 string            `json:"subnet6"`
	Options map[string]string `json:"options"`
	Labels  map[string]string `json:"labels"`
}

type state struct {
	Containers map[string]*Container `json:"containers"`
	Networks   map[string]*Network   `json:"networks"`
}

type invocation struct {
	ctx  context.Context
	env  Env
	dir  string
	st   *state
	lock *lockfile.Lock
}

// Main runs one docker command and returns its exit code.
func Main(ctx context.Context, env Env) int {
	dir := env.get("DOCKER_STANDIN_STATE")
	if dir == "" {
		fmt.Fprintln(env.Stderr, "docker stand-in: DOCKER_STANDIN_STATE is not set")
		return 1
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		fmt.Fprintln(env.Stderr, err)
		return 1
	}
	s := &invocation{ctx: ctx, env: env, dir: dir}
	if f, err := os.OpenFile(filepath.Join(dir, "calls.log"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644); err == nil {
		b, _ := json.Marshal(env.Args)
		fmt.Fprintln(f, string(b))
		_ = f.Close()
	}
	args := env.Args
	if len(args) == 0 {
		fmt.Fprintln(env.Stderr, "Usage:  docker [OPTIONS] COMMAND")
		return 1
	}
	if args[0] == "-v" || args[0] == "--version" {
		fmt.Fprintf(env.Stdout, "Docker version %s, build e6534b4\n", Version)
		return 0
	}
	if msg := daemonDown(env); msg != "" {
		return down(env, args, msg)
	}
	// Logs follow a node for as long as kind waits: no lock held.
	if args[0] == "logs" {
		return s.logs(args[1:])
	}
	if err := s.load(); err != nil {
		fmt.Fprintln(env.Stderr, err)
		return 1
	}
	defer s.lock.Close()
	code := s.dispatch(args)
	if err := s.save(); err != nil {
		fmt.Fprintln(env.Stderr, err)
		return 1
	}
	return code
}

func (s *invocation) load() error {
	l, err := lockfile.Acquire(s.ctx, filepath.Join(s.dir, "daemon.lock"), "docker stand-in", time.Minute)
	if err != nil {
		return err
	}
	s.lock = l
	s.st = &state{Containers: map[string]*Container{}, Networks: map[string]*Network{}}
	b, err := os.ReadFile(filepath.Join(s.dir, "state.json"))
	if errors.Is(err, os.ErrNotExist) {
		s.st.Networks["bridge"] = &Network{ID: id("bridge"), Name: "bridge", Subnet: "172.17.0.0/16", Gateway: "172.17.0.1",
			Options: map[string]string{"com.docker.network.driver.mtu": "1500"}}
		return nil
	}
	if err != nil {
		return err
	}
	return json.Unmarshal(b, s.st)
}

func (s *invocation) save() error {
	b, err := json.MarshalIndent(s.st, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(s.dir, "state.json.tmp")
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(s.dir, "state.json"))
}

func id(seed string) string {
	h := fmt.Sprintf("%x", []byte(seed+"0123456789abcdef0123456789abcdef"))
	return h[:64]
}

func (s *invocation) dispatch(args []string) int {
	switch args[0] {
	case "version":
		return s.version(args[1:])
	case "info":
		return s.info(args[1:])
	case "system":
		if len(args) > 1 && args[1] == "info" {
			return s.info(args[2:])
		}
	case "ps":
		return s.ps(args[1:])
	case "inspect":
		return s.inspect(args[1:], "")
	case "container":
		if len(args) > 1 && args[1] == "inspect" {
			return s.inspect(args[2:], "container")
		}
	case "network":
		return s.network(args[1:])
	case "run":
		return s.run(args[1:])
	case "exec":
		return s.exec(args[1:])
	case "cp":
		return s.cp(args[1:])
	case "rm":
		return s.rm(args[1:])
	case "start", "stop", "pause", "unpause", "kill", "restart":
		return s.setState(args[0], args[1:])
	case "port":
		return s.port(args[1:])
	case "pull":
		fmt.Fprintln(s.env.Stderr, "Error response from daemon: the docker stand-in pulls nothing")
		return 1
	}
	fmt.Fprintf(s.env.Stderr, "docker: unknown command: docker %s\n\nRun 'docker --help' for more information\n", args[0])
	return 1
}

// flags splits docker-style arguments: the values of the named flags
// (given as --f=v or --f v, repeatable) and the positional arguments.
func flags(args []string, withValue ...string) (map[string][]string, []string) {
	vals := map[string][]string{}
	var pos []string
	takes := map[string]bool{}
	for _, f := range withValue {
		takes[f] = true
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "-") || a == "-" {
			pos = append(pos, a)
			continue
		}
		name, v, has := strings.Cut(a, "=")
		if !has && takes[name] && i+1 < len(args) {
			i++
			v, has = args[i], true
		}
		vals[name] = append(vals[name], v)
	}
	return vals, pos
}

func (s *invocation) format(f map[string][]string) string {
	for _, k := range []string{"--format", "-f"} {
		if v := f[k]; len(v) > 0 {
			return v[len(v)-1]
		}
	}
	return ""
}

func (s *invocation) version(args []string) int {
	f, _ := flags(args, "--format", "-f")
	data := map[string]any{
		"Client": map[string]any{"Version": Version, "Os": "linux"},
		"Server": map[string]any{"Version": Version, "Os": "linux", "Platform": map[string]any{"Name": "Docker Engine - Community"}},
	}
	if t := s.format(f); t != "" {
		return s.render(t, data)
	}
	fmt.Fprintf(s.env.Stdout, "Client:\n Version:           %s\n\nServer: Docker Engine - Community\n Engine:\n  Version:          %s\n", Version, Version)
	return 0
}

// infoData is what `docker info --format {{json .}}` reports of an 8-CPU,
// 16 GiB Linux host with cgroup v2.
func infoData() map[string]any {
	return map[string]any{
		"ID": "docker-standin", "Containers": 0, "Images": 1, "Driver": "overlay2",
		"DriverStatus": [][]string{{"Backing Filesystem", "extfs"}, {"Supports d_type", "true"},
			{"Native Overlay Diff", "true"}, {"userxattr", "false"}},
		"CgroupDriver": "systemd", "CgroupVersion": "2",
		"MemoryLimit": true, "SwapLimit": true, "PidsLimit": true, "CPUShares": true, "CPUSet": true, "CpuCfsPeriod": true, "CpuCfsQuota": true,
		"KernelVersion": "6.1.0", "OperatingSystem": "Debian GNU/Linux 12 (bookworm)", "OSType": "linux", "Architecture": "x86_64",
		"NCPU": 8, "MemTotal": int64(17179869184), "Name": "docker-standin", "ServerVersion": Version,
		"SecurityOptions": []string{"name=seccomp,profile=builtin", "name=cgroupns"}, "Rootless": false,
	}
}

func (s *invocation) info(args []string) int {
	f, _ := flags(args, "--format", "-f")
	if t := s.format(f); t != "" {
		return s.render(t, infoData())
	}
	fmt.Fprintf(s.env.Stdout, "Server:\n Server Version: %s\n Storage Driver: overlay2\n Cgroup Version: 2\n", Version)
	return 0
}

// psRow is one line of `docker ps`: fields and the Label method templates
// use.
type psRow struct {
	ID, Names, Image, State, Status string
	labels                          map[string]string
}

// Label returns the value of a label ({{.Label "k"}}).
func (r psRow) Label(k string) string { return r.labels[k] }

func (s *invocation) ps(args []string) int {
	f, _ := flags(args, "--filter", "--format", "-f")
	all := len(f["-a"]) > 0 || len(f["--all"]) > 0
	var names []string
	for n := range s.st.Containers {
		names = append(names, n)
	}
	sort.Strings(names)
	t := s.format(f)
	if t == "" {
		t = "{{.ID}}\t{{.Image}}\t{{.Status}}\t{{.Names}}"
	}
	for _, n := range names {
		c := s.st.Containers[n]
		if !all && c.State != "running" {
			continue
		}
		if !matches(c, f["--filter"]) {
			continue
		}
		if code := s.render(t, psRow{ID: c.ID[:12], Names: c.Name, Image: c.Image, State: c.State, Status: c.State, labels: c.Labels}); code != 0 {
			return code
		}
	}
	return 0
}

func matches(c *Container, filters []string) bool {
	for _, f := range filters {
		k, v, _ := strings.Cut(f, "=")
		switch k {
		case "label":
			lk, lv, hasValue := strings.Cut(v, "=")
			have, ok := c.Labels[lk]
			if !ok || hasValue && have != lv {
				return false
			}
		case "name":
			if !strings.Contains(c.Name, strings.Trim(v, "^$")) {
				return false
			}
		}
	}
	return true
}

// freeAddress is the lowest address after the gateway that no running or
// paused container on the network holds: the engine gives an address back
// when its container stops or goes, and hands it out again.
func (s *invocation) freeAddress(network, gw string) string {
	for n := 1; ; n++ {
		if ip := nthHost(gw, n); ip == "" || !s.holds(network, ip) {
			return ip
		}
	}
}

// holds reports whether a running or paused container on the network has
// the address ip.
func (s *invocation) holds(network, ip string) bool {
	for _, c := range s.st.Containers {
		if c.Network == network && c.IP == ip && (c.State == "running" || c.State == "paused") {
			return true
		}
	}
	return false
}

// inspectData is a container as `docker inspect` shows it.
func (c *Container) inspectData() map[string]any {
	ports := map[string]any{}
	for p, hp := range c.Ports {
		ip, port, _ := strings.Cut(hp, ":")
		ports[p] = []any{map[string]any{"HostIp": ip, "HostPort": port}}
	}
	networks := map[string]any{}
	if c.Network != "" {
		// A container that does not run holds no address.
		ip, gw := "", ""
		if c.State == "running" || c.State == "paused" {
			ip, gw = c.IP, gatewayOf(c.IP)
		}
		networks[c.Network] = map[string]any{"IPAddress": ip, "GlobalIPv6Address": "", "Gateway": gw}
	}
	return map[string]any{
		"Id": c.ID, "Name": "/" + c.Name, "Created": c.Created.Format(time.RFC3339Nano), "Image": c.Image,
		"State":           map[string]any{"Status": c.State, "Running": c.State == "running", "Paused": c.State == "paused"},
		"Config":          map[string]any{"Labels": c.Labels, "Image": c.Image, "Hostname": c.Name},
		"NetworkSettings": map[string]any{"Networks": networks, "Ports": ports, "IPAddress": ""},
	}
}

func gatewayOf(ip string) string {
	parts := strings.Split(ip, ".")
	if len(parts) != 4 {
		return ""
	}
	return strings.Join(parts[:3], ".") + ".1"
}

func (s *invocation) inspect(args []string, only string) int {
	f, names := flags(args, "--format", "-f", "--type")
	typ := only
	if v := f["--type"]; len(v) > 0 {
		typ = v[0]
	}
	t := s.format(f)
	var all []any
	code := 0
	for _, n := range names {
		if typ == "image" {
			// Every image is present: nothing is pulled.
			d := map[string]any{"Id": "sha256:" + id(n), "RepoTags": []string{n}}
			if t != "" {
				code = max(code, s.render(t, d))
			}
			all = append(all, d)
			continue
		}
		c := s.container(n)
		if c == nil {
			if t != "" {
				fmt.Fprintln(s.env.Stdout)
			}
			// The client looks the name up itself: "object" when any
			// type would do.
			what := "object"
			if typ == "container" {
				what = "container"
			}
			fmt.Fprintf(s.env.Stderr, "Error: No such %s: %s\n", what, n)
			code = 1
			continue
		}
		if t != "" {
			code = max(code, s.render(t, c.inspectData()))
			continue
		}
		all = append(all, c.inspectData())
	}
	if t == "" {
		if all == nil {
			all = []any{}
		}
		b, _ := json.MarshalIndent(all, "", "    ")
		fmt.Fprintln(s.env.Stdout, string(b))
	}
	return code
}

func (s *invocation) container(nameOrID string) *Container {
	if c, ok := s.st.Containers[strings.TrimPrefix(nameOrID, "/")]; ok {
		return c
	}
	for _, c := range s.st.Containers {
		if len(nameOrID) >= 12 && strings.HasPrefix(c.ID, nameOrID) {
			return c
		}
	}
	return nil
}

func (s *invocation) network(args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(s.env.Stderr, "Usage:  docker network COMMAND")
		return 1
	}
	switch args[0] {
	case "ls":
		f, _ := flags(args[1:], "--filter", "--format", "-f")
		t := s.format(f)
		if t == "" {
			t = "{{.ID}}\t{{.Name}}"
		}
		var names []string
		for n := range s.st.Networks {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			nw := s.st.Networks[n]
			keep := true
			for _, flt := range f["--filter"] {
				k, v, _ := strings.Cut(flt, "=")
				switch k {
				case "name":
					want := strings.TrimSuffix(strings.TrimPrefix(v, "^"), "$")
					keep = keep && (nw.Name == want || !strings.HasPrefix(v, "^") && strings.Contains(nw.Name, want))
				case "label":
					lk, lv, has := strings.Cut(v, "=")
					have, ok := nw.Labels[lk]
					keep = keep && ok && (!has || have == lv)
				}
			}
			if keep {
				s.render(t, map[string]any{"ID": nw.ID[:12], "Name": nw.Name, "Driver": "bridge"})
			}
		}
		return 0
	case "inspect":
		f, names := flags(args[1:], "--format", "-f")
		t := s.format(f)
		var all []any
		code := 0
		for _, n := range names {
			nw := s.st.Networks[n]
			if nw == nil {
				if t == "" {
					fmt.Fprintln(s.env.Stdout, "[]")
				} else {
					fmt.Fprintln(s.env.Stdout)
				}
				fmt.Fprintf(s.env.Stderr, "Error response from daemon: network %s not found\n", n)
				code = 1
				continue
			}
			d := s.networkData(nw)
			if t != "" {
				code = max(code, s.render(t, d))
				continue
			}
			all = append(all, d)
		}
		if t == "" && all != nil {
			b, _ := json.MarshalIndent(all, "", "    ")
			fmt.Fprintln(s.env.Stdout, string(b))
		}
		return code
	case "create":
		f, names := flags(args[1:], "-d", "--driver", "-o", "--opt", "--subnet", "--gateway", "--label")
		if len(names) != 1 {
			fmt.Fprintln(s.env.Stderr, "\"docker network create\" requires exactly 1 argument.")
			return 1
		}
		n := names[0]
		if s.st.Networks[n] != nil {
			fmt.Fprintf(s.env.Stderr, "Error response from daemon: network with name %s already exists\n", n)
			return 1
		}
		nw := &Network{ID: id("network-" + n), Name: n, Options: map[string]string{}, Labels: map[string]string{}}
		for _, sub := range f["--subnet"] {
			if strings.Contains(sub, ":") {
				nw.Subnet6 = sub
			} else {
				nw.Subnet = sub
			}
		}
		if nw.Subnet == "" {
			// The daemon's next free /16 after the default bridge.
			nw.Subnet = fmt.Sprintf("172.%d.0.0/16", 18+len(s.st.Networks)-1)
		}
		gw, err := gateway(nw.Subnet, f["--gateway"])
		if err != nil {
			fmt.Fprintf(s.env.Stderr, "Error response from daemon: %v\n", err)
			return 1
		}
		nw.Gateway = gw
		for _, o := range append(f["-o"], f["--opt"]...) {
			k, v, _ := strings.Cut(o, "=")
			nw.Options[k] = v
		}
		for _, l := range f["--label"] {
			k, v, _ := strings.Cut(l, "=")
			nw.Labels[k] = v
		}
		s.st.Networks[n] = nw
		fmt.Fprintln(s.env.Stdout, nw.ID)
		return 0
	case "rm":
		for _, n := range args[1:] {
			if s.st.Networks[n] == nil {
				fmt.Fprintf(s.env.Stderr, "Error response from daemon: network %s not found\n", n)
				return 1
			}
			delete(s.st.Networks, n)
			fmt.Fprintln(s.env.Stdout, n)
		}
		return 0
	}
	fmt.Fprintf(s.env.Stderr, "docker network: unknown command %q\n", args[0])
	return 1
}

func (s *invocation) networkData(nw *Network) map[string]any {
	cfg := []any{map[string]any{"Subnet": nw.Subnet, "Gateway": nw.Gateway}}
	if nw.Subnet6 != "" {
		cfg = append(cfg, map[string]any{"Subnet": nw.Subnet6, "Gateway": strings.TrimSuffix(nw.Subnet6, "/64") + "1"})
	}
	containers := map[string]any{}
	bits := "/16"
	if p, err := netip.ParsePrefix(nw.Subnet); err == nil {
		bits = "/" + strconv.Itoa(p.Bits())
	}
	for _, c := range s.st.Containers {
		if c.Network == nw.Name && (c.State == "running" || c.State == "paused") {
			containers[c.ID] = map[string]any{"Name": c.Name, "IPv4Address": c.IP + bits, "IPv6Address": ""}
		}
	}
	return map[string]any{"Name": nw.Name, "Id": nw.ID, "Driver": "bridge", "EnableIPv6": nw.Subnet6 != "",
		"IPAM": map[string]any{"Driver": "default", "Config": cfg}, "Options": nw.Options, "Labels": nw.Labels, "Containers": containers}
}

func (s *invocation) run(args []string) int {
	f, pos := flags(args, "--name", "--hostname", "--label", "-l", "--net", "--network", "--publish", "-p", "-e", "--env",
		"--volume", "-v", "--tmpfs", "--security-opt", "--restart", "--cgroupns", "--device", "--ip", "--ip6")
	name := ""
	if v := f["--name"]; len(v) > 0 {
		name = v[0]
	}
	if len(pos) == 0 {
		fmt.Fprintln(s.env.Stderr, "\"docker run\" requires at least 1 argument.")
		return 125
	}
	if name == "" || s.st.Containers[name] != nil {
		fmt.Fprintf(s.env.Stderr, "docker: Error response from daemon: Conflict. The container name \"/%s\" is already in use.\n", name)
		return 125
	}
	c := &Container{ID: id("container-" + name + time.Now().String()), Name: name, Image: pos[0], Labels: map[string]string{},
		State: "running", Ports: map[string]string{}, Created: time.Now()}
	for _, l := range append(f["--label"], f["-l"]...) {
		k, v, _ := strings.Cut(l, "=")
		c.Labels[k] = v
	}
	for _, n := range append(f["--net"], f["--network"]...) {
		c.Network = n
	}
	if nw := s.st.Networks[c.Network]; nw != nil {
		c.IP = s.freeAddress(c.Network, nw.Gateway)
	} else if c.Network != "" {
		// docker run creates the container, then fails to start it:
		// the container stays, created.
		c.State = "created"
		s.st.Containers[name] = c
		fmt.Fprintln(s.env.Stdout, c.ID)
		fmt.Fprintf(s.env.Stderr, "docker: Error response from daemon: network %s not found\n\nRun 'docker run --help' for more information\n", c.Network)
		return 125
	}
	for _, p := range append(f["--publish"], f["-p"]...) {
		// 127.0.0.1:HOSTPORT:CONTAINERPORT/PROTO; the API server's port
		// is the test's API server's, so kind's kubeconfig reaches it.
		parts := strings.Split(p, ":")
		if len(parts) != 3 {
			continue
		}
		cport := strings.ToLower(parts[2])
		host := parts[0] + ":" + parts[1]
		if strings.HasPrefix(cport, "6443/") && s.env.get("STANDIN_APISERVER") != "" {
			host = s.apiserverHost()
		}
		c.Ports[cport] = host
	}
	s.st.Containers[name] = c
	if err := s.seedNode(c); err != nil {
		fmt.Fprintln(s.env.Stderr, "docker: "+err.Error())
		return 125
	}
	fmt.Fprintln(s.env.Stdout, c.ID)
	return 0
}

// apiserverHost is where the published API server port leads: the test's
// API server (host:port).
func (s *invocation) apiserverHost() string {
	u, err := url.Parse(s.env.get("STANDIN_APISERVER"))
	if err != nil || u.Port() == "" {
		return "127.0.0.1:6443"
	}
	return u.Host
}

// logs prints what a kind node's systemd prints when it has booted.
func (s *invocation) logs(args []string) int {
	_, names := flags(args, "--since", "--tail", "-n")
	if len(names) == 0 {
		fmt.Fprintln(s.env.Stderr, "\"docker logs\" requires exactly 1 argument.")
		return 1
	}
	if _, err := os.Stat(s.fsDir(names[0])); err != nil {
		fmt.Fprintf(s.env.Stderr, "Error response from daemon: No such container: %s\n", names[0])
		return 1
	}
	fmt.Fprintln(s.env.Stdout, "INFO: docker stand-in node "+names[0])
	fmt.Fprintln(s.env.Stdout, "[  OK  ] Reached target multi-user.target - Multi-User System.")
	return 0
}

func (s *invocation) rm(args []string) int {
	f, names := flags(args)
	force := len(f["-f"]) > 0 || len(f["--force"]) > 0
	code := 0
	for _, n := range names {
		c := s.container(n)
		if c == nil && force {
			// With --force a missing container is said, and no error.
			fmt.Fprintf(s.env.Stderr, "Error response from daemon: No such container: %s\n", n)
			continue
		}
		if c == nil {
			fmt.Fprintf(s.env.Stderr, "Error response from daemon: No such container: %s\n", n)
			code = 1
			continue
		}
		if err := s.unregisterNode(c); err != nil {
			fmt.Fprintln(s.env.Stderr, "docker stand-in: removing node "+c.Name+": "+err.Error())
		}
		delete(s.st.Containers, c.Name)
		_ = os.RemoveAll(s.fsDir(c.Name))
		fmt.Fprintln(s.env.Stdout, n)
	}
	return code
}

// cp is `docker cp CONTAINER:SRC -`: the file as a tar archive on stdout,
// from a running, paused or stopped container alike (the daemon reads the
// container's file system whatever its state).
func (s *invocation) cp(args []string) int {
	_, pos := flags(args)
	if len(pos) != 2 {
		fmt.Fprintln(s.env.Stderr, "\"docker cp\" requires exactly 2 arguments.")
		return 1
	}
	name, src, ok := strings.Cut(pos[0], ":")
	if !ok || pos[1] != "-" {
		fmt.Fprintln(s.env.Stderr, "docker stand-in: only `docker cp CONTAINER:SRC -` is supported")
		return 1
	}
	c := s.container(name)
	if c == nil {
		fmt.Fprintf(s.env.Stderr, "Error response from daemon: No such container: %s\n", name)
		return 1
	}
	b, err := os.ReadFile(s.onNode(c.Name, src))
	if err != nil {
		fmt.Fprintf(s.env.Stderr, "Error response from daemon: Could not find the file %s in container %s\n", src, name)
		return 1
	}
	tw := tar.NewWriter(s.env.Stdout)
	if err := tw.WriteHeader(&tar.Header{Name: path.Base(src), Mode: 0o644, Size: int64(len(b)), Typeflag: tar.TypeReg, ModTime: time.Now()}); err != nil {
		return 1
	}
	if _, err := tw.Write(b); err != nil {
		return 1
	}
	if err := tw.Close(); err != nil {
		return 1
	}
	return 0
}

func (s *invocation) setState(verb string, args []string) int {
	_, names := flags(args, "-t", "--time", "-s", "--signal")
	next := map[string]string{"start": "running", "restart": "running", "unpause": "running", "stop": "exited", "kill": "exited", "pause": "paused"}[verb]
	for _, n := range names {
		c := s.container(n)
		if c == nil {
			fmt.Fprintf(s.env.Stderr, "Error response from daemon: No such container: %s\n", n)
			return 1
		}
		switch {
		case verb == "unpause" && c.State != "paused":
			fmt.Fprintf(s.env.Stderr, "Error response from daemon: Container %s is not paused\n", c.ID)
			return 1
		case (verb == "pause" || verb == "kill") && c.State != "running":
			fmt.Fprintf(s.env.Stderr, "Error response from daemon: Container %s is not running\n", c.ID)
			return 1
		}
		if next == "running" && c.State != "running" && c.State != "paused" && c.Network != "" {
			// Its address went back to the network when it stopped: it
			// takes it again unless another container holds it now.
			if nw := s.st.Networks[c.Network]; nw != nil && s.holds(c.Network, c.IP) {
				c.IP = s.freeAddress(c.Network, nw.Gateway)
			}
		}
		c.State = next
		fmt.Fprintln(s.env.Stdout, n)
	}
	return 0
}

func (s *invocation) port(args []string) int {
	_, pos := flags(args)
	if len(pos) == 0 {
		return 1
	}
	c := s.container(pos[0])
	if c == nil {
		fmt.Fprintf(s.env.Stderr, "Error response from daemon: No such container: %s\n", pos[0])
		return 1
	}
	var keys []string
	for k := range c.Ports {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if len(pos) > 1 && !strings.HasPrefix(k, strings.ToLower(pos[1])) {
			continue
		}
		if len(pos) > 1 {
			fmt.Fprintln(s.env.Stdout, c.Ports[k])
		} else {
			fmt.Fprintf(s.env.Stdout, "%s -> %s\n", k, c.Ports[k])
		}
	}
	return 0
}
