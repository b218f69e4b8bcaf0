package app

import (
	"bytes"
	"fmt"
	"strings"
	"sync"

	"github.com/urfave/cli/v2"

	"github.com/devcluster/devcluster/bootstrap"
	"github.com/devcluster/devcluster/internal/ui"
)

func newRegistryServeCommand(g *globals) *cli.Command {
	var name, dataDir string
	var listen cli.StringSlice
	return &cli.Command{
		Name:  "serve",
		Usage: "run the registry in the foreground (Ctrl-C stops it)",
		Flags: []cli.Flag{
			nameFlag(&name), providerFlag(), contextFlag(),
			&cli.StringFlag{Name: "data-dir", Usage: "storage `DIR`", DefaultText: "the cluster's registry data directory", Destination: &dataDir},
			&cli.StringSliceFlag{Name: "listen", Usage: "`HOST:PORT` to listen on (repeatable)", DefaultText: "127.0.0.1:<registry port>", Destination: &listen},
		},
		Action: func(c *cli.Context) error {
			cfg, t, err := g.registryEndpoint(c, name, "")
			if err != nil {
				return err
			}
			p := g.printer()
			log := &logLines{p: p}
			defer log.flush()
			return bootstrap.ServeRegistry(c.Context, t, cfg, bootstrap.ServeOptions{DataDir: dataDir, Listen: listen.Value(), Log: log, Verbose: g.verbose,
				Serving: func(addrs []string, dataDir string) {
					p.Info(fmt.Sprintf("Serving the registry on %s (data in %s). Ctrl-C stops it.", strings.Join(addrs, ", "), dataDir))
				}})
		},
	}
}

// logLines hands each line the registry logs to the printer, so that -q
// and the CI conventions apply to them and text from clients is cleaned
// as every line the printer prints: warnings and errors (logrus'
// level=warning, error, fatal and panic) as warnings, the rest (the
// requests, with -v) as information.
type logLines struct {
	p   *ui.Printer
	mu  sync.Mutex
	buf []byte
}

func (l *logLines) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, b...)
	for {
		i := bytes.IndexByte(l.buf, '\n')
		if i < 0 {
			return len(b), nil
		}
		l.print(string(l.buf[:i]))
		l.buf = l.buf[i+1:]
	}
}

// flush prints a last line that has no newline.
func (l *logLines) flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.buf) > 0 {
		l.print(string(l.buf))
		l.buf = nil
	}
}

func (l *logLines) print(line string) {
	for _, lvl := range []string{"level=warning", "level=error", "level=fatal", "level=panic"} {
		if strings.Contains(line, lvl) {
			l.p.Warn(line)
			return
		}
	}
	l.p.Info(line)
}
