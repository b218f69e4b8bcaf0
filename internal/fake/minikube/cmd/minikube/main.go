// Command minikube is the test-only stand-in for minikube (see package
// standin). The end-to-end tiers put it on PATH as "minikube".
package main

import (
	"context"
	"os"

	fakeminikube "github.com/devcluster/devcluster/internal/fake/minikube"
)

func main() {
	os.Exit(fakeminikube.Main(context.Background(), fakeminikube.Env{
		Args: os.Args[1:], Stdout: os.Stdout, Stderr: os.Stderr, Stdin: os.Stdin, LookupEnv: os.LookupEnv,
	}))
}
