// Command devcluster gives a developer or a CI job a working local
// Kubernetes cluster in one command. See `devcluster --help`.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/devcluster/devcluster/cmd/devcluster/app"
)

func main() {
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := app.Run(ctx, app.System(), os.Args)
	cancel()
	os.Exit(app.ExitCode(err))
}
