// Command prepare builds (or finds cached) the binaries the end-to-end tiers
// run, so a CI job can build them in a step of their own before the tests.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/devcluster/devcluster/e2e/harness"
)

func main() {
	bins, err := harness.EnsureBinaries(context.Background(), func(f string, a ...any) {
		fmt.Fprintf(os.Stderr, f+"\n", a...)
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
	fmt.Println(bins.Dir)
}
