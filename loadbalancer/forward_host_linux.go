package loadbalancer

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// privilegedBelow is the first port an unprivileged process may bind on
// 127.0.0.1, and why lower ones are not: 0 when every port may be bound
// (root, CAP_NET_BIND_SERVICE, or net.ipv4.ip_unprivileged_port_start=0).
func privilegedBelow() (int32, string) {
	start := int32(1024)
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_unprivileged_port_start"); err == nil {
		if n, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && n >= 0 && n <= 65536 {
			start = int32(n)
		}
	}
	if start == 0 || canBindPrivileged() {
		return 0, ""
	}
	return start, fmt.Sprintf("net.ipv4.ip_unprivileged_port_start is %d and the agent has no CAP_NET_BIND_SERVICE", start)
}

// canBindPrivileged reads the effective capabilities: bit 10 is
// CAP_NET_BIND_SERVICE (root has it, unless dropped).
func canBindPrivileged() bool {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return os.Geteuid() == 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "CapEff:"); ok {
			caps, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			return err == nil && caps&(1<<10) != 0
		}
	}
	return os.Geteuid() == 0
}

// portHolder names the process that listens on a TCP port of 127.0.0.1 or
// of every address, from /proc/net/tcp{,6} and the socket inodes under
// /proc/*/fd; "" when it cannot be found (another user's process, or
// another network namespace). The scan is bounded to a second.
func portHolder(port int32) string {
	inodes := map[string]bool{}
	for _, table := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		for _, ino := range listeningInodes(table, port) {
			inodes[ino] = true
		}
	}
	if len(inodes) == 0 {
		return ""
	}
	deadline := time.Now().Add(time.Second)
	procs, _ := filepath.Glob("/proc/[0-9]*")
	for _, p := range procs {
		if time.Now().After(deadline) {
			return ""
		}
		fds, err := os.ReadDir(filepath.Join(p, "fd"))
		if err != nil {
			continue
		}
		for _, fd := range fds {
			link, err := os.Readlink(filepath.Join(p, "fd", fd.Name()))
			if err != nil || !strings.HasPrefix(link, "socket:[") {
				continue
			}
			if inodes[strings.TrimSuffix(strings.TrimPrefix(link, "socket:["), "]")] {
				pid := filepath.Base(p)
				comm, _ := os.ReadFile(filepath.Join(p, "comm"))
				if name := cleanComm(string(comm)); name != "" {
					return fmt.Sprintf("%s (pid %s)", name, pid)
				}
				return "pid " + pid
			}
		}
	}
	return ""
}

// listeningInodes reads one /proc/net table: the socket inodes in state
// LISTEN (0A) on port, on a loopback or wildcard address.
func listeningInodes(table string, port int32) []string {
	f, err := os.Open(table)
	if err != nil {
		return nil
	}
	defer f.Close()
	want := fmt.Sprintf(":%04X", port)
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 10 || fields[3] != "0A" || !strings.HasSuffix(fields[1], want) {
			continue
		}
		addr := strings.TrimSuffix(fields[1], want)
		switch addr {
		case "0100007F", "00000000", // 127.0.0.1, 0.0.0.0
			"00000000000000000000000000000000",                                     // ::
			"0000000000000000FFFF00000100007F", "0000000000000000FFFF000000000000": // ::ffff:127.0.0.1, ::ffff:0.0.0.0
			out = append(out, fields[9])
		}
	}
	return out
}
