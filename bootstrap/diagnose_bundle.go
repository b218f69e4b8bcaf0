package bootstrap

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/devcluster/devcluster/internal/problem"
)

// bundleMarker is the file that makes a directory a devcluster diagnostics
// bundle, which a later bundle may replace.
const bundleMarker = ".devcluster-diagnostics"

// bundleDir is a bundle being written: a fresh directory (0700) beside its
// target, into which every file is created anew (O_EXCL, O_NOFOLLOW, 0600),
// renamed onto the target when complete. Nothing already on disk is ever
// written through.
type bundleDir struct {
	target string
	tmp    string
	dirs   map[string]bool
}

// checkBundleTarget refuses a target that devcluster must not replace: a
// symbolic link, a file, or a directory that holds anything but a previous
// bundle. It says whether the target exists.
func checkBundleTarget(target string) (bool, error) {
	if err := notAroundWorkingDir(target); err != nil {
		return false, err
	}
	info, err := os.Lstat(target)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	fix := "remove it, or give another directory with --dir (--diagnostics-dir for up and deploy)"
	switch {
	case err != nil:
		return false, problem.New(problem.Failed, "writing diagnostics", err, "")
	case info.Mode()&fs.ModeSymlink != 0:
		return false, problem.New(problem.Usage, "writing diagnostics", fmt.Errorf("%s is a symbolic link; a bundle is written only into a directory devcluster creates", target), fix)
	case !info.IsDir():
		return false, problem.New(problem.Usage, "writing diagnostics", fmt.Errorf("%s exists and is not a directory", target), fix)
	}
	entries, err := os.ReadDir(target)
	if err != nil {
		return false, problem.New(problem.Failed, "writing diagnostics", err, "")
	}
	if len(entries) == 0 {
		return true, nil
	}
	if m, err := os.Lstat(filepath.Join(target, bundleMarker)); err == nil && m.Mode().IsRegular() {
		return true, nil
	}
	return false, problem.New(problem.Usage, "writing diagnostics",
		fmt.Errorf("%s exists and is not a devcluster diagnostics bundle", target), fix)
}

// notAroundWorkingDir refuses a target that is the working directory, one
// of its parents or the root: an empty one would count as a bundle to
// replace, and the replacement renames it aside.
func notAroundWorkingDir(target string) error {
	abs, err := filepath.Abs(target)
	if err != nil {
		return problem.New(problem.Usage, "writing diagnostics", err, "")
	}
	wd, _ := os.Getwd()
	rel, err := filepath.Rel(abs, wd)
	if abs == filepath.Dir(abs) || (wd != "" && err == nil && (rel == "." || !strings.HasPrefix(rel, ".."))) {
		return problem.New(problem.Usage, "writing diagnostics",
			fmt.Errorf("%s is the working directory or holds it; the bundle needs a directory of its own", abs),
			"give a new directory with --dir (--diagnostics-dir for up and deploy), for example devcluster-diagnostics")
	}
	return nil
}

// newBundleDir checks target and creates the fresh directory beside it.
func newBundleDir(target string) (*bundleDir, error) {
	if _, err := checkBundleTarget(target); err != nil {
		return nil, err
	}
	parent := filepath.Dir(target)
	if err := os.MkdirAll(parent, 0o700); err != nil {
		return nil, problem.New(problem.Failed, "writing diagnostics", err, "")
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(target)+".new-")
	if err != nil {
		return nil, problem.New(problem.Failed, "writing diagnostics", err, "")
	}
	b := &bundleDir{target: target, tmp: tmp, dirs: map[string]bool{}}
	f, err := b.create(bundleMarker)
	if err == nil {
		_, err = f.WriteString("a devcluster diagnostics bundle: `devcluster diagnose` replaces this directory as a whole\n")
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		b.abort()
		return nil, problem.New(problem.Failed, "writing diagnostics", err, "")
	}
	return b, nil
}

// create creates the file name (slash-separated, relative) and its
// directories; it fails if anything is already there.
func (b *bundleDir) create(name string) (*os.File, error) {
	parts := strings.Split(name, "/")
	for _, p := range parts {
		if p == "" || p == "." || p == ".." || strings.ContainsAny(p, `\`+"\x00") {
			return nil, fmt.Errorf("%q is not a file name for a bundle", name)
		}
	}
	dir := b.tmp
	for _, p := range parts[:len(parts)-1] {
		dir = filepath.Join(dir, p)
		if b.dirs[dir] {
			continue
		}
		if err := os.Mkdir(dir, 0o700); err != nil {
			return nil, err
		}
		b.dirs[dir] = true
	}
	return os.OpenFile(filepath.Join(b.tmp, filepath.FromSlash(name)), os.O_WRONLY|os.O_CREATE|os.O_EXCL|noFollow, 0o600)
}

// write creates name with contents data, made printable.
func (b *bundleDir) write(name string, data []byte) error {
	f, err := b.create(name)
	if err != nil {
		return err
	}
	_, err = f.Write(printable(data))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// reserve creates name empty, for a tool that writes the file itself, and
// returns its path.
func (b *bundleDir) reserve(name string) (string, error) {
	f, err := b.create(name)
	if err != nil {
		return "", err
	}
	return f.Name(), f.Close()
}

// seal checks a reserved file after a tool wrote it: still a regular
// file, 0600 whatever mode the tool gave it, passed through filter, and
// printable.
func (b *bundleDir) seal(path string, filter func([]byte) []byte) error {
	info, err := os.Lstat(path)
	if err != nil {
		return err
	}
	if !info.Mode().IsRegular() {
		_ = os.Remove(path)
		return fmt.Errorf("%s was replaced by something that is not a file", filepath.Base(path))
	}
	if err := os.Chmod(path, 0o600); err != nil {
		return err
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if p := printable(filter(data)); !bytes.Equal(p, data) {
		return os.WriteFile(path, p, 0o600)
	}
	return nil
}

// printable escapes what a terminal or an editor would act on instead of
// showing it — logs and messages come from the cluster's containers: an
// ANSI escape becomes the text \x1b, and so does every control character
// but tab, newline and a carriage return before a newline, a C1 control,
// a bidirectional override, and a byte that is not UTF-8.
func printable(b []byte) []byte {
	clean := true
	for _, c := range b {
		if c < 0x20 && c != '\t' && c != '\n' || c >= 0x7f {
			clean = false
			break
		}
	}
	if clean {
		return b
	}
	var out bytes.Buffer
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		switch {
		case r == utf8.RuneError && size <= 1:
			fmt.Fprintf(&out, `\x%02x`, b[0])
		case r == '\r' && len(b) > 1 && b[1] == '\n', r == '\t', r == '\n':
			out.WriteRune(r)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&out, `\x%02x`, r)
		case r >= 0x80 && r <= 0x9f, r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
			fmt.Fprintf(&out, `\u%04x`, r)
		default:
			out.Write(b[:size])
		}
		b = b[size:]
	}
	return out.Bytes()
}

// commit renames the bundle onto its target, replacing a previous bundle
// (checked again) as a whole.
func (b *bundleDir) commit() error {
	exists, err := checkBundleTarget(b.target)
	if err != nil {
		b.abort()
		return err
	}
	if !exists {
		if err := os.Rename(b.tmp, b.target); err != nil {
			b.abort()
			return problem.New(problem.Failed, "writing diagnostics", err, "")
		}
		return nil
	}
	// The previous bundle goes aside first, so that a failure puts it
	// back (os.Rename does not replace a directory, not even an empty
	// one: the name is made unique, then freed).
	old, err := os.MkdirTemp(filepath.Dir(b.target), "."+filepath.Base(b.target)+".old-")
	if err == nil {
		if err = os.Remove(old); err == nil {
			err = os.Rename(b.target, old)
		}
	}
	if err != nil {
		b.abort()
		return problem.New(problem.Failed, "replacing the previous diagnostics bundle", err, "")
	}
	if err := os.Rename(b.tmp, b.target); err != nil {
		_ = os.Rename(old, b.target)
		b.abort()
		return problem.New(problem.Failed, "replacing the previous diagnostics bundle", err, "")
	}
	return os.RemoveAll(old)
}

// abort removes the unfinished bundle.
func (b *bundleDir) abort() { _ = os.RemoveAll(b.tmp) }

// pathName makes a name from the cluster (namespace, pod, container,
// node) safe as one path component: a name the API server should never
// send (a slash, "..") cannot leave the bundle.
func pathName(s string) string {
	out := []rune(s)
	for i, r := range out {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			out[i] = '_'
		}
	}
	switch s := string(out); s {
	case "", ".", "..":
		return "_"
	default:
		return s
	}
}
