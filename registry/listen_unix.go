//go:build unix

package registry

import "syscall"

// The errors of a listen on a port in use and on an address of another
// host.
const (
	errAddrInUse    = syscall.EADDRINUSE
	errAddrNotAvail = syscall.EADDRNOTAVAIL
)
