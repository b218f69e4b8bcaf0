package bootstrap

import (
	"os"
	"runtime"
	"strings"

	"github.com/devcluster/devcluster/loadbalancer"
)

// HostPlatform describes this host for LoadBalancer reachability (Deps'
// Platform): the OS, whether it is WSL ($WSL_DISTRO_NAME, or a Microsoft
// kernel in /proc/version), and whether Docker runs rootless ($DOCKER_HOST
// under /run/user/ or naming rootless).
func HostPlatform(lookupEnv func(string) (string, bool)) loadbalancer.Platform {
	return hostPlatform(lookupEnv, runtime.GOOS, "/proc/version")
}

func hostPlatform(lookupEnv func(string) (string, bool), goos, procVersion string) loadbalancer.Platform {
	p := loadbalancer.Platform{GOOS: goos}
	if v, ok := lookupEnv("WSL_DISTRO_NAME"); ok && v != "" {
		p.WSL = true
	} else if b, err := os.ReadFile(procVersion); err == nil && strings.Contains(strings.ToLower(string(b)), "microsoft") {
		p.WSL = true
	}
	p.DockerHost, _ = lookupEnv("DOCKER_HOST")
	if strings.Contains(p.DockerHost, "/run/user/") || strings.Contains(p.DockerHost, "rootless") {
		p.Rootless = true
	}
	return p
}
