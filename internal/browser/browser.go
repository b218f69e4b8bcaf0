// Package browser opens a URL in the user's web browser with the platform's
// own opener (xdg-open on Linux and the BSDs, open on macOS, the URL handler
// of rundll32 on Windows), run through devcluster's one command runner. It
// decides first whether opening makes sense at all: never in CI, never
// without a display, never for anything but an http or https URL with a
// host — a URL read from the cluster must not reach a program as a flag,
// a file or another scheme.
package browser

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"runtime"
	"strings"
	"time"

	"github.com/devcluster/devcluster/internal/run"
)

// openTimeout bounds the opener: xdg-open, open and rundll32 hand the URL
// to the browser and return.
const openTimeout = 15 * time.Second

// Env looks up an environment variable (os.LookupEnv in production).
type Env func(key string) (string, bool)

// opener is one platform's way to open a URL: the candidate command lines
// in order of preference (the first whose program exists is used), and
// whether the host can show a browser at all.
type opener struct {
	// name names the platform in messages.
	name string
	// commands are the candidate argv for url, best first.
	commands func(env Env, url string) [][]string
	// display says why no browser can be shown ("" when one can).
	display func(env Env) string
}

// openers are the platforms' openers by GOOS; each lives in a file of its
// own (opener_xdg.go, opener_macos.go, opener_win.go), compiled on every
// platform so that each is tested everywhere. GOOS values without one use
// xdg's (the BSDs, illumos).
var openers = map[string]opener{}

func openerFor(goos string) opener {
	if o, ok := openers[goos]; ok {
		return o
	}
	return openers["linux"]
}

// Opener opens URLs.
type Opener struct {
	// Runner runs the opener.
	Runner run.Runner
	// Env is the process environment.
	Env Env
	// GOOS is the platform; "" means runtime.GOOS.
	GOOS string
}

// ErrNoDisplay is returned by Open when the host cannot show a browser (a
// Linux host without DISPLAY or WAYLAND_DISPLAY, logged in over ssh).
var ErrNoDisplay = errors.New("no display to open a browser on")

// ErrNoOpener is returned by Open when none of the platform's openers is
// installed.
var ErrNoOpener = errors.New("no program to open a browser with")

// Check validates a URL for opening: absolute http or https, with a host,
// no credentials, and nothing a program could read as an option.
func Check(raw string) error {
	if raw == "" || strings.HasPrefix(raw, "-") {
		return fmt.Errorf("%q is not a URL to open", raw)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%q is not a URL to open: %v", raw, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("%q is not an http or https URL", raw)
	}
	if u.Host == "" || u.Opaque != "" || u.User != nil {
		return fmt.Errorf("%q is not a URL to open: it needs a host and no credentials", raw)
	}
	for _, r := range raw {
		if r <= ' ' || r == 0x7f || strings.ContainsRune("\"'^&|<>`", r) {
			return fmt.Errorf("%q is not a URL to open: it holds %q", raw, r)
		}
	}
	return nil
}

// Command is the command line that would open url on this platform, or
// the reason there is none (ErrNoDisplay, ErrNoOpener).
func (o Opener) Command(url string) ([]string, error) {
	if err := Check(url); err != nil {
		return nil, err
	}
	env := o.Env
	if env == nil {
		env = func(string) (string, bool) { return "", false }
	}
	goos := o.GOOS
	if goos == "" {
		goos = runtime.GOOS
	}
	op := openerFor(goos)
	if why := op.display(env); why != "" {
		return nil, fmt.Errorf("%w: %s", ErrNoDisplay, why)
	}
	var tried []string
	for _, argv := range op.commands(env, url) {
		if _, err := run.Which(o.Runner, argv[0]); err == nil {
			return argv, nil
		}
		tried = append(tried, argv[0])
	}
	return nil, fmt.Errorf("%w on %s (tried %s)", ErrNoOpener, op.name, strings.Join(tried, ", "))
}

// Open opens url in the browser, bounded by openTimeout.
func (o Opener) Open(ctx context.Context, url string) error {
	argv, err := o.Command(url)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, openTimeout)
	defer cancel()
	if _, err := o.Runner.Run(ctx, run.Cmd{Name: argv[0], Args: argv[1:]}); err != nil {
		return fmt.Errorf("opening the browser: %w", err)
	}
	return nil
}
