// Package benchkit holds what the side-by-side benchmark programs share:
// timing a whole process with its peak RSS, the statistics they report, and
// the machine description printed with every result.
package benchkit

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"
)

// GNUTime reports a child's peak RSS. Go's own rusage for a child is
// useless: children are started with clone(CLONE_VM|CLONE_VFORK), and Linux
// charges the parent's resident set at exec time to the child's peak.
const GNUTime = "/usr/bin/time"

// RequireGNUTime says how to install GNU time when it is missing.
func RequireGNUTime() error {
	if _, err := os.Stat(GNUTime); err != nil {
		return fmt.Errorf("%s (GNU time, for peak RSS): %w; apt-get install -y time", GNUTime, err)
	}
	return nil
}

// Sample is one whole-process run.
type Sample struct {
	Wall   time.Duration
	MaxRSS int64 // KiB
}

// Measure runs bin under GNU time with env and returns its wall time, peak
// RSS and output. The wall time includes the GNU time wrapper; a /bin/true
// row measured the same way is the floor that includes it.
func Measure(ctx context.Context, env []string, bin string, args ...string) (s Sample, stdout, stderr string, err error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	rssFile, err := os.CreateTemp("", "bench-rss-")
	if err != nil {
		return Sample{}, "", "", err
	}
	rssFile.Close()
	defer os.Remove(rssFile.Name())
	cmd := exec.CommandContext(ctx, GNUTime, append([]string{"-f", "%M", "-o", rssFile.Name(), bin}, args...)...)
	cmd.Env = env
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	start := time.Now()
	err = cmd.Run()
	wall := time.Since(start)
	if err != nil {
		return Sample{}, out.String(), errOut.String(), fmt.Errorf("%s %s: %v\n%s%s", bin, strings.Join(args, " "), err, out.String(), errOut.String())
	}
	data, err := os.ReadFile(rssFile.Name())
	if err != nil {
		return Sample{}, "", "", err
	}
	fields := strings.Fields(string(data))
	if len(fields) == 0 {
		return Sample{}, "", "", fmt.Errorf("%s reported no peak RSS", GNUTime)
	}
	kib, err := strconv.ParseInt(fields[len(fields)-1], 10, 64)
	if err != nil {
		return Sample{}, "", "", fmt.Errorf("%s peak RSS %q: %v", GNUTime, data, err)
	}
	return Sample{Wall: wall, MaxRSS: kib}, out.String(), errOut.String(), nil
}

// Split returns the wall times in ms and the peak RSS values in MiB.
func Split(ss []Sample) (walls, rss []float64) {
	for _, s := range ss {
		walls = append(walls, float64(s.Wall.Microseconds())/1000)
		rss = append(rss, float64(s.MaxRSS)/1024)
	}
	return walls, rss
}

// Percentile is the nearest-rank percentile (the median of an even count
// is the mean of the middle two).
func Percentile(xs []float64, p int) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if p == 50 && len(s)%2 == 0 {
		return (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	rank := (p*len(s) + 99) / 100
	if rank < 1 {
		rank = 1
	}
	return s[rank-1]
}

// Verdict says whether a ratio meets an upper-bound target, and by how much
// it misses.
func Verdict(got, target float64) string {
	if got <= target {
		return "met"
	}
	return fmt.Sprintf("MISSED by %.0f%%", (got/target-1)*100)
}

// PrintMachine prints the machine a result was measured on, then extra
// lines (tool versions) as given.
func PrintMachine(ctx context.Context, extra ...string) {
	cpu := "unknown"
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				cpu = strings.TrimSpace(v)
				break
			}
		}
	}
	mem := "unknown"
	if data, err := os.ReadFile("/proc/meminfo"); err == nil {
		line, _, _ := strings.Cut(string(data), "\n")
		mem = strings.Join(strings.Fields(strings.TrimPrefix(line, "MemTotal:")), " ")
	}
	kernel, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	fmt.Println("Machine:")
	fmt.Printf("- nproc: %d, memory: %s\n", runtime.NumCPU(), mem)
	fmt.Printf("- CPU: %s\n", cpu)
	fmt.Printf("- kernel: %s %s\n", runtime.GOOS, strings.TrimSpace(string(kernel)))
	fmt.Printf("- go: %s\n", FirstLine(ctx, "go", "version"))
	for _, line := range extra {
		fmt.Printf("- %s\n", line)
	}
	fmt.Println()
}

// FirstLine is the first line a command prints, for version lines.
func FirstLine(ctx context.Context, name string, args ...string) string {
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if err != nil && len(out) == 0 {
		return "unavailable: " + err.Error()
	}
	line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	return line
}
