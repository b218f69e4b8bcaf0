package install

import (
	"fmt"
	"strings"
	"time"

	"github.com/devcluster/devcluster/internal/text"
)

// Describe is a one-line account of a download's progress: "52.1 MiB of
// 130.2 MiB (40%), 11.3 MiB/s".
func Describe(p Progress) string {
	var b strings.Builder
	b.WriteString(text.Bytes(p.Done))
	if p.Total > 0 {
		fmt.Fprintf(&b, " of %s (%d%%)", text.Bytes(p.Total), percent(p))
	}
	if rate := Rate(p); rate > 0 {
		fmt.Fprintf(&b, ", %s/s", text.Bytes(int64(rate)))
	}
	if p.Attempt > 1 {
		fmt.Fprintf(&b, ", attempt %d", p.Attempt)
	}
	return b.String()
}

// Bar draws the progress as a bar of width cells, "[=====>    ]", or an
// empty string while the total is unknown.
func Bar(p Progress, width int) string {
	if p.Total <= 0 || width < 3 {
		return ""
	}
	inner := width - 2
	full := int(int64(inner) * min(p.Done, p.Total) / p.Total)
	s := strings.Repeat("=", full)
	if full < inner {
		s += ">" + strings.Repeat(" ", inner-full-1)
	}
	return "[" + s + "]"
}

// Rate is the mean speed in bytes per second.
func Rate(p Progress) float64 {
	if p.Elapsed < 100*time.Millisecond {
		return 0
	}
	return float64(p.Done) / p.Elapsed.Seconds()
}

func percent(p Progress) int {
	if p.Total <= 0 {
		return 0
	}
	return int(100 * min(p.Done, p.Total) / p.Total)
}

// Percent is the share done, 0..100 (0 while the total is unknown).
func Percent(p Progress) int { return percent(p) }
