// Package text holds the small formatting helpers every layer shares: byte
// counts in IEC units, the last lines of a log, and a dash for an empty
// field. It prints nothing and imports only the standard library.
package text

import (
	"fmt"
	"strings"
)

// Bytes renders a byte count in binary (IEC) units, one decimal above a
// KiB: "512 B", "2.0 KiB", "1.5 MiB", "4.0 GiB". Negative counts (an
// unknown length) render as they are, in bytes.
func Bytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// Tail returns the last n lines of s, without their line ends. A final
// line end does not start an empty line; n <= 0 returns none.
func Tail(s string, n int) []string {
	if n <= 0 || s == "" {
		return nil
	}
	s = strings.TrimSuffix(s, "\n")
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return lines
}

// OrDash is s, or "-" when s is empty: the placeholder of a table cell or a
// field that has no value.
func OrDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
