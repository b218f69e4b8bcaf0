package porthold

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// scanLimit bounds the walk over /proc/*/fd.
const scanLimit = time.Second

// holder reads /proc/net/tcp{,6} for the socket inodes in LISTEN state on
// port, then finds the process that has one of them open.
func holder(port int) string {
	inodes := map[string]bool{}
	for _, table := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		for _, ino := range listeningInodes(table, port) {
			inodes[ino] = true
		}
	}
	if len(inodes) == 0 {
		return ""
	}
	deadline := time.Now().Add(scanLimit)
	procs, _ := filepath.Glob("/proc/[0-9]*/fd")
	for _, fdDir := range procs {
		if time.Now().After(deadline) {
			return ""
		}
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
				return fmt.Sprintf("PID %s (%s)", pid, cleanName(string(comm)))
			}
		}
	}
	return ""
}

// listeningInodes returns the socket inodes in LISTEN state on port from a
// /proc/net/tcp file, on a loopback or wildcard address.
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
