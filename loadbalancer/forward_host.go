package loadbalancer

import (
	"os"
	"strings"
	"unicode"
)

func euid() int { return os.Geteuid() }

// cleanComm keeps a process name printable: it ends up in an event.
func cleanComm(s string) string {
	s = strings.TrimSpace(s)
	return strings.Map(func(r rune) rune {
		if unicode.IsPrint(r) && r != '"' {
			return r
		}
		return -1
	}, s)
}
