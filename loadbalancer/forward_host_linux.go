package loadbalancer

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
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
