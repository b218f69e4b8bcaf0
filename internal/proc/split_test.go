//go:build linux || darwin

package proc

import (
	"encoding/binary"
	"slices"
	"testing"
)

func TestParseProcArgs2(t *testing.T) {
	argc := binary.LittleEndian.AppendUint32(nil, 3)
	good := append(argc, "/usr/local/bin/devcluster\x00\x00\x00\x00devcluster\x00agent\x00--state-dir=/a b\x00HOME=/Users/x\x00"...)
	args, err := parseProcArgs2(good)
	if err != nil || !slices.Equal(args, []string{"devcluster", "agent", "--state-dir=/a b"}) {
		t.Errorf("parseProcArgs2 = %q, %v (the environment after argc's arguments is not an argument)", args, err)
	}
	for _, bad := range [][]byte{nil, {1, 0}, append(binary.LittleEndian.AppendUint32(nil, 4), "/x\x00a\x00"...)} {
		if args, err := parseProcArgs2(bad); err == nil {
			t.Errorf("parseProcArgs2(%q) = %q, want an error", bad, args)
		}
	}
}
