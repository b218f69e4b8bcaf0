// Package text holds the small formatting helpers every layer shares: byte
// counts in IEC units, the last lines of a text or a log file, and a dash
// for an empty field. It prints nothing and imports only the standard
// library.
package text

import (
	"bytes"
	"fmt"
	"io"
	"os"
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

// TailFile returns the last n lines of the file at path (see Tail), reading
// at most max bytes from its end, so that a log of any size costs the same;
// when the file is longer, the first line read, cut by the limit, is left
// out.
func TailFile(path string, n int, max int64) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	cut := info.Size() > max
	if cut {
		if _, err := f.Seek(info.Size()-max, io.SeekStart); err != nil {
			return nil, err
		}
	}
	b, err := io.ReadAll(io.LimitReader(f, max))
	if err != nil {
		return nil, err
	}
	if cut {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			return nil, nil // one line longer than max: none of it is whole
		}
		b = b[i+1:]
	}
	return Tail(string(b), n), nil
}

// OrDash is s, or "-" when s is empty: the placeholder of a table cell or a
// field that has no value.
func OrDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
