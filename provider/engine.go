package provider

import (
	"context"
	"fmt"
	"strings"

	"github.com/devcluster/devcluster/internal/problem"
	"github.com/devcluster/devcluster/internal/run"
)

// Engine is a container engine a provider runs its nodes on: Docker
// (kind, minikube's docker driver) or Podman (minikube's podman driver).
// devcluster does not install one: it is the user's, and these are the
// problems that say so.
type Engine struct {
	// Title names the engine in messages: "Docker".
	Title string
	// Binary is the executable: "docker", or a path.
	Binary string
	// Install says how to get it.
	Install string
}

// Docker and Podman are the engines devcluster's providers use.
var (
	Docker = Engine{Title: "Docker", Binary: "docker", Install: "install Docker and start it: https://docs.docker.com/get-docker/"}
	Podman = Engine{Title: "Podman", Binary: "podman", Install: "install Podman and start it: https://podman.io/docs/installation"}
)

// EngineOf is the engine of an executable's name ("docker" or "podman");
// another name is taken as Docker's at that path.
func EngineOf(binary string) Engine {
	if binary == Podman.Binary {
		return Podman
	}
	e := Docker
	e.Binary = binary
	return e
}

// NotRunning is the problem of an engine that is installed but whose
// daemon (or machine) does not answer.
func (e Engine) NotRunning(cause error) error {
	fix := "start Docker (`sudo systemctl start docker`, or open Docker Desktop) and run `devcluster up` again"
	if e.Title == Podman.Title {
		fix = "start Podman (`sudo systemctl start podman`, or `podman machine start`) and run `devcluster up` again"
	}
	return problem.New(problem.Missing, e.Title+" is installed but not running", cause, fix)
}

// NotInstalled is the problem of an engine that is not there; needs says
// what needs it ("kind runs its nodes as Docker containers"), fix how to
// get it ("" for the engine's installation hint).
func (e Engine) NotInstalled(needs, fix string) error {
	if fix == "" {
		fix = e.Install
	}
	return problem.New(problem.Missing, e.Title+" is not installed",
		fmt.Errorf("%s: %w", needs, &ToolMissing{Tool: strings.ToLower(e.Title), Binary: e.Binary}), fix)
}

// Check runs `<engine> version`, which fails when the engine is missing
// or its daemon (or machine) does not answer, and returns the problem that
// says which; needs and fix are as for NotInstalled.
func (e Engine) Check(ctx context.Context, r run.Runner, needs, fix string) error {
	args := []string{"version"}
	if e.Title == Docker.Title {
		// Only the server's part fails when the daemon does not answer.
		args = append(args, "--format", "{{.Server.Version}}")
	}
	_, err := r.Run(ctx, run.Cmd{Name: e.Binary, Args: args})
	switch {
	case err == nil:
		return nil
	case run.IsNotFound(err):
		return e.NotInstalled(needs, fix)
	}
	return e.NotRunning(err)
}
