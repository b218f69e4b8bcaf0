package install

import "github.com/devcluster/devcluster/internal/run"

// Executable is the executable to run for tool: explicit (a flag's or an
// environment variable's value) when it names one that exists, else the
// tool on PATH ("", which lets the provider use its name), else the pinned
// release installed in dir, else explicit, so that the error names what
// was asked for. dir "" skips the installed release.
func Executable(r run.Runner, tool, explicit, dir string) string {
	want := explicit
	if want == "" {
		want = tool
	}
	if _, err := run.Which(r, want); err == nil {
		return explicit
	}
	if rel, err := Lookup(tool); err == nil && dir != "" {
		if p, ok := (&Installer{Dir: dir}).Installed(rel); ok {
			return p
		}
	}
	return explicit
}
