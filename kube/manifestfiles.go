package kube

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

// DecodeManifests decodes multi-document YAML (or JSON) with apimachinery's
// decoder. Empty documents are skipped; every problem is reported with its
// document number.
func DecodeManifests(source string, data []byte) ([]Object, error) {
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	var out []Object
	var problems []string
	for i := 0; ; i++ {
		var raw map[string]any
		err := dec.Decode(&raw)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s document %d: %v", source, i+1, err))
			break
		}
		if len(raw) == 0 {
			continue
		}
		u := &unstructured.Unstructured{Object: raw}
		var missing []string
		if u.GetAPIVersion() == "" {
			missing = append(missing, "apiVersion")
		}
		if u.GetKind() == "" {
			missing = append(missing, "kind")
		}
		if u.GetName() == "" {
			missing = append(missing, "metadata.name")
		}
		if len(missing) > 0 {
			problems = append(problems, fmt.Sprintf("%s document %d: missing %s", source, i+1, strings.Join(missing, ", ")))
			continue
		}
		if strings.HasSuffix(u.GetKind(), "List") {
			problems = append(problems, fmt.Sprintf("%s document %d: %s is not supported; write one document per object", source, i+1, u.GetKind()))
			continue
		}
		out = append(out, Object{Source: source, Index: i, Obj: u})
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("invalid manifests:\n  %s", strings.Join(problems, "\n  "))
	}
	return out, nil
}

// MaxManifestSize bounds one manifest file (the API server's own request
// limit is 3 MiB per object; a file of many objects gets more room), and
// MaxManifestsSize all the files of one apply together.
const (
	MaxManifestSize  = 32 << 20
	MaxManifestsSize = 64 << 20
)

// readManifest reads a regular file of at most max bytes: a device or a
// FIFO given by mistake (--manifest /dev/zero) must not hang or fill
// memory, and a file too large is refused by its size before it is read
// (the limited read covers a file that grows meanwhile).
func readManifest(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() && path != os.DevNull {
		return nil, fmt.Errorf("%s: not a regular file", path)
	}
	tooLarge := fmt.Errorf("%s: larger than %d MiB", path, MaxManifestSize>>20)
	if max < MaxManifestSize {
		tooLarge = fmt.Errorf("%s: the manifests are larger than %d MiB together", path, MaxManifestsSize>>20)
	}
	if fi.Size() > max {
		return nil, tooLarge
	}
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, tooLarge
	}
	return b, nil
}

// LoadManifests reads files and directories (recursively: *.yaml, *.yml,
// *.json, in lexical order). Their sizes are checked, each and together,
// before any is read.
func LoadManifests(paths []string) ([]Object, error) {
	var out []Object
	var problems []string
	var files []string
	total := int64(0)
	for _, p := range paths {
		var found []string
		err := filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				return nil
			}
			switch strings.ToLower(filepath.Ext(path)) {
			case ".yaml", ".yml", ".json":
				found = append(found, path)
			default:
				if path == p {
					found = append(found, path)
				}
			}
			return nil
		})
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		sort.Strings(found)
		for _, f := range found {
			if fi, err := os.Stat(f); err == nil && fi.Mode().IsRegular() {
				if fi.Size() > MaxManifestSize {
					problems = append(problems, fmt.Sprintf("%s: larger than %d MiB", f, MaxManifestSize>>20))
					continue
				}
				total += fi.Size()
			}
			files = append(files, f)
		}
	}
	if total > MaxManifestsSize {
		problems = append(problems, fmt.Sprintf("the manifests hold %d MiB, more than %d MiB together", total>>20, MaxManifestsSize>>20))
		files = nil
	}
	left := int64(MaxManifestsSize)
	for _, f := range files {
		b, err := readManifest(f, min(MaxManifestSize, left))
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		left -= int64(len(b))
		objs, err := DecodeManifests(f, b)
		if err != nil {
			problems = append(problems, strings.TrimPrefix(err.Error(), "invalid manifests:\n  "))
			continue
		}
		out = append(out, objs...)
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("invalid manifests:\n  %s", strings.Join(problems, "\n  "))
	}
	return out, nil
}
