//go:build linux

// Command registrybench compares devcluster's embedded registry with the
// stock CNCF Distribution `registry` binary of the same version, side by
// side in one run, using crane as the client:
//
//   - push and pull time of a 200 MiB and a 1 GiB image (median of -runs),
//     reported as throughput ratios (devcluster / stock; goal ≥ 0.95);
//   - peak RSS of each server process (goal ≤ 64 MiB for devcluster);
//   - bytes sent for an unchanged re-push (goal: no layer bytes) and for a
//     push with one changed layer (goal: that layer only).
//
// Everything runs on loopback. Run it with `task bench`.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/devcluster/devcluster/e2e/harness"
	"github.com/devcluster/devcluster/internal/testutil"
)

func main() {
	runs := flag.Int("runs", 5, "repetitions per measurement (the median is reported)")
	big := flag.Int("big-mib", 1024, "size of the large image in MiB")
	small := flag.Int("small-mib", 200, "size of the small image in MiB")
	flag.Parse()
	if err := run(*runs, *small, *big); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

type server struct {
	label string
	cmd   *exec.Cmd
	proxy *proxy
	// host is the proxy address crane talks to.
	host string
}

func run(runs, smallMiB, bigMiB int) error {
	ctx := context.Background()
	work, err := os.MkdirTemp("", "devcluster-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	logf("building tools")
	crane, err := harness.EnsureGoInstall(ctx, "github.com/google/go-containerregistry/cmd/crane@v0.22.1", "crane")
	if err != nil {
		return err
	}
	stock, err := harness.EnsureGoInstall(ctx, "github.com/distribution/distribution/v3/cmd/registry@v3.1.2", "registry")
	if err != nil {
		return err
	}
	root, err := harness.RepoRoot()
	if err != nil {
		return err
	}
	devcluster := filepath.Join(work, "devcluster")
	build := exec.Command("go", "build", "-o", devcluster, "./cmd/devcluster")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("building devcluster: %v\n%s", err, out)
	}

	logf("generating %d MiB and %d MiB images", smallMiB, bigMiB)
	smallImg, err := image(smallMiB, 4)
	if err != nil {
		return err
	}
	bigImg, err := image(bigMiB, 8)
	if err != nil {
		return err
	}
	extra, err := random.Layer(16<<20, types.DockerLayer)
	if err != nil {
		return err
	}
	changedImg, err := mutate.AppendLayers(smallImg, extra)
	if err != nil {
		return err
	}
	tars := map[string]string{}
	for label, img := range map[string]v1.Image{"small": smallImg, "big": bigImg, "changed": changedImg} {
		p := filepath.Join(work, label+".tar")
		ref, err := name.ParseReference("bench/" + label + ":v1")
		if err != nil {
			return err
		}
		if err := tarball.WriteToFile(p, ref, img); err != nil {
			return err
		}
		tars[label] = p
	}

	servers := []*server{}
	defer func() {
		for _, s := range servers {
			_ = s.cmd.Process.Signal(syscall.SIGTERM)
			_ = s.cmd.Wait()
			s.proxy.close()
		}
	}()
	for _, label := range []string{"devcluster", "distribution"} {
		port, err := testutil.FreePort()
		if err != nil {
			return err
		}
		addr := "127.0.0.1:" + strconv.Itoa(port)
		data := filepath.Join(work, label+"-data")
		var cmd *exec.Cmd
		if label == "devcluster" {
			cmd = exec.Command(devcluster, "registry", "serve", "--listen", addr, "--data-dir", data)
			cmd.Env = append(os.Environ(), "HOME="+work)
		} else {
			cfg := filepath.Join(work, "stock.yml")
			_ = os.WriteFile(cfg, []byte(fmt.Sprintf("version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: %s\n  delete:\n    enabled: true\nhttp:\n  addr: %s\n", data, addr)), 0o600)
			cmd = exec.Command(stock, "serve", cfg)
			cmd.Env = append(os.Environ(), "OTEL_TRACES_EXPORTER=none")
		}
		logFile, _ := os.Create(filepath.Join(work, label+".log"))
		cmd.Stdout, cmd.Stderr = logFile, logFile
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		if err := cmd.Start(); err != nil {
			return err
		}
		p, err := newProxy(addr)
		if err != nil {
			return err
		}
		s := &server{label: label, cmd: cmd, proxy: p, host: p.addr}
		servers = append(servers, s)
		if err := waitHTTP(addr); err != nil {
			return fmt.Errorf("%s: %w", label, err)
		}
	}

	type row struct {
		what string
		vals []time.Duration
	}
	var rows []row
	// Runs alternate between the servers, and which goes first alternates
	// too, so page-cache warmth and background noise fall on both alike.
	measure := func(what string, fn func(s *server, i int) error) error {
		r := row{what: what}
		ds := make([][]time.Duration, len(servers))
		for i := 0; i < runs; i++ {
			for k := range servers {
				j := k
				if i%2 == 1 {
					j = len(servers) - 1 - k
				}
				start := time.Now()
				if err := fn(servers[j], i); err != nil {
					return fmt.Errorf("%s on %s: %w", what, servers[j].label, err)
				}
				ds[j] = append(ds[j], time.Since(start))
			}
		}
		for j := range servers {
			r.vals = append(r.vals, median(ds[j]))
		}
		rows = append(rows, r)
		logf("%s: devcluster %s, distribution %s", what, r.vals[0].Round(time.Millisecond), r.vals[1].Round(time.Millisecond))
		return nil
	}
	// Warm-up: read every tarball once and let both servers create their
	// storage layout, so the first measured run is not the one paying for it.
	for _, s := range servers {
		if err := runCmd(crane, "push", "--insecure", tars["small"], s.host+"/warmup:v1"); err != nil {
			return err
		}
	}
	for _, t := range tars {
		if f, err := os.Open(t); err == nil {
			_, _ = io.Copy(io.Discard, f)
			f.Close()
		}
	}
	for _, img := range []struct {
		label string
		mib   int
	}{{"small", smallMiB}, {"big", bigMiB}} {
		img := img
		if err := measure(fmt.Sprintf("push %d MiB", img.mib), func(s *server, i int) error {
			// A fresh repository each time, so every run uploads everything.
			return runCmd(crane, "push", "--insecure", tars[img.label], fmt.Sprintf("%s/%s%d:v1", s.host, img.label, i))
		}); err != nil {
			return err
		}
		if err := measure(fmt.Sprintf("pull %d MiB", img.mib), func(s *server, i int) error {
			out := filepath.Join(work, "pulled.tar")
			defer os.Remove(out)
			return runCmd(crane, "pull", "--insecure", fmt.Sprintf("%s/%s%d:v1", s.host, img.label, i), out)
		}); err != nil {
			return err
		}
	}

	// Bytes on the wire for re-pushes (client → server, headers included).
	repush := map[string][2]int64{}
	for _, s := range servers {
		s.proxy.reset()
		if err := runCmd(crane, "push", "--insecure", tars["small"], s.host+"/small0:again"); err != nil {
			return err
		}
		unchanged := s.proxy.reset()
		if err := runCmd(crane, "push", "--insecure", tars["changed"], s.host+"/small0:changed"); err != nil {
			return err
		}
		repush[s.label] = [2]int64{unchanged, s.proxy.reset()}
	}

	fmt.Println()
	var missed []string
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "measurement\tdevcluster\tdistribution\tthroughput ratio (goal ≥ 0.95)")
	for _, r := range rows {
		ratio := float64(r.vals[1]) / float64(r.vals[0])
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.2f×\n", r.what, r.vals[0].Round(time.Millisecond), r.vals[1].Round(time.Millisecond), ratio)
		if ratio < 0.95 {
			missed = append(missed, fmt.Sprintf("%s: throughput ratio %.2f < 0.95", r.what, ratio))
		}
	}
	for _, s := range servers {
		rss := peakRSS(s.cmd.Process.Pid)
		fmt.Fprintf(tw, "peak RSS %s\t%s\t\t(goal for devcluster ≤ 64 MiB)\n", s.label, mib(rss))
		if s.label == "devcluster" && rss > 64<<20 {
			missed = append(missed, fmt.Sprintf("peak RSS %s > 64 MiB", mib(rss)))
		}
	}
	size, _ := extra.Size()
	for _, s := range servers {
		b := repush[s.label]
		fmt.Fprintf(tw, "re-push bytes %s\tunchanged %s\tone new layer %s\t(new layer is %s)\n", s.label, mib(b[0]), mib(b[1]), mib(size))
		if s.label == "devcluster" {
			// Manifests and the config blob are re-sent; layers never are.
			if b[0] > 1<<20 {
				missed = append(missed, fmt.Sprintf("an unchanged re-push sent %s (goal: no layer bytes)", mib(b[0])))
			}
			if b[1] > size+1<<20 {
				missed = append(missed, fmt.Sprintf("a push with one new layer sent %s (goal: that layer, %s)", mib(b[1]), mib(size)))
			}
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(missed) > 0 {
		return fmt.Errorf("goals missed:\n  %s", strings.Join(missed, "\n  "))
	}
	fmt.Println("every goal met")
	return nil
}

func image(totalMiB, layers int) (v1.Image, error) {
	img := empty.Image
	per := int64(totalMiB) << 20 / int64(layers)
	for i := 0; i < layers; i++ {
		l, err := random.Layer(per, types.DockerLayer)
		if err != nil {
			return nil, err
		}
		if img, err = mutate.AppendLayers(img, l); err != nil {
			return nil, err
		}
	}
	return img, nil
}

func runCmd(bin string, args ...string) error {
	out, err := exec.Command(bin, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %v\n%s", filepath.Base(bin), strings.Join(args, " "), err, out)
	}
	return nil
}

func median(ds []time.Duration) time.Duration {
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	return ds[len(ds)/2]
}

// peakRSS is VmHWM of a process, in bytes.
func peakRSS(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

func logf(f string, a ...any) { fmt.Fprintf(os.Stderr, "• "+f+"\n", a...) }

func waitHTTP(addr string) error {
	for i := 0; i < 200; i++ {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return nil
		}
		time.Sleep(25 * time.Millisecond)
	}
	return fmt.Errorf("%s did not start listening", addr)
}

// proxy forwards TCP to a server and counts the bytes clients send.
type proxy struct {
	l     net.Listener
	addr  string
	sent  atomic.Int64
	close func()
}

func newProxy(target string) (*proxy, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &proxy{l: l, addr: l.Addr().String()}
	p.close = func() { _ = l.Close() }
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				s, err := net.Dial("tcp", target)
				if err != nil {
					return
				}
				defer s.Close()
				done := make(chan struct{})
				go func() {
					n, _ := io.Copy(s, c)
					p.sent.Add(n)
					if tc, ok := s.(*net.TCPConn); ok {
						_ = tc.CloseWrite()
					}
					close(done)
				}()
				_, _ = io.Copy(c, s)
				<-done
			}()
		}
	}()
	return p, nil
}

// reset returns the bytes counted since the last reset. Connections still
// open are counted when they close, so callers measure after a command ends.
func (p *proxy) reset() int64 {
	time.Sleep(100 * time.Millisecond)
	return p.sent.Swap(0)
}
