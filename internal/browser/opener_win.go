package browser

// Windows: the URL handler of url.dll through rundll32, which takes the URL
// as one argument and no shell reads it (`cmd /c start` would read & and ^).
func init() {
	openers["windows"] = opener{
		name: "Windows",
		commands: func(_ Env, url string) [][]string {
			return [][]string{{"rundll32", "url.dll,FileProtocolHandler", url}}
		},
		display: func(Env) string { return "" },
	}
}
