package devcluster_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
	"text/template"

	"gopkg.in/yaml.v3"
)

// The platforms a release ships: every one must build (task release:check
// vets and cross-compiles them without goreleaser).
var releaseOS, releaseArch = []string{"linux", "darwin", "windows"}, []string{"amd64", "arm64"}

// appPkg is the package whose variables the ldflags stamp.
const appPkg = module + "/cmd/devcluster/app"

type goreleaser struct {
	Version     int    `yaml:"version"`
	ProjectName string `yaml:"project_name"`
	Builds      []struct {
		ID      string   `yaml:"id"`
		Main    string   `yaml:"main"`
		Binary  string   `yaml:"binary"`
		Env     []string `yaml:"env"`
		GOOS    []string `yaml:"goos"`
		GOARCH  []string `yaml:"goarch"`
		Ignore  []any    `yaml:"ignore"`
		Flags   []string `yaml:"flags"`
		LDFlags []string `yaml:"ldflags"`
	} `yaml:"builds"`
	Archives []struct {
		IDs             []string `yaml:"ids"`
		NameTemplate    string   `yaml:"name_template"`
		Formats         []string `yaml:"formats"`
		FormatOverrides []struct {
			GOOS    string   `yaml:"goos"`
			Formats []string `yaml:"formats"`
		} `yaml:"format_overrides"`
	} `yaml:"archives"`
	Checksum struct {
		NameTemplate string `yaml:"name_template"`
		Algorithm    string `yaml:"algorithm"`
	} `yaml:"checksum"`
	Release struct {
		ExtraFiles []struct {
			Glob string `yaml:"glob"`
		} `yaml:"extra_files"`
	} `yaml:"release"`
}

func readGoreleaser(t *testing.T) goreleaser {
	t.Helper()
	b, err := os.ReadFile(".goreleaser.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var g goreleaser
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	if err := dec.Decode(&g); err != nil {
		t.Fatalf(".goreleaser.yaml: %v", err)
	}
	return g
}

// .goreleaser.yaml builds every platform of the matrix, statically, into
// the archives the Action downloads, with one checksums.txt.
func TestReleaseConfigMatchesTheMatrix(t *testing.T) {
	g := readGoreleaser(t)
	if g.Version != 2 || g.ProjectName != "devcluster" {
		t.Errorf("version %d, project %q: want goreleaser v2's configuration of devcluster", g.Version, g.ProjectName)
	}
	if len(g.Builds) != 1 {
		t.Fatalf("%d builds, want one", len(g.Builds))
	}
	b := g.Builds[0]
	if b.Main != "./cmd/devcluster" || b.Binary != "devcluster" || !slices.Contains(b.Env, "CGO_ENABLED=0") || !slices.Contains(b.Flags, "-trimpath") {
		t.Errorf("build: %+v", b)
	}
	if !sameSet(b.GOOS, releaseOS) || !sameSet(b.GOARCH, releaseArch) || len(b.Ignore) > 0 {
		t.Errorf("build matrix %v × %v (ignore %v), want %v × %v", b.GOOS, b.GOARCH, b.Ignore, releaseOS, releaseArch)
	}
	if len(g.Archives) != 1 {
		t.Fatalf("%d archives, want one", len(g.Archives))
	}
	a := g.Archives[0]
	if a.NameTemplate != "{{ .ProjectName }}_{{ .Version }}_{{ .Os }}_{{ .Arch }}" || !slices.Equal(a.Formats, []string{"tar.gz"}) ||
		len(a.FormatOverrides) != 1 || a.FormatOverrides[0].GOOS != "windows" || !slices.Equal(a.FormatOverrides[0].Formats, []string{"zip"}) ||
		!slices.Equal(a.IDs, []string{b.ID}) {
		t.Errorf("archives: %+v; want devcluster_<version>_<os>_<arch>.tar.gz, .zip on windows", a)
	}
	if g.Checksum.NameTemplate != "checksums.txt" || g.Checksum.Algorithm != "sha256" {
		t.Errorf("checksum: %+v", g.Checksum)
	}
	if len(g.Release.ExtraFiles) != 1 || g.Release.ExtraFiles[0].Glob != "./config/devcluster.schema.json" {
		t.Errorf("release files: %+v; config init's modeline points to the schema", g.Release.ExtraFiles)
	}
	// Task's targets are the same.
	task, err := os.ReadFile("Taskfile.yml")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^  RELEASE_TARGETS: (.*)$`).FindSubmatch(task)
	var want []string
	for _, o := range releaseOS {
		for _, a := range releaseArch {
			want = append(want, o+"/"+a)
		}
	}
	if m == nil || !sameSet(strings.Fields(string(m[1])), want) {
		t.Errorf("Taskfile's RELEASE_TARGETS = %q, want %v", m, want)
	}
}

// task release:check vets one architecture per operating system, which is
// enough only while no Go file is specific to an architecture.
func TestReleaseHasNoArchFiles(t *testing.T) {
	archName := regexp.MustCompile(`_(amd64|arm64|386|arm)(_test)?\.go$`)
	archTag := regexp.MustCompile(`(?m)^//go:build .*\b(amd64|arm64|386|arm)\b`)
	err := filepath.WalkDir(".", func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") {
			return nil
		}
		if archName.MatchString(path) {
			t.Errorf("%s is specific to an architecture: task release:check must vet every architecture then", path)
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if archTag.Match(b) {
			t.Errorf("%s has a build constraint naming an architecture: task release:check must vet every architecture then", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// The ldflags stamp what `devcluster version` reads: built with them
// (goreleaser's templates filled in as for a tag), the binary names the
// version, the commit and the date. Task's build stamps the same variables.
func TestReleaseLDFlagsStampTheVersion(t *testing.T) {
	g := readGoreleaser(t)
	if len(g.Builds) != 1 {
		t.Fatal("no build")
	}
	vars := map[string]string{}
	fill := map[string]string{"Version": "1.2.3", "FullCommit": "0123456789abcdef0123456789abcdef01234567", "CommitDate": "2026-01-02T03:04:05Z"}
	var ldflags []string
	for _, f := range g.Builds[0].LDFlags {
		tmpl, err := template.New("ldflags").Option("missingkey=error").Parse(f)
		if err != nil {
			t.Fatalf("ldflags %q: %v", f, err)
		}
		var b strings.Builder
		if err := tmpl.Execute(&b, fill); err != nil {
			t.Fatalf("ldflags %q: %v (a template field this test does not know)", f, err)
		}
		ldflags = append(ldflags, b.String())
		for _, m := range regexp.MustCompile(`-X (\S+)=`).FindAllStringSubmatch(f, -1) {
			vars[m[1]] = f
		}
	}
	for _, v := range []string{"Version", "Commit", "Date"} {
		if vars[appPkg+"."+v] == "" {
			t.Errorf("the ldflags do not set %s.%s", appPkg, v)
		}
	}
	task, err := os.ReadFile("Taskfile.yml")
	if err != nil {
		t.Fatal(err)
	}
	taskVars := regexp.MustCompile(`-X (\S+)=`).FindAllStringSubmatch(regexp.MustCompile(`(?m)^  LDFLAGS: .*$`).FindString(string(task)), -1)
	var got []string
	for _, m := range taskVars {
		got = append(got, m[1])
	}
	var want []string
	for v := range vars {
		want = append(want, v)
	}
	if !sameSet(got, want) {
		t.Errorf("Taskfile's LDFLAGS set %v, the release %v", got, want)
	}
	if testing.Short() {
		t.Skip("builds devcluster")
	}
	bin := filepath.Join(t.TempDir(), "devcluster")
	if runtime.GOOS == "windows" {
		bin += ".exe"
	}
	// The flags only reach the linker: the packages come from the build
	// cache the other tests filled (-trimpath and CGO_ENABLED=0 would
	// compile all of them again).
	build := exec.Command("go", "build", "-ldflags", strings.Join(ldflags, " "), "-o", bin, "./cmd/devcluster")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "version", "-o", "json")
	cmd.Env = []string{"HOME=" + t.TempDir(), "PATH=/nonexistent"}
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("devcluster version: %v\n%s", err, out)
	}
	var v struct {
		Version, Commit, Date string
		Pinned                map[string]string
	}
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatal(err)
	}
	if v.Version != "v1.2.3" || v.Commit != fill["FullCommit"] || v.Date != fill["CommitDate"] || v.Pinned["minikube"] == "" || v.Pinned["kind"] == "" {
		t.Errorf("the release build says %s", out)
	}
}

// The release workflow runs on tags, declares its permissions, and pins
// every action by commit, with the tag in a comment.
func TestReleaseWorkflow(t *testing.T) {
	b, err := os.ReadFile(".github/workflows/release.yml")
	if err != nil {
		t.Fatal(err)
	}
	var wf struct {
		On struct {
			Push struct {
				Tags []string `yaml:"tags"`
			} `yaml:"push"`
		} `yaml:"on"`
		Permissions map[string]string `yaml:"permissions"`
		Jobs        map[string]struct {
			Permissions map[string]string `yaml:"permissions"`
			Steps       []struct {
				Uses string `yaml:"uses"`
			} `yaml:"steps"`
		} `yaml:"jobs"`
	}
	if err := yaml.Unmarshal(b, &wf); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(wf.On.Push.Tags, []string{"v*"}) || wf.Permissions["contents"] != "read" {
		t.Errorf("on %+v, permissions %v", wf.On, wf.Permissions)
	}
	pinned := regexp.MustCompile(`(?m)^\s*- uses: [\w.-]+/[\w.-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$`)
	uses := 0
	for name, j := range wf.Jobs {
		if j.Permissions["contents"] != "write" {
			t.Errorf("job %s: permissions %v, want contents: write for the release", name, j.Permissions)
		}
		for _, s := range j.Steps {
			if s.Uses != "" {
				uses++
			}
		}
	}
	if n := len(pinned.FindAll(b, -1)); n != uses || uses < 3 || !strings.Contains(string(b), "goreleaser/goreleaser-action@") {
		t.Errorf("%d of %d actions pinned by commit with the tag in a comment", n, uses)
	}
	if regexp.MustCompile(`run:[^\n]*\$\{\{`).Match(b) {
		t.Error("an expression inside run:")
	}
}
