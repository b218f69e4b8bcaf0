package agent

import (
	"bytes"
	"crypto/sha256"
	"debug/elf"
	"debug/macho"
	"encoding/hex"
	"fmt"
	"io"
	"os"
)

// BuildVersion is the identity of a devcluster build, as its agent reports
// it and as Process compares it: the release (app.Version, "dev" for a
// development build) and, after a "+", a fingerprint of the executable —
// Go's build ID where it can be read (ELF and Mach-O), else its size and
// modification time. An agent started by another build, after an upgrade
// or a rebuild of a development binary, is therefore replaced rather than
// reused.
func BuildVersion(release, executable string) string {
	return release + "+" + fingerprint(executable)
}

// fingerprint identifies the executable's build in 12 hex digits.
func fingerprint(executable string) string {
	id := goBuildID(executable)
	if id == "" {
		fi, err := os.Stat(executable)
		if err != nil {
			return "unknown"
		}
		id = fmt.Sprintf("%d bytes, modified %d", fi.Size(), fi.ModTime().UnixNano())
	}
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:6])
}

// goBuildID reads the build ID the Go linker writes into an executable: an
// ELF note, or the start of a Mach-O text section. "" when there is none.
func goBuildID(executable string) string {
	if f, err := elf.Open(executable); err == nil {
		defer f.Close()
		if s := f.Section(".note.go.buildid"); s != nil {
			if data, err := s.Data(); err == nil {
				return elfNote(f.ByteOrder, data, "Go\x00\x00", 4)
			}
		}
		return ""
	}
	if f, err := macho.Open(executable); err == nil {
		defer f.Close()
		if s := f.Section("__text"); s != nil {
			head := make([]byte, 1024)
			n, _ := io.ReadFull(s.Open(), head)
			return textBuildID(head[:n])
		}
	}
	return ""
}

// elfNote returns the description of the first note of the given name and
// type (an ELF note is namesz, descsz, type, then the name and the
// description, each padded to 4 bytes).
func elfNote(order interface{ Uint32([]byte) uint32 }, data []byte, name string, typ uint32) string {
	pad := func(n uint32) uint32 { return (n + 3) &^ 3 }
	for len(data) >= 12 {
		namesz, descsz, t := order.Uint32(data[0:4]), order.Uint32(data[4:8]), order.Uint32(data[8:12])
		end := 12 + uint64(pad(namesz)) + uint64(pad(descsz))
		if end > uint64(len(data)) {
			return ""
		}
		if t == typ && string(data[12:12+namesz]) == name {
			return string(data[12+pad(namesz) : 12+pad(namesz)+descsz])
		}
		data = data[end:]
	}
	return ""
}

// textBuildID finds `\xff Go build ID: "…"\n \xff` at the start of a text
// section.
func textBuildID(head []byte) string {
	const prefix, suffix = "\xff Go build ID: \"", "\"\n \xff"
	i := bytes.Index(head, []byte(prefix))
	if i < 0 {
		return ""
	}
	rest := head[i+len(prefix):]
	j := bytes.Index(rest, []byte(suffix))
	if j < 0 {
		return ""
	}
	return string(rest[:j])
}
