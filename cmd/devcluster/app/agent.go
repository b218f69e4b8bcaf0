package app

import (
	"os"

	"github.com/urfave/cli/v2"

	"github.com/devcluster/devcluster/agent"
)

// newAgentCommand is the hidden command the agent process runs.
func newAgentCommand(g *globals) *cli.Command {
	var s agent.Spec
	var listen, mirrors cli.StringSlice
	return &cli.Command{
		Name:   "agent",
		Usage:  "run the background agent (started by `devcluster up`)",
		Hidden: true,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "name", Required: true, Destination: &s.Name},
			&cli.StringFlag{Name: "state-dir", Required: true, Destination: &s.StateDir},
			&cli.StringFlag{Name: "data-dir", Destination: &s.DataDir},
			&cli.StringSliceFlag{Name: "listen", Required: true, Destination: &listen},
			&cli.StringFlag{Name: "lb-ip", Destination: &s.LB.NodeIP},
			&cli.StringFlag{Name: "lb-address", Destination: &s.LB.Address},
			&cli.StringFlag{Name: "context", Destination: &s.LB.Context},
			&cli.StringFlag{Name: "kubeconfig", Destination: &s.LB.Kubeconfig},
			&cli.StringFlag{Name: "mirror-store", Destination: &s.Mirrors.Store},
			&cli.DurationFlag{Name: "mirror-ttl", Destination: &s.Mirrors.TTL},
			&cli.StringSliceFlag{Name: "mirror", Destination: &mirrors},
		},
		Action: func(c *cli.Context) error {
			s.Listen = listen.Value()
			for _, m := range mirrors.Value() {
				mi, err := agent.ParseMirror(m)
				if err != nil {
					return err
				}
				s.Mirrors.Mirrors = append(s.Mirrors.Mirrors, mi)
			}
			s.Mirrors.Helper = selfExecutable()
			s.Verbose = g.verbose
			// The identity `up` compares to reuse this agent.
			return agent.Run(c.Context, s, g.env.Stderr, agent.BuildVersion(Version, selfExecutable()), nil)
		},
	}
}

// selfExecutable is devcluster's own executable, which runs the agent.
func selfExecutable() string {
	exe, err := os.Executable()
	if err != nil {
		return os.Args[0]
	}
	return exe
}
