package bootstrap

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/devcluster/devcluster/loadbalancer"
)

func TestHostPlatform(t *testing.T) {
	dir := t.TempDir()
	wslKernel, linuxKernel := filepath.Join(dir, "wsl"), filepath.Join(dir, "linux")
	if err := os.WriteFile(wslKernel, []byte("Linux version 5.15.167.4-microsoft-standard-WSL2"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(linuxKernel, []byte("Linux version 6.12.0 (debian)"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		env  map[string]string
		proc string
		want loadbalancer.Platform
	}{
		{nil, linuxKernel, loadbalancer.Platform{GOOS: "linux"}},
		{nil, filepath.Join(dir, "absent"), loadbalancer.Platform{GOOS: "linux"}},
		{nil, wslKernel, loadbalancer.Platform{GOOS: "linux", WSL: true}},
		{map[string]string{"WSL_DISTRO_NAME": "Ubuntu"}, linuxKernel, loadbalancer.Platform{GOOS: "linux", WSL: true}},
		{map[string]string{"DOCKER_HOST": "unix:///run/user/1000/docker.sock"}, linuxKernel,
			loadbalancer.Platform{GOOS: "linux", DockerHost: "unix:///run/user/1000/docker.sock", Rootless: true}},
		{map[string]string{"DOCKER_HOST": "tcp://127.0.0.1:2375"}, linuxKernel, loadbalancer.Platform{GOOS: "linux", DockerHost: "tcp://127.0.0.1:2375"}},
	} {
		got := hostPlatform(envOf(tc.env), "linux", tc.proc)
		if got != tc.want {
			t.Errorf("env %v, kernel %s: %+v, want %+v", tc.env, filepath.Base(tc.proc), got, tc.want)
		}
	}
}
