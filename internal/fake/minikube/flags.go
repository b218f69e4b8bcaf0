package minikube

import (
	"fmt"
	"strings"
)

// flagKind is how a flag takes its value.
type flagKind int

const (
	boolFlag flagKind = iota
	stringFlag
	sliceFlag
)

// flagSpec declares a flag: long name, optional one-letter short name.
type flagSpec struct {
	long, short string
	kind        flagKind
}

// parsed is a parsed command line.
type parsed struct {
	rest     []string // positional arguments after the command words
	dashdash []string // arguments after "--"
	values   map[string]string
	slices   map[string][]string
	changed  map[string]bool
}

func (p *parsed) str(name string) string { return p.values[name] }
func (p *parsed) has(name string) bool   { return p.changed[name] }

// globalFlags exist on every command (cmd/minikube/cmd/root.go); klog's are
// accepted and ignored.
var globalFlags = []flagSpec{
	{long: "profile", short: "p", kind: stringFlag},
	{long: "bootstrapper", short: "b", kind: stringFlag},
	{long: "user", kind: stringFlag},
	{long: "skip-audit", kind: boolFlag},
	{long: "rootless", kind: boolFlag},
	{long: "alsologtostderr", kind: boolFlag},
	{long: "logtostderr", kind: boolFlag},
	{long: "v", short: "v", kind: stringFlag},
	{long: "log_dir", kind: stringFlag},
	{long: "log_file", kind: stringFlag},
}

// parseFlags parses args against the command's flags plus the global ones.
// An unknown flag is an error with pflag's wording.
func parseFlags(args []string, specs []flagSpec) (*parsed, error) {
	all := append(append([]flagSpec(nil), globalFlags...), specs...)
	byLong, byShort := map[string]flagSpec{}, map[string]flagSpec{}
	for _, s := range all {
		byLong[s.long] = s
		if s.short != "" {
			byShort[s.short] = s
		}
	}
	p := &parsed{values: map[string]string{}, slices: map[string][]string{}, changed: map[string]bool{}}
	set := func(s flagSpec, v string) {
		p.changed[s.long] = true
		switch s.kind {
		case sliceFlag:
			for _, part := range strings.Split(v, ",") {
				if part != "" {
					p.slices[s.long] = append(p.slices[s.long], part)
				}
			}
		default:
			p.values[s.long] = v
		}
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			p.dashdash = args[i+1:]
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			p.rest = append(p.rest, a)
			continue
		}
		var spec flagSpec
		var ok bool
		name, val, hasVal := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if strings.HasPrefix(a, "--") {
			spec, ok = byLong[name]
			if !ok {
				return nil, fmt.Errorf("unknown flag: --%s", name)
			}
		} else {
			if len(name) > 1 && !hasVal {
				// -pNAME
				val, hasVal = name[1:], true
				name = name[:1]
			}
			spec, ok = byShort[name]
			if !ok {
				return nil, fmt.Errorf("unknown shorthand flag: '%s' in %s", name, a)
			}
		}
		if spec.kind == boolFlag {
			if !hasVal {
				val = "true"
			}
			set(spec, val)
			continue
		}
		if !hasVal {
			if i+1 >= len(args) {
				return nil, fmt.Errorf("flag needs an argument: %s", a)
			}
			i++
			val = args[i]
		}
		set(spec, val)
	}
	return p, nil
}
