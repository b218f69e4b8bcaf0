package config

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func defaultMirrors() []Mirror {
	return []Mirror{{"docker.io", "https://registry-1.docker.io"}, {"registry.k8s.io", "https://registry.k8s.io"},
		{"ghcr.io", "https://ghcr.io"}, {"quay.io", "https://quay.io"}}
}

func completeYAML(t *testing.T, body string, o Overrides) (*Config, error) {
	t.Helper()
	src, err := Decode("m.yaml", []byte("apiVersion: devcluster.dev/v1alpha1\nkind: Cluster\n"+body))
	if src == nil {
		return nil, err
	}
	return Complete(src, o)
}

func TestMirrorsDefaultsOffAndRemotes(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		body string
		o    Overrides
		want []Mirror
		ttl  time.Duration
	}{
		{"absent: the four defaults", "", Overrides{}, defaultMirrors(), DefaultMirrorTTL},
		{"an empty list turns them off", "registry:\n  mirrors: []\n", Overrides{}, []Mirror{}, DefaultMirrorTTL},
		{"--no-mirrors turns them off", "", Overrides{NoMirrors: true}, []Mirror{}, DefaultMirrorTTL},
		{"off with the registry", "registry:\n  enabled: false\n", Overrides{}, nil, DefaultMirrorTTL},
		{"remote given, default remote filled, ttl in days", "registry:\n  mirrorTTL: 1.5d\n  mirrors:\n    - upstream: docker.io\n      remote: http://127.0.0.1:5999/\n    - upstream: registry.example.com:5000\n",
			Overrides{}, []Mirror{{"docker.io", "http://127.0.0.1:5999"}, {"registry.example.com:5000", "https://registry.example.com:5000"}}, 36 * time.Hour},
		{"ttl 0 keeps for ever", "registry:\n  mirrorTTL: \"0\"\n", Overrides{}, defaultMirrors(), 0},
		{"ttl as a duration", "registry:\n  mirrorTTL: 72h\n", Overrides{}, defaultMirrors(), 72 * time.Hour},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := completeYAML(t, tc.body, tc.o)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.want, c.Registry.Mirrors); d != "" {
				t.Errorf("mirrors (-want +got):\n%s", d)
			}
			if c.Registry.MirrorTTL != tc.ttl {
				t.Errorf("ttl %v, want %v", c.Registry.MirrorTTL, tc.ttl)
			}
		})
	}
}

func TestMirrorProblemsEachOnItsLine(t *testing.T) {
	t.Parallel()
	body := `registry:
  mirrorTTL: forever
  mirrors:
    - upstream: https://docker.io
    - upstream: ghcr.io
      remote: ftp://ghcr.io
    - upstream: quay.io
      remote: https://user:secret@quay.io
    - upstream: ghcr.io
    - remote: https://registry.example
    - upstream: docker.io
      remote: https://mirror.example/v2/
    - upstream: docker.io
      remot: https://mirror.example
`
	_, err := completeYAML(t, body, Overrides{})
	if err == nil {
		t.Fatal("want problems")
	}
	msg := err.Error()
	for _, w := range []string{
		`line 4: registry.mirrorTTL: invalid duration "forever"`,
		`line 6: registry.mirrors[0].upstream: "https://docker.io" is a URL`,
		`line 8: registry.mirrors[1].remote: invalid URL "ftp://ghcr.io": use an http or https URL`,
		`line 10: registry.mirrors[2].remote: the URL carries credentials`,
		`line 11: registry.mirrors[3].upstream: ghcr.io is mirrored twice (registry.mirrors[1] too)`,
		`line 12: registry.mirrors[4].upstream: empty`,
		`line 14: registry.mirrors[5].remote: invalid URL "https://mirror.example/v2/": only scheme, host and port`,
		`line 16: registry.mirrors[6].remot: unknown field; did you mean remote?`,
	} {
		if !strings.Contains(msg, w) {
			t.Errorf("missing %q in\n%s", w, msg)
		}
	}
	if strings.Contains(msg, "secret") {
		t.Errorf("the problem repeats the credentials:\n%s", msg)
	}
	// In line order.
	if strings.Index(msg, "line 4:") > strings.Index(msg, "line 16:") {
		t.Errorf("not in line order:\n%s", msg)
	}
}

func TestParseDays(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]time.Duration{"7d": 7 * 24 * time.Hour, "0": 0, "0d": 0, "90m": 90 * time.Minute, "0.5d": 12 * time.Hour} {
		if got, err := ParseDays(in); err != nil || got != want {
			t.Errorf("ParseDays(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "d", "-1d", "seven", "7days"} {
		if _, err := ParseDays(in); err == nil {
			t.Errorf("ParseDays(%q): no error", in)
		}
	}
}
