package app

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"
	"gopkg.in/yaml.v3"

	"github.com/devcluster/devcluster/bootstrap"
	"github.com/devcluster/devcluster/config"
	"github.com/devcluster/devcluster/internal/problem"
)

func newConfigCommand(g *globals) *cli.Command {
	return &cli.Command{
		Name:  "config",
		Usage: "show the effective configuration, write a devcluster.yaml, or print its JSON Schema",
		Subcommands: []*cli.Command{
			newConfigViewCommand(g),
			newConfigInitCommand(g),
			newConfigSchemaCommand(g),
		},
	}
}

func newConfigViewCommand(g *globals) *cli.Command {
	var name, output string
	return &cli.Command{
		Name:  "view",
		Usage: "print the effective configuration, every default included, as devcluster.yaml",
		Description: "view reads devcluster.yaml (or --config) as up does, with --name, --provider and --context\n" +
			"over it, checks it, and prints every setting with the value up would use, defaults included. The\n" +
			"output loads as a devcluster.yaml of its own. Settings the provider has no use for are left out.\n" +
			"-o json prints the same document as JSON.",
		Flags: []cli.Flag{nameFlag(&name), providerFlag(), contextFlag(), outputFlag(&output)},
		Action: func(c *cli.Context) error {
			cfg, err := g.clusterCommand(c, output, name, true)
			if err != nil {
				return err
			}
			f, err := bootstrap.EffectiveFile(g.env.LookupEnv, g.common().Dirs, cfg)
			if err != nil {
				return err
			}
			if output == outJSON {
				return writeData(g.env.Stdout, output, f)
			}
			return writeConfigYAML(g.env.Stdout, f)
		},
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// writeConfigYAML prints a devcluster.yaml document.
func writeConfigYAML(w io.Writer, f config.File) error {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(f); err != nil {
		return err
	}
	if err := enc.Close(); err != nil {
		return err
	}
	_, err := w.Write(b.Bytes())
	return err
}

func newConfigInitCommand(g *globals) *cli.Command {
	var name, provider, kctx string
	var write, force bool
	return &cli.Command{
		Name:  "init",
		Usage: "print a commented devcluster.yaml for a provider (--write: save it)",
		Description: "init prints a devcluster.yaml with every setting of the provider, its default or an example, and a\n" +
			"comment on each. It loads as written, and its first line points editors that read yaml-language-server\n" +
			"modelines (VS Code's YAML extension, Neovim, Helix, ...) to the JSON Schema, for completion and checks.\n\n" +
			"--write saves it as devcluster.yaml in the working directory (or the --config path) and never replaces\n" +
			"an existing file unless --force is given.",
		Flags: []cli.Flag{nameFlag(&name),
			&cli.StringFlag{Name: "provider", Value: config.DefaultProvider, Usage: "`PROVIDER` of the cluster: minikube, kind, or existing", Destination: &provider},
			&cli.StringFlag{Name: "context", Usage: "kubeconfig `CONTEXT` of the existing cluster (provider existing, where it is required)", Destination: &kctx},
			&cli.BoolFlag{Name: "write", Usage: "write the file instead of printing it", Destination: &write},
			&cli.BoolFlag{Name: "force", Usage: "with --write: replace an existing file", Destination: &force},
		},
		Action: func(c *cli.Context) error {
			if err := noArgs(c); err != nil {
				return err
			}
			if force && !write {
				return problem.New(problem.Usage, "", fmt.Errorf("--force only goes with --write"), "add --write to save the file")
			}
			text, err := config.Template(provider, name, kctx, config.SchemaURL(schemaRef()))
			if err != nil {
				return problem.New(problem.Usage, "", err, "run `devcluster config init --help`")
			}
			if !write {
				_, err := io.WriteString(g.env.Stdout, text)
				return err
			}
			path := g.cfgPath
			switch {
			case path == "-":
				return problem.New(problem.Usage, "", fmt.Errorf("--write cannot write to standard input (--config -)"), "drop --write to print the file")
			case path == "":
				path = filepath.Join(g.env.Dir, config.DefaultFile)
			case !filepath.IsAbs(path):
				path = filepath.Join(g.env.Dir, path)
			}
			if err := writeNewFile(path, []byte(text), force); err != nil {
				return err
			}
			fmt.Fprintf(g.env.Stdout, "Wrote %s (provider %s).\n", g.displayPath(path), cmpOr(provider, config.DefaultProvider))
			return nil
		},
	}
}

// writeNewFile writes data to path (0644): a new file, or with force over
// an existing one, through a temporary file renamed into place, so an
// interrupted write leaves the old file whole.
func writeNewFile(path string, data []byte, force bool) error {
	if _, err := os.Lstat(path); err == nil && !force {
		return problem.New(problem.Usage, "", fmt.Errorf("%s exists already", path), "keep it, or give --force to replace it")
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return problem.New(problem.Failed, "writing the configuration", err, "")
	}
	_, werr := tmp.Write(data)
	if cerr := tmp.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Chmod(tmp.Name(), 0o644)
	}
	if werr == nil {
		if force {
			werr = os.Rename(tmp.Name(), path)
		} else {
			// Link refuses an existing name: a file made since the check
			// above is not replaced.
			if werr = os.Link(tmp.Name(), path); werr == nil {
				_ = os.Remove(tmp.Name())
			}
		}
	}
	if werr != nil {
		_ = os.Remove(tmp.Name())
		if os.IsExist(werr) {
			return problem.New(problem.Usage, "", fmt.Errorf("%s exists already", path), "keep it, or give --force to replace it")
		}
		return problem.New(problem.Failed, "writing the configuration", werr, "")
	}
	return nil
}

// schemaRef is the repository ref whose schema a file written by this
// build points to: the release's tag, else main.
func schemaRef() string {
	if strings.HasPrefix(Version, "v") && !strings.ContainsAny(Version, "-+") {
		return Version
	}
	return ""
}

func newConfigSchemaCommand(g *globals) *cli.Command {
	return &cli.Command{
		Name:  "schema",
		Usage: "print the JSON Schema of devcluster.yaml",
		Description: "schema prints the JSON Schema (draft 2020-12) that devcluster.yaml follows, for editors and\n" +
			"validators; files written by `config init` point to it with a yaml-language-server modeline.",
		Action: func(c *cli.Context) error {
			if err := noArgs(c); err != nil {
				return err
			}
			var b bytes.Buffer
			if err := json.Compact(&b, config.Schema); err != nil {
				return err
			}
			var out bytes.Buffer
			if err := json.Indent(&out, b.Bytes(), "", "  "); err != nil {
				return err
			}
			out.WriteByte('\n')
			_, err := g.env.Stdout.Write(out.Bytes())
			return err
		},
	}
}
