//go:build contract

package contract

import (
	"os"
	"path/filepath"
)

// The docker states a case runs under. Each is a directory that becomes the
// whole PATH of both binaries.
const (
	// dockerAbsent: no docker on PATH.
	dockerAbsent = "absent"
	// dockerDown: a client whose daemon is not running, answering as the
	// real client does (`version` prints an empty line, every command
	// exits 1 with "Cannot connect to the Docker daemon …").
	dockerDown = "down"
	// dockerHealthy: a daemon that answers `version`, `info` and
	// `inspect` as the real one does, has no containers, networks or
	// volumes, and cannot create any (so real minikube fails at
	// provisioning, and the stand-in is told to do the same).
	dockerHealthy = "healthy"
)

var dockerStates = []string{dockerAbsent, dockerDown, dockerHealthy}

const daemonDown = "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?"

const downScript = `#!/bin/sh
[ -n "$DOCKER_CALL_LOG" ] && echo "$*" >>"$DOCKER_CALL_LOG"
[ "$1" = version ] && echo
echo "` + daemonDown + `" >&2
exit 1
`

// dockerInfo is `docker system info --format {{json .}}` of a Docker
// Engine 28.2.2 on an 8-CPU, 16 GiB Linux host (the fields minikube reads).
const dockerInfo = `{"ID":"contract","Containers":0,"ContainersRunning":0,"ContainersPaused":0,"ContainersStopped":0,"Images":0,` +
	`"Driver":"overlay2","DriverStatus":[["Backing Filesystem","extfs"]],"Plugins":{"Volume":["local"],"Network":["bridge","host","null"],"Authorization":null,"Log":["json-file","local"]},` +
	`"MemoryLimit":true,"SwapLimit":true,"CpuCfsPeriod":true,"CpuCfsQuota":true,"CPUShares":true,"CPUSet":true,"PidsLimit":true,"IPv4Forwarding":true,` +
	`"Debug":false,"NFd":30,"OomKillDisable":false,"NGoroutines":40,"SystemTime":"2026-11-30T12:00:00.000000000Z","LoggingDriver":"json-file",` +
	`"CgroupDriver":"systemd","CgroupVersion":"2","NEventsListener":0,"KernelVersion":"6.1.0","OperatingSystem":"Debian GNU/Linux 12 (bookworm)",` +
	`"OSVersion":"12","OSType":"linux","Architecture":"x86_64","IndexServerAddress":"https://index.docker.io/v1/",` +
	`"NCPU":8,"MemTotal":17179869184,"DockerRootDir":"/var/lib/docker","Name":"contract-host","Labels":[],"ExperimentalBuild":false,` +
	`"ServerVersion":"28.2.2","Runtimes":{"runc":{"path":"runc"}},"DefaultRuntime":"runc","LiveRestoreEnabled":false,"Isolation":"",` +
	`"InitBinary":"docker-init","SecurityOptions":["name=seccomp,profile=builtin","name=cgroupns"],"Warnings":null,"ClientInfo":{"Debug":false,"Plugins":[],"Warnings":null}}`

// healthyScript answers like a Docker Engine 28.2.2 with nothing in it.
// Lookups of a container, network or volume get the real client's "No
// such …" errors; anything that would create one fails as a daemon does.
const healthyScript = `#!/bin/sh
[ -n "$DOCKER_CALL_LOG" ] && echo "$*" >>"$DOCKER_CALL_LOG"
formatted=
for a; do case "$a" in -f|--format|--format=*|-f=*) formatted=1 ;; esac; done
case "$1" in
version)
	echo 'linux-28.2.2:Docker Engine - Community'; exit 0 ;;
system|info)
	case "$*" in
	*SecurityOptions*) echo "'[\"name=seccomp,profile=builtin\",\"name=cgroupns\"]'" ;;
	*) echo '` + dockerInfo + `' ;;
	esac
	exit 0 ;;
ps|images)
	exit 0 ;;
container|inspect|rm|logs|port|exec|start|stop|kill|pause|unpause)
	[ "$1" = container ] && shift
	verb="$1"; shift
	name=; skip=
	for a; do
		if [ -n "$skip" ]; then skip=; continue; fi
		case "$a" in -f|--format) skip=1 ;; -*) ;; *) [ -z "$name" ] && name="$a" ;; esac
	done
	[ "$verb" = inspect ] && [ -z "$formatted" ] && echo '[]'
	echo "Error response from daemon: No such container: $name" >&2
	exit 1 ;;
network|volume)
	kind="$1"; shift
	case "$1" in
	ls) exit 0 ;;
	inspect)
		[ -z "$formatted" ] && echo '[]'
		echo "Error response from daemon: $kind $2 not found" >&2; exit 1 ;;
	esac
	echo "Error response from daemon: the contract tier's daemon creates nothing" >&2
	exit 1 ;;
esac
echo "docker: Error response from daemon: the contract tier's daemon creates nothing." >&2
exit 125
`

// writeDockers makes one PATH directory per docker state under dir.
func writeDockers(dir string) error {
	for state, script := range map[string]string{dockerAbsent: "", dockerDown: downScript, dockerHealthy: healthyScript} {
		d := filepath.Join(dir, state)
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
		if script == "" {
			continue
		}
		if err := os.WriteFile(filepath.Join(d, "docker"), []byte(script), 0o755); err != nil {
			return err
		}
	}
	return nil
}

// dockerPath is the PATH of a docker state.
func dockerPath(state string) string { return filepath.Join(work, "docker", state) }
