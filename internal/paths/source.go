package paths

import (
	"os"
	"path/filepath"
	"strings"
)

// archiveSuffixes end the names of image archives (docker save, OCI
// layouts packed with tar).
var archiveSuffixes = []string{".tar", ".tar.gz", ".tgz", ".tar.zst", ".tar.zstd", ".tar.xz", ".tar.bz2"}

// LooksLikePath reports whether src, an image given by the user, names a
// file or directory rather than an image of a Docker engine or a registry:
// it starts with /, ./, ../ or ~/, it ends like an archive (app.tar,
// app.tar.gz), or its directory part is a directory below dir (dist/app
// where dir/dist exists; dir "" skips that test). Such a source that does
// not exist is a mistyped path, not an image name.
func LooksLikePath(src, dir string) bool {
	for _, p := range []string{"/", "./", "../", "~/"} {
		if strings.HasPrefix(src, p) {
			return true
		}
	}
	lower := strings.ToLower(src)
	for _, s := range archiveSuffixes {
		if strings.HasSuffix(lower, s) {
			return true
		}
	}
	parent := filepath.Dir(src)
	if parent == "." || dir == "" {
		return false
	}
	fi, err := os.Stat(filepath.Join(dir, parent))
	return err == nil && fi.IsDir()
}
