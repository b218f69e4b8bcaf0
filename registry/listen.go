package registry

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// listen binds addr, and explains a failure: an address that is not a
// host:port, a port in use (naming the process that holds it when this host
// lets us see it), or an address that does not belong to this host.
func listen(addr string) (net.Listener, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("invalid listen address %q: use HOST:PORT, for example 127.0.0.1:5001", addr)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return nil, fmt.Errorf("invalid listen address %q: the port must be a number from 0 to 65535", addr)
	}
	l, err := net.Listen("tcp", addr)
	if err == nil {
		return l, nil
	}
	switch {
	case errors.Is(err, errAddrInUse):
		p, _ := strconv.Atoi(port)
		if who := portHolder(p); who != "" {
			return nil, fmt.Errorf("port %s is in use by %s (listening on %s)", port, who, addr)
		}
		return nil, fmt.Errorf("port %s is in use (listening on %s)", port, addr)
	case errors.Is(err, errAddrNotAvail):
		return nil, fmt.Errorf("cannot listen on %s: %s is not an address of this host", addr, host)
	}
	return nil, fmt.Errorf("listening on %s: %w", addr, err)
}

// portHolder names the process listening on a TCP port ("PID 123
// (registry)"), from /proc; "" when it cannot be found (another user's
// process, or not Linux).
func portHolder(port int) string {
	inodes := map[string]bool{}
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		for _, ino := range listeningInodes(f, port) {
			inodes[ino] = true
		}
	}
	if len(inodes) == 0 {
		return ""
	}
	procs, _ := filepath.Glob("/proc/[0-9]*/fd")
	for _, fdDir := range procs {
		fds, err := os.ReadDir(fdDir)
		if err != nil {
			continue
		}
		for _, fd := range fds {
			link, err := os.Readlink(filepath.Join(fdDir, fd.Name()))
			if err != nil || !strings.HasPrefix(link, "socket:[") {
				continue
			}
			if inodes[strings.TrimSuffix(strings.TrimPrefix(link, "socket:["), "]")] {
				pid := filepath.Base(filepath.Dir(fdDir))
				comm, _ := os.ReadFile(filepath.Join("/proc", pid, "comm"))
				return fmt.Sprintf("PID %s (%s)", pid, strings.TrimSpace(string(comm)))
			}
		}
	}
	return ""
}

// listeningInodes returns the socket inodes in LISTEN state on port from a
// /proc/net/tcp file.
func listeningInodes(file string, port int) []string {
	f, err := os.Open(file)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		// sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
		if len(fields) < 10 || fields[3] != "0A" {
			continue
		}
		i := strings.LastIndexByte(fields[1], ':')
		if i < 0 {
			continue
		}
		if p, err := strconv.ParseUint(fields[1][i+1:], 16, 16); err == nil && int(p) == port {
			out = append(out, fields[9])
		}
	}
	return out
}
