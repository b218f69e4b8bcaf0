package browser

import "strings"

// Linux and the other freedesktop.org systems: xdg-open, then the Debian
// alternatives; under WSL the Windows browser through wslview (wslu) or
// the Windows URL handler, since a WSL distribution rarely has a browser of
// its own.
func init() {
	openers["linux"] = opener{
		name: "Linux",
		commands: func(env Env, url string) [][]string {
			var out [][]string
			if isWSL(env) {
				out = append(out, []string{"wslview", url}, []string{"rundll32.exe", "url.dll,FileProtocolHandler", url})
			}
			return append(out, []string{"xdg-open", url}, []string{"x-www-browser", url}, []string{"www-browser", url})
		},
		display: func(env Env) string {
			if isWSL(env) {
				return ""
			}
			for _, k := range []string{"DISPLAY", "WAYLAND_DISPLAY"} {
				if v, ok := env(k); ok && v != "" {
					return ""
				}
			}
			return "neither DISPLAY nor WAYLAND_DISPLAY is set"
		},
	}
}

// isWSL reports a Windows Subsystem for Linux distribution (WSL sets
// WSL_DISTRO_NAME in every process it starts).
func isWSL(env Env) bool {
	v, ok := env("WSL_DISTRO_NAME")
	return ok && strings.TrimSpace(v) != ""
}
