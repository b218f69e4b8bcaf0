package ui

import (
	"fmt"
	"regexp"
	"strings"
)

// CI is the CI system whose log conventions the Printer follows.
type CI int

// CI systems.
const (
	// NoCI: a person's terminal or a plain pipe.
	NoCI CI = iota
	// GenericCI: some CI system; append-only lines, no markers.
	GenericCI
	// Buildkite: `--- step` groups, `^^^ +++` to expand a failed one.
	Buildkite
	// GitHub: ::group:: / ::endgroup::, ::error and ::warning annotations.
	GitHub
	// GitLab: section_start / section_end, collapsed unless the step failed.
	GitLab
)

func (c CI) String() string {
	return [...]string{"none", "generic", "buildkite", "github", "gitlab"}[c]
}

// CIChoices are the values of --ci.
var CIChoices = []string{"auto", "buildkite", "github", "gitlab", "generic", "none"}

// DetectCI decides the CI system: choice (--ci, else $DEVCLUSTER_CI) when
// it is not auto, else BUILDKITE=true, GITHUB_ACTIONS=true, GITLAB_CI=true,
// then generic CI when CI, BUILD_NUMBER or RUN_ID is set.
func DetectCI(env Env, choice string) (CI, error) {
	if choice == "" || choice == "auto" {
		if v, ok := env("DEVCLUSTER_CI"); ok && v != "" {
			choice = v
		}
	}
	switch strings.ToLower(choice) {
	case "", "auto":
	case "buildkite":
		return Buildkite, nil
	case "github":
		return GitHub, nil
	case "gitlab":
		return GitLab, nil
	case "generic":
		return GenericCI, nil
	case "none":
		return NoCI, nil
	default:
		return NoCI, fmt.Errorf("unknown CI system %q: use %s", choice, strings.Join(CIChoices, ", "))
	}
	is := func(k string) bool { v, ok := env(k); return ok && strings.EqualFold(strings.TrimSpace(v), "true") }
	switch {
	case is("BUILDKITE"):
		return Buildkite, nil
	case is("GITHUB_ACTIONS"):
		return GitHub, nil
	case is("GITLAB_CI"):
		return GitLab, nil
	}
	for _, k := range []string{"CI", "BUILD_NUMBER", "RUN_ID"} {
		if v, ok := env(k); ok && truthy(v) {
			return GenericCI, nil
		}
	}
	return NoCI, nil
}

// githubData escapes a workflow command's message as actions/toolkit does.
func githubData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

// githubProperty escapes a workflow command's property value.
func githubProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}

// maxGitHubAnnotations is GitHub's limit of warning (and of error)
// annotations shown per step.
const maxGitHubAnnotations = 10

var sectionNameRE = regexp.MustCompile(`[^a-z0-9_.-]+`)

// gitlabSection is a section name GitLab accepts: unique, [a-z0-9_.-].
func gitlabSection(n int, title string) string {
	s := strings.Trim(sectionNameRE.ReplaceAllString(strings.ToLower(title), "_"), "_")
	if len(s) > 40 {
		s = s[:40]
	}
	return fmt.Sprintf("devcluster_%d_%s", n, s)
}
