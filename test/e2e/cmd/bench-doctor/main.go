// Command bench-doctor times `kubectl securekapi doctor` through a tunnel
// (the stunnel gateway of the real stack, direct mode), with and without
// the streaming probe, for this build and, side by side in one run, for a
// baseline build (-baseline DIR holding kubectl-securekapi and securekapi
// of another commit). It shows what doctor's exit costs after its checks:
// the loopback proxy's shutdown and the streams it waits for.
//
// Run it from test/e2e:
//
//	SECUREKAPI_BIN=... SECUREKAPI_TOOLS_BIN=... ../../scripts/with-keyring.sh go run ./cmd/bench-doctor -baseline /tmp/old/bin
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/securekapi/securekapi/test/e2e/stack"
)

func main() {
	n := flag.Int("n", 5, "timed doctor runs per build and mode")
	baseline := flag.String("baseline", "", "directory with another build's kubectl-securekapi and securekapi, timed beside this one")
	flag.Parse()
	if err := run(*n, *baseline); err != nil {
		fmt.Fprintln(os.Stderr, "bench-doctor:", err)
		os.Exit(1)
	}
}

func run(n int, baseline string) error {
	if os.Getenv("SECUREKAPI_REQUIRE_KEYRING") == "" {
		return errors.New("run under scripts/with-keyring.sh: the session keeps its login in the keyring")
	}
	ctx := context.Background()
	s, err := stack.Start(ctx, stack.Options{Progress: os.Stderr})
	if err != nil {
		return err
	}
	defer s.Stop()
	gw, err := s.StartGateway(ctx, stack.Stunnel)
	if err != nil {
		return err
	}
	defer gw.Close()
	se, remove, err := s.NewTempSession("bench-doctor-", stack.Reader)
	if err != nil {
		return err
	}
	defer remove()
	if err := se.AddCluster(ctx, "e2e", gw.AddFlags(gw.ClientCertFile, gw.ClientKeyFile)...); err != nil {
		return err
	}
	if r := se.Securekapi(ctx, "use", "e2e"); r.Err != nil {
		return fmt.Errorf("use: %v\n%s", r.Err, r.Stderr)
	}
	if r := se.Securekapi(ctx, "login", "e2e", "--approve", "--browser-command", se.BrowserCommand()); r.Err != nil {
		return fmt.Errorf("login: %v\n%s", r.Err, r.Stderr)
	}
	builds := []struct{ name, plugin string }{{"this build", se.Plugin}}
	if baseline != "" {
		builds = append(builds, struct{ name, plugin string }{"baseline " + baseline, filepath.Join(baseline, "kubectl-securekapi")})
	}
	modes := [][]string{{"--quick"}, {"--watch-time", "2s"}}
	samples := map[string][]time.Duration{}
	for round := 0; round < n; round++ {
		for _, mode := range modes {
			for i := range builds {
				b := builds[(i+round)%len(builds)] // alternate which build runs first
				se.Plugin = b.plugin
				start := time.Now()
				r := se.Securekapi(ctx, append([]string{"doctor", "e2e"}, mode...)...)
				took := time.Since(start)
				if r.Err != nil {
					return fmt.Errorf("%s doctor %v: %v\n%s%s", b.name, mode, r.Err, r.Stdout, r.Stderr)
				}
				key := fmt.Sprintf("%s|%v", b.name, mode)
				samples[key] = append(samples[key], took)
			}
		}
	}
	fmt.Printf("## `doctor e2e` through stunnel (direct mode), %d runs each, median (min-max)\n\n", n)
	fmt.Println("| build | doctor --quick | doctor --watch-time 2s |")
	fmt.Println("|---|---:|---:|")
	for _, b := range builds {
		fmt.Printf("| %s |", b.name)
		for _, mode := range modes {
			d := samples[fmt.Sprintf("%s|%v", b.name, mode)]
			sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
			fmt.Printf(" %s (%s-%s) |", ms(d[len(d)/2]), ms(d[0]), ms(d[len(d)-1]))
		}
		fmt.Println()
	}
	return nil
}

func ms(d time.Duration) string { return fmt.Sprintf("%.0f ms", float64(d.Microseconds())/1000) }
