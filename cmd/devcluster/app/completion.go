package app

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/devcluster/devcluster/bootstrap"
	"github.com/devcluster/devcluster/config"
	"github.com/devcluster/devcluster/internal/paths"
	"github.com/devcluster/devcluster/internal/problem"
	"github.com/devcluster/devcluster/internal/ui"
)

// Shell completion works as kubectl's and kind's (cobra's) does: the script
// `completion SHELL` prints is a thin function that hands the words typed so
// far to the hidden `__complete` command, which answers from the same
// command tree the parser uses, so commands, flags and their values never
// drift from what devcluster accepts.
//
// `__complete -- WORD… CURRENT` prints one candidate a line, each
// "candidate<TAB>description", then a last line that says what else the
// shell completes: completeFiles, completeDirs or completeNone.
const (
	completeFiles = ":files"
	completeDirs  = ":dirs"
	completeNone  = ":none"
)

// shells are the shells `completion` writes a script for.
var shells = []string{"bash", "zsh", "fish", "powershell"}

// flagChoices are the values of the flags that take one of a fixed set.
func flagChoices(name string) []string {
	switch name {
	case "output":
		return outputFormats
	case "provider":
		return config.ProviderNames()
	case "ci":
		return ui.CIChoices
	}
	return nil
}

func newCompletionCommand(g *globals) *cli.Command {
	return &cli.Command{
		Name:      "completion",
		Usage:     "print a shell completion script: bash, zsh, fish or powershell",
		ArgsUsage: "SHELL",
		Description: "completion prints a script that completes devcluster's commands, flags and their values in SHELL.\n\n" +
			"  bash:        source <(devcluster completion bash)          (or save it in /etc/bash_completion.d/devcluster)\n" +
			"  zsh:         source <(devcluster completion zsh)           (or save it as _devcluster in a directory of $fpath)\n" +
			"  fish:        devcluster completion fish | source           (or save it in ~/.config/fish/completions/devcluster.fish)\n" +
			"  powershell:  devcluster completion powershell | Out-String | Invoke-Expression   (or add that line to $PROFILE)",
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 || !slices.Contains(shells, c.Args().First()) {
				return problem.New(problem.Usage, "", fmt.Errorf("completion needs one shell: %s", strings.Join(shells, ", ")), "for example `devcluster completion bash`")
			}
			_, err := io.WriteString(g.env.Stdout, completionScript(c.Args().First()))
			return err
		},
	}
}

// newCompleteCommand is the hidden `__complete` the scripts call.
func newCompleteCommand(g *globals, app func() *cli.App) *cli.Command {
	return &cli.Command{
		Name:            "__complete",
		Hidden:          true,
		SkipFlagParsing: true,
		Action: func(c *cli.Context) error {
			words := c.Args().Slice()
			if len(words) > 0 && words[0] == "--" {
				words = words[1:]
			}
			cur := ""
			if len(words) > 0 {
				cur, words = words[len(words)-1], words[:len(words)-1]
			}
			known := func() []string {
				root, err := paths.For(paths.Env(g.env.LookupEnv), "")
				if err != nil {
					return nil
				}
				return bootstrap.KnownClusters(root.State)
			}
			cands, directive := complete(app(), words, cur, known)
			var b strings.Builder
			for _, cd := range cands {
				b.WriteString(cd.value + "\t" + cd.help + "\n")
			}
			b.WriteString(directive + "\n")
			_, err := io.WriteString(g.env.Stdout, b.String())
			return err
		},
	}
}

type candidate struct{ value, help string }

// complete answers for the word cur after words (the words before it,
// without the program's name); known are the clusters --name completes to.
func complete(a *cli.App, words []string, cur string, known func() []string) ([]candidate, string) {
	lv := &cmdLevel{}
	var valueOf cli.Flag // the flag whose value cur is
	args := 0
	for i := 0; i < len(words); i++ {
		w := words[i]
		switch {
		case w == "--":
			return nil, positional(lv.cmd, args+len(words)-i-1)
		case strings.HasPrefix(w, "-") && w != "-":
			name, _, hasValue := strings.Cut(strings.TrimLeft(w, "-"), "=")
			f, _ := lookupFlag(a, lv, name)
			if f != nil && takesValue(f) && !hasValue {
				if i == len(words)-1 {
					valueOf = f
				}
				i++
			}
		case args == 0 && hasSubcommands(a, lv.cmd):
			if next := findCommand(a, lv.cmd, w); next != nil {
				lv = &cmdLevel{cmd: next}
				continue
			}
			args++
		default:
			args++
		}
	}
	if valueOf != nil {
		return flagValues(valueOf, "", cur, known)
	}
	if name, value, ok := strings.Cut(cur, "="); ok && strings.HasPrefix(name, "-") {
		if f, _ := lookupFlag(a, lv, strings.TrimLeft(name, "-")); f != nil && takesValue(f) {
			return flagValues(f, name+"=", value, known)
		}
		return nil, completeNone
	}
	if strings.HasPrefix(cur, "-") {
		return flagNames(a, lv, cur), completeNone
	}
	if args == 0 && hasSubcommands(a, lv.cmd) {
		return subcommands(a, lv.cmd, cur), completeNone
	}
	if lv.cmd != nil && lv.cmd.Name == "completion" && args == 0 {
		return withPrefix(shells, "", cur, "shell"), completeNone
	}
	return nil, positional(lv.cmd, args)
}

func hasSubcommands(a *cli.App, c *cli.Command) bool {
	if c == nil {
		return len(a.Commands) > 0
	}
	return len(c.Subcommands) > 0
}

// positional is what the shell completes for a command's positional
// argument: files where it takes a path (registry push's SRC), else nothing.
func positional(c *cli.Command, index int) string {
	if c == nil || index > 0 {
		return completeNone
	}
	first, _, _ := strings.Cut(c.ArgsUsage, " ")
	switch strings.Trim(first, "[]") {
	case "SRC", "FILE", "PATH":
		return completeFiles
	case "DIR":
		return completeDirs
	}
	return completeNone
}

// flagValues completes a flag's value: its choices, else files or
// directories when its placeholder names one.
func flagValues(f cli.Flag, prefix, cur string, known func() []string) ([]candidate, string) {
	name := f.Names()[0]
	if choices := flagChoices(name); choices != nil {
		return withPrefix(choices, prefix, cur, ""), completeNone
	}
	if name == "name" && known != nil {
		return withPrefix(known(), prefix, cur, "cluster"), completeNone
	}
	placeholder := ""
	if d, ok := f.(cli.DocGenerationFlag); ok {
		placeholder, _ = unquoteUsage(d.GetUsage())
	}
	switch {
	case prefix != "":
		return nil, completeNone // a path after "=" is the shell's to split
	case strings.Contains(placeholder, "FILE") || strings.Contains(placeholder, "PATH"):
		return nil, completeFiles
	case strings.Contains(placeholder, "DIR"):
		return nil, completeDirs
	}
	return nil, completeNone
}

func withPrefix(values []string, prefix, cur, help string) []candidate {
	var out []candidate
	for _, v := range values {
		if strings.HasPrefix(v, cur) {
			out = append(out, candidate{prefix + v, help})
		}
	}
	return out
}

// flagNames are the long flags of the command and the global ones that
// start with cur.
func flagNames(a *cli.App, lv *cmdLevel, cur string) []candidate {
	var out []candidate
	seen := map[string]bool{}
	add := func(flags []cli.Flag) {
		for _, f := range flags {
			if vf, ok := f.(cli.VisibleFlag); ok && !vf.IsVisible() {
				continue
			}
			name := "--" + f.Names()[0]
			if seen[name] || !strings.HasPrefix(name, cur) {
				continue
			}
			seen[name] = true
			help := ""
			if d, ok := f.(cli.DocGenerationFlag); ok {
				_, help = unquoteUsage(d.GetUsage())
			}
			out = append(out, candidate{name, firstLine(help)})
		}
	}
	if lv.cmd != nil {
		add(lv.cmd.Flags)
	}
	add(a.Flags)
	if strings.HasPrefix("--help", cur) {
		out = append(out, candidate{"--help", "show help"})
	}
	return out
}

func subcommands(a *cli.App, parent *cli.Command, cur string) []candidate {
	cmds := a.Commands
	if parent != nil {
		cmds = parent.Subcommands
	}
	var out []candidate
	for _, c := range cmds {
		if !c.Hidden && c.Name != "help" && strings.HasPrefix(c.Name, cur) {
			out = append(out, candidate{c.Name, firstLine(c.Usage)})
		}
	}
	return out
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return strings.ReplaceAll(s, "\t", " ")
}

// unquoteUsage splits a flag's usage into its `PLACEHOLDER` and the text
// with the backquotes removed, as urfave/cli's help shows it.
func unquoteUsage(usage string) (placeholder, text string) {
	before, rest, ok := strings.Cut(usage, "`")
	if !ok {
		return "", usage
	}
	name, after, ok := strings.Cut(rest, "`")
	if !ok {
		return "", usage
	}
	return name, before + name + after
}
