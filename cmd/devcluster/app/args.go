package app

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/devcluster/devcluster/internal/problem"
)

// Flags go anywhere on the command line, as kubectl's and kind's do: the
// global flags before or after the command, a subcommand or the
// positional arguments (`devcluster registry push app.tar app:dev -o json
// -q`), and every command's own flags after its arguments. urfave/cli
// stops at the first argument and knows the global flags only before the
// command, so the command line is put in the order it understands first:
// the global flags, then each command with its own flags, then "--" and the
// positional arguments.
//
// The rules, in the order they apply to a word that starts with "-":
//   - "--" ends the flags: every word after it is an argument.
//   - A flag of the command being read is that command's (the hidden agent
//     command has its own --kubeconfig); otherwise a global flag's name is
//     the global flag, wherever it is.
//   - A value flag takes "=value" or the next word, whatever it looks like
//     (`-f -` reads standard input), as Go's flag package does.
//   - Short letters bundle as in getopt and kubectl: `-qv` is -q -v, `-qo
//     json` and `-qojson` are -q -o json, `-napps` is -n apps.
//   - A global flag given twice with different values is an error (there is
//     one configuration file, one kubeconfig), wherever the two are.
//   - A letter the command does not take but another command does is an
//     error that says what the letter means (`up -n dev`: -n is the
//     namespace; the cluster's name is --name or -p). Any other unknown
//     flag is an error too.
type commandLine struct {
	// globals are the global flags' words, in the order given.
	globals []string
	// levels are the command, its subcommand...: each with its own flags.
	levels []*cmdLevel
	// args are the positional arguments.
	args []string
	// rest is what follows a word that names no command (an unknown
	// command or help's topic), left as it is.
	rest []string
	// unknown are the flags no command defines.
	unknown []string
	// given is each global flag's value, by its name.
	given map[string]string
}

type cmdLevel struct {
	cmd   *cli.Command // nil: the app
	flags []string
}

// letterAdvice says where a letter's former meaning went.
var letterAdvice = map[string]string{
	"n": "give the cluster's name with --name NAME or -p NAME",
}

// parseCommandLine takes args (args[0] is the program) apart.
func parseCommandLine(a *cli.App, args []string) (*commandLine, error) {
	cl := &commandLine{levels: []*cmdLevel{{}}, given: map[string]string{}}
	words := args[1:]
	for i := 0; i < len(words); i++ {
		w := words[i]
		lv := cl.levels[len(cl.levels)-1]
		switch {
		case w == "--":
			cl.args = append(cl.args, words[i+1:]...)
			return cl, nil
		case strings.HasPrefix(w, "-") && w != "-":
			used, err := cl.flag(a, lv, w, words[i+1:])
			if err != nil {
				return nil, err
			}
			i += used
		case len(cl.args) > 0 || (lv.cmd != nil && len(lv.cmd.Subcommands) == 0):
			cl.args = append(cl.args, w)
		default:
			next := findCommand(a, lv.cmd, w)
			if next == nil {
				cl.rest = words[i:]
				return cl, nil
			}
			cl.levels = append(cl.levels, &cmdLevel{cmd: next})
		}
	}
	return cl, nil
}

// findCommand is the subcommand name of parent (the app's command when
// parent is nil).
func findCommand(a *cli.App, parent *cli.Command, name string) *cli.Command {
	if parent == nil {
		return a.Command(name)
	}
	return parent.Command(name)
}

// flag takes in the flag word w, and its value from next when it needs
// one; it returns how many words of next it used.
func (cl *commandLine) flag(a *cli.App, lv *cmdLevel, w string, next []string) (int, error) {
	name, value, hasValue := strings.Cut(strings.TrimLeft(w, "-"), "=")
	if strings.HasPrefix(w, "---") || name == "" {
		cl.unknownFlag(lv, w)
		return 0, nil
	}
	if f, global := lookupFlag(a, lv, name); f != nil {
		if !hasValue && takesValue(f) {
			if len(next) == 0 {
				return 0, problem.New(problem.Usage, "", fmt.Errorf("flag needs an argument: %s", w), "give it a value: "+w+" VALUE")
			}
			return 1, cl.add(lv, f, global, w, next[0], true)
		}
		return 0, cl.add(lv, f, global, w, value, hasValue)
	}
	if strings.HasPrefix(w, "--") || hasValue {
		cl.unknownFlag(lv, w)
		return 0, nil
	}
	// Bundled short letters: check them all before taking any.
	type letter struct {
		name, value string
		f           cli.Flag
		global      bool
	}
	var letters []letter
	used := 0
	for j, r := range name {
		l := letter{name: string(r)}
		if l.f, l.global = lookupFlag(a, lv, l.name); l.f == nil {
			if err := cl.letterElsewhere(a, l.name); err != nil {
				return 0, err
			}
			cl.unknownFlag(lv, w)
			return 0, nil
		}
		letters = append(letters, l)
		if takesValue(l.f) {
			// The rest of the word is the value, else the next word.
			if rest := name[j+len(l.name):]; rest != "" {
				letters[len(letters)-1].value = rest
			} else if len(next) > 0 {
				letters[len(letters)-1].value, used = next[0], 1
			} else {
				return 0, problem.New(problem.Usage, "", fmt.Errorf("flag needs an argument: -%s", l.name), "give it a value: -"+l.name+" VALUE")
			}
			break
		}
	}
	for _, l := range letters {
		if err := cl.add(lv, l.f, l.global, "-"+l.name, l.value, takesValue(l.f)); err != nil {
			return 0, err
		}
	}
	return used, nil
}

func (cl *commandLine) unknownFlag(lv *cmdLevel, w string) {
	cl.unknown = append(cl.unknown, w)
	lv.flags = append(lv.flags, w)
}

// add records one flag: a global one once, checked against an earlier
// value, a command's own at its command.
func (cl *commandLine) add(lv *cmdLevel, f cli.Flag, global bool, word, value string, hasValue bool) error {
	if !global {
		lv.flags = append(lv.flags, word)
		if takesValue(f) && !strings.Contains(word, "=") {
			lv.flags = append(lv.flags, value)
		}
		return nil
	}
	name := f.Names()[0]
	if !hasValue {
		value = "true"
	}
	if _, isBool := f.(*cli.BoolFlag); isBool {
		b, err := strconv.ParseBool(value)
		if err != nil {
			return problem.New(problem.Usage, "", fmt.Errorf("invalid value %q for flag --%s: use true or false", value, name), "")
		}
		value = strconv.FormatBool(b)
	}
	if prev, ok := cl.given[name]; ok {
		if prev != value {
			return problem.New(problem.Usage, "", fmt.Errorf("--%s is given twice, as %q and %q", name, prev, value), "give it once")
		}
		return nil
	}
	cl.given[name] = value
	cl.globals = append(cl.globals, "--"+name+"="+value)
	return nil
}

// letterElsewhere is the error for a short letter the command does not
// take but another command does.
func (cl *commandLine) letterElsewhere(a *cli.App, letter string) error {
	var uses []string
	long := ""
	walkCommands(a.Commands, nil, func(path []string, c *cli.Command) {
		for _, f := range c.Flags {
			if slices.Contains(f.Names()[1:], letter) && !c.Hidden {
				long = f.Names()[0]
				uses = append(uses, strings.Join(path, " "))
			}
		}
	})
	if long == "" {
		return nil
	}
	if len(uses) > 3 {
		uses = append(uses[:3], "…")
	}
	subject, help := "there is no global -"+letter, "devcluster --help"
	if p := cl.path(); p != "" {
		subject, help = p+" has no -"+letter, "devcluster "+p+" --help"
	}
	fix := "run `" + help + "` for the flags"
	if advice, ok := letterAdvice[letter]; ok {
		fix = advice + "; " + fix
	}
	return problem.New(problem.Usage, "", fmt.Errorf("%s: -%s is --%s (%s)", subject, letter, long, strings.Join(uses, ", ")), fix)
}

// walkCommands calls fn for every command and subcommand, with the words
// that name it.
func walkCommands(cmds []*cli.Command, prefix []string, fn func([]string, *cli.Command)) {
	for _, c := range cmds {
		p := append(slices.Clone(prefix), c.Name)
		fn(p, c)
		walkCommands(c.Subcommands, p, fn)
	}
}

// lookupFlag finds a flag by name: the command's own first, then the
// global ones. help is every command's.
func lookupFlag(a *cli.App, lv *cmdLevel, name string) (cli.Flag, bool) {
	if lv.cmd != nil {
		if f := flagNamed(lv.cmd.Flags, name); f != nil {
			return f, false
		}
	}
	if f := flagNamed(a.Flags, name); f != nil {
		return f, true
	}
	if cli.HelpFlag != nil && slices.Contains(cli.HelpFlag.Names(), name) {
		return cli.HelpFlag, false
	}
	return nil, false
}

func flagNamed(flags []cli.Flag, name string) cli.Flag {
	for _, f := range flags {
		if slices.Contains(f.Names(), name) {
			return f
		}
	}
	return nil
}

// takesValue reports whether a flag takes a value (every flag but a bool).
func takesValue(f cli.Flag) bool {
	_, isBool := f.(*cli.BoolFlag)
	return !isBool
}

// argv is the command line in urfave/cli's order.
func (cl *commandLine) argv(program string) []string {
	out := append([]string{program}, cl.globals...)
	for _, lv := range cl.levels {
		if lv.cmd != nil {
			out = append(out, lv.cmd.Name)
		}
		out = append(out, lv.flags...)
	}
	if len(cl.args) > 0 {
		out = append(out, "--")
		out = append(out, cl.args...)
	}
	return append(out, cl.rest...)
}

// orderArgs is args in urfave/cli's order (see commandLine). A flag no
// command defines is an error, named as it was typed (Go's flag package
// would say "-bogus" for --bogus).
func orderArgs(a *cli.App, args []string) ([]string, error) {
	if len(args) == 0 {
		return args, nil
	}
	cl, err := parseCommandLine(a, args)
	if err != nil {
		return nil, err
	}
	if len(cl.unknown) > 0 {
		help := "devcluster --help"
		if p := cl.path(); p != "" {
			help = "devcluster " + p + " --help"
		}
		// Without its value, which may be anything (a token mistyped
		// into a flag's place).
		name, _, _ := strings.Cut(cl.unknown[0], "=")
		return nil, problem.New(problem.Usage, "", fmt.Errorf("unknown flag: %s", name), "run `"+help+"` for the flags (the global ones included)")
	}
	return cl.argv(args[0]), nil
}

// path is the command's words ("registry push"), "" for the app.
func (cl *commandLine) path() string {
	var p []string
	for _, lv := range cl.levels[1:] {
		p = append(p, lv.cmd.Name)
	}
	return strings.Join(p, " ")
}
