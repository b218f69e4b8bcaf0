package app

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"strings"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/devcluster/devcluster/install"
)

// The build's identity, set at link time by the release build
// (.goreleaser.yaml) and `task build`:
//
//	-X github.com/devcluster/devcluster/cmd/devcluster/app.Version=v0.1.0
//	-X github.com/devcluster/devcluster/cmd/devcluster/app.Commit=<git sha>
//	-X github.com/devcluster/devcluster/cmd/devcluster/app.Date=<RFC 3339 time>
//
// A build without them (go install, go build) takes the commit and its time
// from the VCS stamp Go writes into the binary, where there is one.
var (
	Version = "dev"
	Commit  = ""
	Date    = ""
)

// versionInfo is what `version` prints.
type versionInfo struct {
	Version string `json:"version"`
	// Commit is the source's git commit, "-dirty" appended when the
	// working tree had changes.
	Commit string `json:"commit,omitempty"`
	// Date is when the commit was made (RFC 3339): a release stamps its
	// commit's date, so a rebuild of a tag is the same file.
	Date      string `json:"date,omitempty"`
	GoVersion string `json:"goVersion"`
	Platform  string `json:"platform"`
	// Pinned are the releases of the cluster tools devcluster installs
	// when they are missing, by tool.
	Pinned pinnedTools `json:"pinned"`
}

type pinnedTools struct {
	Minikube string `json:"minikube"`
	Kind     string `json:"kind"`
}

// buildInfo is this build's versionInfo.
func buildInfo() versionInfo {
	v := versionInfo{Version: Version, Commit: Commit, Date: Date, GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH,
		Pinned: pinnedTools{Minikube: install.Minikube.Version, Kind: install.Kind.Version}}
	if bi, ok := debug.ReadBuildInfo(); ok {
		fromVCS(&v, bi.Settings)
	}
	return v
}

// fromVCS fills the commit and date the linker left empty from Go's VCS
// stamp.
func fromVCS(v *versionInfo, settings []debug.BuildSetting) {
	var rev, when string
	dirty := false
	for _, s := range settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			when = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if v.Commit == "" && rev != "" {
		v.Commit = rev
		if dirty {
			v.Commit += "-dirty"
		}
	}
	if v.Date == "" {
		v.Date = when
	}
}

// line is the one-line version: `devcluster --version`, the first line of
// `devcluster version`.
func (v versionInfo) line() string {
	s := "devcluster " + v.Version
	var about []string
	if v.Commit != "" {
		about = append(about, "commit "+shortCommit(v.Commit))
	}
	if v.Date != "" {
		about = append(about, "built "+v.Date)
	}
	if len(about) > 0 {
		s += " (" + strings.Join(about, ", ") + ")"
	}
	return s + " " + v.GoVersion + " " + v.Platform
}

func shortCommit(c string) string {
	rev, dirty := strings.CutSuffix(c, "-dirty")
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if dirty {
		rev += "-dirty"
	}
	return rev
}

func printVersion(w io.Writer, v versionInfo) {
	fmt.Fprintln(w, v.line())
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "  Commit\t%s\n", orDash(v.Commit))
	fmt.Fprintf(tw, "  Date\t%s\n", orDash(v.Date))
	fmt.Fprintf(tw, "  minikube\t%s (pinned: installed when missing)\n", v.Pinned.Minikube)
	fmt.Fprintf(tw, "  kind\t%s (pinned: installed when missing)\n", v.Pinned.Kind)
	_ = tw.Flush()
}

func (g *globals) versionString() string { return buildInfo().Version }

func newVersionCommand(g *globals) *cli.Command {
	var output string
	return &cli.Command{
		Name:  "version",
		Usage: "print devcluster's version, its commit and the commit's date, and the minikube and kind releases it installs",
		Flags: []cli.Flag{outputFlag(&output)},
		Action: func(c *cli.Context) error {
			if err := resultCommand(c, output); err != nil {
				return err
			}
			v := buildInfo()
			return g.output(output, v, func(w io.Writer) { printVersion(w, v) })
		},
	}
}
