package testutil

import (
	"regexp"
	"strings"
	"unicode"
)

// WorkflowCommand is a line the GitHub Actions runner would act on.
type WorkflowCommand struct {
	// Line is the 1-based line of the log.
	Line int
	// Name is the command in lower case: "error", "add-mask", "group", the
	// stop token when it resumes processing, ...
	Name string
	// Properties are the command's key=value pairs.
	Properties map[string]string
	// Data is the text after the command.
	Data string
	// Raw is the log line.
	Raw string
}

// githubCommands are the workflow commands the runner registers
// (actions/runner, src/Runner.Worker: ActionCommandManager and its
// extensions), plus stop-commands.
var githubCommands = []string{"add-mask", "add-matcher", "remove-matcher", "add-path", "debug", "notice", "warning",
	"error", "group", "endgroup", "echo", "save-state", "set-output", "set-env", "stop-commands"}

// GitHubCommands reads a step's log the way the GitHub Actions runner does
// and returns every line it would act on, in order. The rules, from
// actions/runner (ActionCommandManager.TryProcessCommand,
// ActionCommand.TryParseV2 and TryParse):
//
//   - the log is read line by line; "\n", "\r\n" and a lone "\r" end a line
//     (.NET's ReadLine);
//   - v2 form: after leading white space (Char.IsWhiteSpace) is trimmed, the
//     line starts with "::", and the command runs up to the next "::"; its
//     name ends at the first space, the properties after it are
//     comma-separated key=value pairs, the data is what follows the "::";
//   - legacy form, tried when the v2 form does not match: "##[" anywhere in
//     the line, the command up to the next "]", properties separated by ";";
//   - names are case-insensitive and must be registered; others are text;
//   - ::stop-commands::TOKEN stops processing: until a command named TOKEN
//     (::TOKEN:: or ##[TOKEN]) resumes it, no line is acted on.
//
// The runner compares with .NET's culture-sensitive StartsWith and IndexOf,
// which skip default-ignorable characters (soft hyphen, zero-width joiner,
// ...), so this parser drops them before matching: it finds every command
// the runner would find, and possibly more, never fewer.
func GitHubCommands(log string) []WorkflowCommand {
	registered := map[string]bool{}
	for _, c := range githubCommands {
		registered[c] = true
	}
	var out []WorkflowCommand
	stopToken := ""
	for i, raw := range runnerLines(log) {
		line := dropIgnorable(raw)
		c, ok := parseV2(line, registered, stopToken)
		if !ok {
			c, ok = parseLegacy(line, registered, stopToken)
		}
		if !ok {
			continue
		}
		c.Line, c.Raw = i+1, raw
		switch {
		case stopToken != "":
			if c.Name != stopToken {
				continue // stopped: only the token resumes
			}
			stopToken = ""
		case c.Name == "stop-commands":
			stopToken = strings.ToLower(c.Data)
		}
		out = append(out, c)
	}
	return out
}

// runnerLines splits as .NET's TextReader.ReadLine does.
func runnerLines(s string) []string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	s = strings.TrimSuffix(s, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

func dropIgnorable(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.Is(unicode.Cf, r) || unicode.Is(unicode.Other_Default_Ignorable_Code_Point, r) ||
			unicode.Is(unicode.Variation_Selector, r) || r == 0 {
			return -1
		}
		return r
	}, s)
}

func known(name string, registered map[string]bool, stopToken string) bool {
	name = strings.ToLower(name)
	return registered[name] || (stopToken != "" && name == stopToken)
}

func parseV2(line string, registered map[string]bool, stopToken string) (WorkflowCommand, bool) {
	msg := strings.TrimLeftFunc(line, unicode.IsSpace)
	if !strings.HasPrefix(msg, "::") {
		return WorkflowCommand{}, false
	}
	end := strings.Index(msg[2:], "::")
	if end < 0 {
		return WorkflowCommand{}, false
	}
	info := msg[2 : 2+end]
	name, props, _ := strings.Cut(info, " ")
	if !known(name, registered, stopToken) {
		return WorkflowCommand{}, false
	}
	c := WorkflowCommand{Name: strings.ToLower(name), Properties: map[string]string{}, Data: unescape(msg[2+end+2:], false)}
	for _, p := range strings.Split(strings.TrimSpace(props), ",") {
		if k, v, ok := strings.Cut(p, "="); ok && k != "" && v != "" {
			c.Properties[strings.ToLower(k)] = unescape(v, true)
		}
	}
	return c, true
}

func parseLegacy(line string, registered map[string]bool, stopToken string) (WorkflowCommand, bool) {
	i := strings.Index(line, "##[")
	if i < 0 {
		return WorkflowCommand{}, false
	}
	rb := strings.IndexByte(line[i:], ']')
	if rb < 0 {
		return WorkflowCommand{}, false
	}
	info := line[i+3 : i+rb]
	name, props, _ := strings.Cut(info, " ")
	if !known(name, registered, stopToken) {
		return WorkflowCommand{}, false
	}
	c := WorkflowCommand{Name: strings.ToLower(name), Properties: map[string]string{}, Data: unescape(line[i+rb+1:], false)}
	for _, p := range strings.Split(props, ";") {
		if k, v, ok := strings.Cut(p, "="); ok && k != "" && v != "" {
			c.Properties[strings.ToLower(k)] = unescape(v, true)
		}
	}
	return c, true
}

func unescape(s string, property bool) string {
	pairs := []string{"%0D", "\r", "%0A", "\n"}
	if property {
		pairs = append(pairs, "%3A", ":", "%2C", ",")
	}
	pairs = append(pairs, "%25", "%")
	return strings.NewReplacer(pairs...).Replace(s)
}

var (
	ownStop   = regexp.MustCompile(`^::stop-commands::[0-9a-f]{32}$`)
	ownResume = regexp.MustCompile(`^::[0-9a-f]{32}::$`)
)

// ForeignGitHubCommands returns the commands of log that devcluster does
// not write: its own are group, endgroup, warning and error at the very
// start of a line, and the ::stop-commands:: blocks, with tokens of 32 hex
// digits, around text from outside. Anything else — an add-mask, an
// indented or legacy command, a stop-commands of another token — came from
// the text devcluster printed.
func ForeignGitHubCommands(log string) []WorkflowCommand {
	var out []WorkflowCommand
	for _, c := range GitHubCommands(log) {
		switch {
		case (c.Name == "group" || c.Name == "endgroup" || c.Name == "warning" || c.Name == "error") && strings.HasPrefix(c.Raw, "::"+c.Name):
		case c.Name == "stop-commands" && ownStop.MatchString(c.Raw):
		case ownResume.MatchString(c.Raw):
		default:
			out = append(out, c)
		}
	}
	return out
}
