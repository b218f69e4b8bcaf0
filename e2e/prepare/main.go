//go:build linux

// Command prepare builds (or finds cached) the binaries the end-to-end tiers
// run, so a CI job can build them in a step of their own before the tests.
// With -minikube it builds real minikube from source instead, for the
// contract tier.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/devcluster/devcluster/e2e/harness"
)

func main() {
	minikube := flag.Bool("minikube", false, "build real minikube "+harness.MinikubeVersion+" from its module source")
	flag.Parse()
	logf := func(f string, a ...any) { fmt.Fprintf(os.Stderr, f+"\n", a...) }
	var out string
	var err error
	if *minikube {
		out, err = harness.EnsureMinikube(context.Background(), logf)
	} else {
		var bins *harness.Binaries
		if bins, err = harness.EnsureBinaries(context.Background(), logf); err == nil {
			out = bins.Dir
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
	fmt.Println(out)
}
