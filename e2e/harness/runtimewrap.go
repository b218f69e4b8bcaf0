//go:build linux

package harness

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// capSysResource is CAP_SYS_RESOURCE's bit in a capability set.
const capSysResource = 24

// LacksSysResource reports whether this machine's capability bounding set
// lacks CAP_SYS_RESOURCE, so that runc cannot start a privileged container
// ("unable to apply caps: operation not permitted").
func LacksSysResource() (bool, error) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return false, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "CapBnd:"); ok {
			set, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			if err != nil {
				return false, err
			}
			return set&(1<<capSysResource) == 0, nil
		}
	}
	return false, fmt.Errorf("no CapBnd in /proc/self/status")
}

// wrapperScript is an OCI runtime in front of runc that removes
// CAP_SYS_RESOURCE from the bundle's config.json (create, run) and from
// the --process file of `runc exec`, so that a privileged container gets
// every other capability where the bounding set lacks that one.
const wrapperScript = `#!/bin/sh
strip() {
	[ -f "$1" ] && sed -i -e 's/,"CAP_SYS_RESOURCE"//g' -e 's/"CAP_SYS_RESOURCE",//g' -e 's/"CAP_SYS_RESOURCE"//g' "$1"
	return 0
}
prev=
for a; do
	case "$prev" in
	--bundle|-b) strip "$a/config.json" ;;
	--process|-p) strip "$a" ;;
	esac
	case "$a" in
	--bundle=*) strip "${a#--bundle=}/config.json" ;;
	--process=*) strip "${a#--process=}" ;;
	esac
	prev="$a"
done
exec %q "$@"
`

// WriteRuntimeWrapper writes the wrapper into dir and returns its path,
// for EngineOptions.Runtime.
func WriteRuntimeWrapper(dir string) (string, error) {
	runc, err := exec.LookPath("runc")
	if err != nil {
		return "", fmt.Errorf("runc is not installed: %w", err)
	}
	p := filepath.Join(dir, "runc-nosysres")
	return p, os.WriteFile(p, []byte(fmt.Sprintf(wrapperScript, runc)), 0o755)
}
