// Command minikube is the test-only stand-in for minikube (see package
// standin). The end-to-end tiers put it on PATH as "minikube".
package main

import (
	"context"
	"os"

	"github.com/devcluster/devcluster/internal/standin"
)

func main() {
	os.Exit(standin.Main(context.Background(), standin.Env{
		Args: os.Args[1:], Stdout: os.Stdout, Stderr: os.Stderr, Stdin: os.Stdin, LookupEnv: os.LookupEnv,
	}))
}
