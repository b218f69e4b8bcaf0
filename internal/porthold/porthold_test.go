package porthold

import (
	"net"
	"os"
	"runtime"
	"strconv"
	"testing"
)

func TestHolderNamesThisProcess(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("Holder looks on Linux only")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	if got, want := Holder(port), "PID "+strconv.Itoa(os.Getpid())+" ("; len(got) < len(want) || got[:len(want)] != want {
		t.Fatalf("Holder(%d) = %q, want it to start with %q", port, got, want)
	}
	l.Close()
	if got := Holder(port); got != "" {
		t.Fatalf("Holder of a closed port = %q", got)
	}
}
