package registry

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"syscall"

	"github.com/devcluster/devcluster/internal/porthold"
)

// listen binds addr, and explains a failure: an address that is not a
// host:port, a port in use (naming the process that holds it when this host
// lets us see it), or an address that does not belong to this host.
func listen(addr string) (net.Listener, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("invalid listen address %q: use HOST:PORT, for example 127.0.0.1:5001", addr)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return nil, fmt.Errorf("invalid listen address %q: the port must be a number from 0 to 65535", addr)
	}
	l, err := net.Listen("tcp", addr)
	if err == nil {
		return l, nil
	}
	switch {
	case errors.Is(err, syscall.EADDRINUSE):
		p, _ := strconv.Atoi(port)
		if who := porthold.Holder(p); who != "" {
			return nil, fmt.Errorf("port %s is in use by %s (listening on %s)", port, who, addr)
		}
		return nil, fmt.Errorf("port %s is in use (listening on %s)", port, addr)
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return nil, fmt.Errorf("cannot listen on %s: %s is not an address of this host", addr, host)
	}
	return nil, fmt.Errorf("listening on %s: %w", addr, err)
}
