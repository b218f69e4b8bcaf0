package browser

// macOS: open(1) hands the URL to the default browser; a login over ssh
// has no window server to show it on.
func init() {
	openers["darwin"] = opener{
		name: "macOS",
		commands: func(_ Env, url string) [][]string {
			return [][]string{{"open", url}}
		},
		display: func(env Env) string {
			if v, ok := env("SSH_CONNECTION"); ok && v != "" {
				return "logged in over ssh"
			}
			return ""
		},
	}
}
