//go:build unix

package bootstrap

import "syscall"

// noFollow makes an open refuse a symbolic link in the last element.
const noFollow = syscall.O_NOFOLLOW
