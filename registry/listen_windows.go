package registry

import "syscall"

// The errors of a listen on a port in use and on an address of another
// host: Winsock's own numbers (WSAEADDRINUSE, WSAEADDRNOTAVAIL), not the
// POSIX ones the syscall package invents for Windows.
const (
	errAddrInUse    = syscall.Errno(10048)
	errAddrNotAvail = syscall.Errno(10049)
)
