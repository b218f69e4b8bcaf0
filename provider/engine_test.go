package provider_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/devcluster/devcluster/internal/problem"
	"github.com/devcluster/devcluster/internal/run/runtest"
	"github.com/devcluster/devcluster/provider"
)

func TestEngineCheck(t *testing.T) {
	t.Parallel()
	down := runtest.Reply{ExitCode: 1, Stderr: "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?\n"}
	for _, tc := range []struct {
		name             string
		engine           provider.Engine
		reply            runtest.Reply
		fix              string
		wantArgv         string
		wantErr, wantFix string
	}{
		{name: "docker answers", engine: provider.Docker, reply: runtest.Reply{Stdout: "28.2.2\n"}, wantArgv: "docker version --format {{.Server.Version}}"},
		{name: "docker down", engine: provider.Docker, reply: down, wantArgv: "docker version --format {{.Server.Version}}",
			wantErr: "Docker is installed but not running", wantFix: "start Docker (`sudo systemctl start docker`, or open Docker Desktop) and run `devcluster up` again"},
		{name: "docker missing", engine: provider.EngineOf("/opt/docker/bin/docker"), reply: runtest.Reply{NotFound: true}, wantArgv: "/opt/docker/bin/docker version --format {{.Server.Version}}",
			wantErr: `Docker is not installed: kind needs it: "/opt/docker/bin/docker" does not exist or is not executable`, wantFix: "https://docs.docker.com/get-docker/"},
		{name: "docker missing, the caller's fix", engine: provider.Docker, reply: runtest.Reply{NotFound: true}, fix: "install a driver", wantArgv: "docker version --format {{.Server.Version}}",
			wantErr: "Docker is not installed", wantFix: "install a driver"},
		{name: "podman down", engine: provider.EngineOf("podman"), reply: runtest.Reply{ExitCode: 125, Stderr: "Cannot connect to Podman\n"}, wantArgv: "podman version",
			wantErr: "Podman is installed but not running", wantFix: "`podman machine start`"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := &runtest.Fake{Handler: func([]string) runtest.Reply { return tc.reply }}
			err := tc.engine.Check(context.Background(), f, "kind needs it", tc.fix)
			if calls := f.Calls(); len(calls) != 1 || strings.Join(calls[0], " ") != tc.wantArgv {
				t.Errorf("ran %q, want %q", calls, tc.wantArgv)
			}
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Check: %v", err)
				}
				return
			}
			if problem.KindOf(err) != problem.Missing || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(problem.FixOf(err), tc.wantFix) {
				t.Errorf("Check = %v (kind %v, fix %q), want %q with fix %q", err, problem.KindOf(err), problem.FixOf(err), tc.wantErr, tc.wantFix)
			}
			var missing *provider.ToolMissing
			if strings.Contains(tc.wantErr, "not installed") && (!errors.As(err, &missing) || missing.Tool != strings.ToLower(tc.engine.Title)) {
				t.Errorf("Check = %v, want a ToolMissing of %s", err, strings.ToLower(tc.engine.Title))
			}
		})
	}
}

func TestCompareVersions(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"v0.27.0", "v0.27.0", 0}, {"0.27.0", "v0.27.0", 0}, {"v0.26.1", "v0.27.0", -1}, {"v0.33.0", "v0.27.0", 1},
		{"v1.30.0-beta.0", "v1.30.0", 0}, {"v1.30", "v1.30.0", 0}, {"v1.100.0", "v1.38.1", 1},
	} {
		if got := provider.CompareVersions(tc.a, tc.b); got != tc.want {
			t.Errorf("CompareVersions(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}
