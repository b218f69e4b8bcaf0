// Command docker is the test-only docker stand-in (see package
// internal/fake/docker). The kind tiers put it on PATH as "docker".
package main

import (
	"context"
	"os"

	fakedocker "github.com/devcluster/devcluster/internal/fake/docker"
)

func main() {
	os.Exit(fakedocker.Main(context.Background(), fakedocker.Env{
		Args: os.Args[1:], Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, LookupEnv: os.LookupEnv,
	}))
}
