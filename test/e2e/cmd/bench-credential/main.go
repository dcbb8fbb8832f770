// Command bench-credential times the exec credential plugin's hot path (a
// cached, valid token) side by side with its peers, as whole processes the
// way kubectl runs them, for both token stores (files and the OS keyring),
// and prints every ratio the project targets from this one run:
//
//   - the small exec program (kubectl-securekapi) against kubelogin
//     get-token, gke-gcloud-auth-plugin's cached path, and a Go hello-world
//     built the same way (the process floor); its peak RSS against
//     kubelogin's; the keyring path against kubelogin's keyring path;
//   - `kubectl get ns` through our exec stanza against the same kubectl
//     with a static token, through the same endpoint.
//
// It starts the real stack (etcd, kube-apiserver, Dex, HAProxy), logs in
// once with each tool through Dex's real login page (the session's test
// browser completes it), then runs `kubectl-securekapi credential ARGS` (the
// exec args `use` wrote, KUBERNETES_EXEC_INFO as kubectl sets it) and
// `kubelogin get-token ARGS` interleaved, after warm-up runs, with /bin/true
// as the floor. Every run must exit 0 and print a token; no run may open
// the browser again. Run it under scripts/with-keyring.sh:
//
//	cd test/e2e && SECUREKAPI_BIN=... SECUREKAPI_TOOLS_BIN=... \
//	  ../../scripts/with-keyring.sh go run ./cmd/bench-credential -n 30
//
// -also NAME=PATH (repeatable) times another build of the small program
// (PATH, with its full CLI beside it, as make build leaves them) in the
// same interleaved file-store runs, in a session of its own that its own
// full CLI set up and logged in: an A/B of two commits against the same
// peers, at the same moment.
package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/securekapi/securekapi/test/e2e/benchkit"
	"github.com/securekapi/securekapi/test/e2e/stack"
)

func main() {
	n := flag.Int("n", 30, "timed runs per tool and store (at least 30)")
	warmup := flag.Int("warmup", 3, "untimed warm-up runs per tool before timing")
	traces := flag.Int("inittrace-runs", 20, "runs of securekapi credential with GODEBUG=inittrace=1 to average package init costs over")
	var also builds
	flag.Var(&also, "also", "NAME=PATH: another build of kubectl-securekapi to time beside $SECUREKAPI_BIN on the file store (repeatable)")
	flag.Parse()
	if *n < 30 {
		fmt.Fprintf(os.Stderr, "bench-credential: -n %d: the benchmark needs at least 30 runs per tool\n", *n)
		os.Exit(2)
	}
	if err := run(*n, *warmup, *traces, also); err != nil {
		fmt.Fprintf(os.Stderr, "bench-credential FAILED: %v\n", err)
		os.Exit(1)
	}
}

// Targets the project sets for the cached-token path (issue #18): our
// median over the peer's median.
const (
	kubeloginTarget    = 0.5  // file store, against kubelogin get-token
	gkeTarget          = 0.7  // against gke-gcloud-auth-plugin's cached path
	floorTarget        = 1.5  // against a Go hello-world built the same way
	rssTarget          = 0.8  // peak RSS against kubelogin's
	keyringTarget      = 0.6  // keyring store, against kubelogin's keyring store
	kubectlTarget      = 1.10 // kubectl get ns via our exec stanza, against a static token
	helloWorldFloorPkg = "goruntime"
)

type tool struct {
	name string
	bin  string
	args []string
	env  []string
	// token checks stdout; nil for the floor.
	token bool
}

func run(n, warmup, traces int, also builds) error {
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" || os.Getenv("SECUREKAPI_REQUIRE_KEYRING") == "" {
		return errors.New("run under scripts/with-keyring.sh: the keyring rows need a real Secret Service, and kubelogin must not write to your own keyring")
	}
	if err := benchkit.RequireGNUTime(); err != nil {
		return err
	}
	kubelogin := filepath.Join(os.Getenv("SECUREKAPI_TOOLS_BIN"), "kubelogin")
	if _, err := os.Stat(kubelogin); err != nil {
		return fmt.Errorf("kubelogin: %w (run tools/build.sh kubelogin)", err)
	}
	ctx := context.Background()
	// A long ID token lifetime: every timed run must hit the cache, never
	// a refresh.
	br, err := benchkit.StartRun(ctx, "bench-credential", stack.Options{IDTokenExpiry: time.Hour})
	if err != nil {
		return err
	}
	defer br.Stop()
	s, se, dir := br.Stack, br.Session, br.Dir
	floors, err := buildFloors(ctx, dir)
	if err != nil {
		return err
	}
	fullCLI := filepath.Join(filepath.Dir(se.Plugin), "securekapi")
	if _, err := os.Stat(fullCLI); err != nil {
		return fmt.Errorf("the full CLI beside the plugin: %w (make build)", err)
	}
	gke, err := gkeCached(dir)
	if err != nil {
		return err
	}
	var ratios []ratio

	fmt.Println("# Cached-token path: securekapi credential vs kubelogin get-token, gke-gcloud-auth-plugin and the Go floor")
	fmt.Println()
	printMachine(ctx, se, kubelogin)
	fmt.Printf("Runs: %d timed per tool and store, interleaved (securekapi, kubelogin, /bin/true, ...), after %d warm-up runs each.\n", n, warmup)
	fmt.Println("Every binary is stripped, release-style: CGO_ENABLED=0 -trimpath -ldflags '-s -w' (make build; tools/build.sh for kubelogin; the SDK's build of gke-gcloud-auth-plugin).")
	fmt.Println()

	if err := se.AddCluster(ctx, "e2e"); err != nil {
		return err
	}
	others, err := setUpBuilds(ctx, s, dir, also)
	if err != nil {
		return err
	}
	execInfo := fmt.Sprintf(`{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"cluster":{"server":%q,"tls-server-name":%q,"certificate-authority-data":%q,"config":null},"interactive":false},"status":null}`,
		s.EndpointURL, stack.EndpointServerName, base64.StdEncoding.EncodeToString(s.EnterpriseCA.CertPEM))
	env := append(se.Environ(), "KUBERNETES_EXEC_INFO="+execInfo)

	for _, kind := range []string{"file", "keyring"} {
		// securekapi: the exec stanza asks for this store; log in to it.
		if r := se.Securekapi(ctx, "use", "e2e", "--token-cache", kind); r.Err != nil {
			return fmt.Errorf("use e2e --token-cache %s: %v\n%s", kind, r.Err, r.Stderr)
		}
		if r := se.Securekapi(ctx, "login", "e2e", "--approve", "--token-cache", kind, "--browser-command", se.BrowserCommand()); r.Err != nil {
			return fmt.Errorf("securekapi login (%s): %v\n%s", kind, r.Err, r.Stderr)
		}
		ska, err := execArgs(ctx, se)
		if err != nil {
			return err
		}
		if !hasPair(ska, "--token-cache", kind) {
			return fmt.Errorf("exec args %q do not ask for the %s store", ska, kind)
		}

		// kubelogin: the same issuer, client, scopes and CA; the same store.
		kl := []string{"get-token",
			"--oidc-issuer-url", s.IssuerURL, "--oidc-client-id", s.ClientID,
			"--oidc-extra-scope", "email", "--oidc-extra-scope", "groups",
			"--certificate-authority", s.DexCAFile,
			"--token-cache-dir", filepath.Join(dir, "kubelogin-cache-"+kind)}
		switch kind {
		case "file":
			kl = append(kl, "--token-cache-storage", "disk")
		case "keyring":
			kl = append(kl, "--token-cache-storage", "keyring")
		}
		loginArgs := append(append([]string{}, kl...), "--browser-command", se.BrowserCommand(),
			"--listen-address", "127.0.0.1:0", "--authentication-timeout-sec", "60")
		if _, err := once(ctx, kubelogin, loginArgs, env, true); err != nil {
			return fmt.Errorf("kubelogin login (%s): %w", kind, err)
		}
		// Each tool must really use the store under test.
		tokenFiles := countTokenFiles(filepath.Join(dir, "kubelogin-cache-"+kind))
		if kind == "file" && tokenFiles == 0 {
			return errors.New("kubelogin --token-cache-storage disk wrote no token file")
		}
		if kind == "keyring" && tokenFiles != 0 {
			return errors.New("kubelogin --token-cache-storage keyring wrote a token file")
		}

		logins := se.BrowserLogins()
		credArgs := append([]string{"credential"}, ska...)
		tools := []tool{
			{name: "securekapi credential (small program)", bin: se.Plugin, args: credArgs, env: env, token: true},
			{name: "kubelogin get-token", bin: kubelogin, args: kl, env: env, token: true},
			{name: "/bin/true (floor)", bin: "/bin/true", env: env},
			{name: "securekapi credential (full CLI, as before the split)", bin: fullCLI, args: credArgs, env: env, token: true},
		}
		if kind == "file" {
			tools = append(tools, gke)
			for _, f := range floors {
				tools = append(tools, tool{name: f.name, bin: f.bin, env: env})
			}
			for _, o := range others {
				tools = append(tools, tool{name: o.name, bin: o.se.Plugin, args: o.args,
					env: append(o.se.Environ(), "KUBERNETES_EXEC_INFO="+execInfo), token: true})
			}
		}
		samples, err := measure(ctx, tools, n, warmup)
		if err != nil {
			return fmt.Errorf("%s store: %w", kind, err)
		}
		if after := se.BrowserLogins(); after != logins {
			return fmt.Errorf("%s store: %d browser logins happened during the timed runs; the cached path was not measured", kind, after-logins)
		}
		for _, o := range others {
			if after := o.se.BrowserLogins(); kind == "file" && after != o.logins {
				return fmt.Errorf("%s: %d browser logins happened during the timed runs; its cached path was not measured", o.name, after-o.logins)
			}
		}
		report(kind, tools, samples, &ratios)
		if kind == "file" && traces > 0 {
			if err := initTrace(ctx, tools[0], traces); err != nil {
				return err
			}
		}
	}
	if err := benchCI(ctx, se, s, env, n, warmup); err != nil {
		return err
	}
	kr, err := kubectlGetNS(ctx, se, s, dir, n, warmup)
	if err != nil {
		return err
	}
	ratios = append(ratios, kr)
	printTargets(ratios)
	return nil
}

// initTrace runs the credential hot path with GODEBUG=inittrace=1 and
// prints the packages whose init costs the most, averaged over runs. Go
// runs the init of every package linked into the binary, whatever the
// subcommand, so this is what every kubectl call pays before main.
func initTrace(ctx context.Context, t tool, runs int) error {
	type cost struct {
		ms           float64
		bytes, alloc int64
	}
	sum := map[string]*cost{}
	for i := 0; i < runs; i++ {
		cmd := exec.CommandContext(ctx, t.bin, t.args...)
		cmd.Env = append(append([]string{}, t.env...), "GODEBUG=inittrace=1")
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil || !strings.Contains(stdout.String(), `"token"`) {
			return fmt.Errorf("inittrace run: %v\n%s", err, stderr.String())
		}
		// init k8s.io/klog/v2 @1.2 ms, 0.31 ms clock, 3272 bytes, 33 allocs
		for _, line := range strings.Split(stderr.String(), "\n") {
			f := strings.Fields(line)
			if len(f) < 11 || f[0] != "init" {
				continue
			}
			ms, _ := strconv.ParseFloat(f[4], 64)
			b, _ := strconv.ParseInt(f[7], 10, 64)
			a, _ := strconv.ParseInt(f[9], 10, 64)
			c := sum[f[1]]
			if c == nil {
				c = &cost{}
				sum[f[1]] = c
			}
			c.ms += ms
			c.bytes += b
			c.alloc += a
		}
	}
	names := make([]string, 0, len(sum))
	var total, k8s cost
	for name, c := range sum {
		names = append(names, name)
		total.ms += c.ms
		total.bytes += c.bytes
		total.alloc += c.alloc
		if strings.HasPrefix(name, "k8s.io/") || strings.HasPrefix(name, "sigs.k8s.io/") {
			k8s.ms += c.ms
			k8s.alloc += c.alloc
		}
	}
	sort.Slice(names, func(i, j int) bool { return sum[names[i]].ms > sum[names[j]].ms })
	r := float64(runs)
	fmt.Printf("### Package init on the credential hot path (GODEBUG=inittrace=1, mean of %d runs)\n\n", runs)
	fmt.Printf("%d packages run init: %.2f ms, %.0f KiB, %.0f allocs in total; k8s.io/* and sigs.k8s.io/* alone: %.2f ms, %.0f allocs.\n\n",
		len(names), total.ms/r, float64(total.bytes)/r/1024, float64(total.alloc)/r, k8s.ms/r, float64(k8s.alloc)/r)
	fmt.Println("| # | package | init ms | bytes | allocs |")
	fmt.Println("|---:|---|---:|---:|---:|")
	for i, name := range names {
		if i == 15 {
			break
		}
		c := sum[name]
		fmt.Printf("| %d | %s | %.3f | %.0f | %.0f |\n", i+1, name, c.ms/r, float64(c.bytes)/r, float64(c.alloc)/r)
	}
	fmt.Println()
	return nil
}

// measure runs every tool warmup times, then n times interleaved, and
// returns the samples per tool.
func measure(ctx context.Context, tools []tool, n, warmup int) ([][]benchkit.Sample, error) {
	out := make([][]benchkit.Sample, len(tools))
	for i := 0; i < warmup+n; i++ {
		for t, tl := range tools {
			s, err := once(ctx, tl.bin, tl.args, tl.env, tl.token)
			if err != nil {
				return nil, fmt.Errorf("%s run %d: %w", tl.name, i+1, err)
			}
			if i >= warmup {
				out[t] = append(out[t], s)
			}
		}
	}
	return out, nil
}

// once runs a whole process and checks it: exit 0 and, when token is set,
// an ExecCredential with a JWT on stdout. The process runs under GNU time,
// which reports its peak RSS: the rusage Go's os/exec hands back
// (ProcessState.SysUsage().Maxrss) is useless here, because Go starts
// children with clone(CLONE_VM|CLONE_VFORK) and Linux charges the parent's
// resident set at exec time to the child's high-water mark, so every child
// of this (large) program would report at least the program's own RSS.
// The wall time is taken around the whole wrapper; the /bin/true row,
// wrapped the same way, is the floor that includes it.
func once(ctx context.Context, bin string, args, env []string, token bool) (benchkit.Sample, error) {
	sm, stdout, stderr, err := benchkit.Measure(ctx, env, bin, args...)
	if err != nil {
		return benchkit.Sample{}, err
	}
	if token {
		var cred struct {
			Status struct {
				Token string `json:"token"`
			} `json:"status"`
		}
		if err := json.Unmarshal([]byte(stdout), &cred); err != nil || strings.Count(cred.Status.Token, ".") != 2 {
			return benchkit.Sample{}, fmt.Errorf("%s: stdout is not an ExecCredential with a token (%v): %.200q\nstderr:\n%s", bin, err, stdout, stderr)
		}
	}
	return sm, nil
}

// ratio is one target figure: ours over the peer's median.
type ratio struct {
	name          string
	ours, peer    float64
	unit          string
	target        float64
	value         float64
	oursN, peersN string
}

func newRatio(name, unit string, ours, peer, target float64, oursName, peerName string) ratio {
	return ratio{name: name, unit: unit, ours: ours, peer: peer, target: target, value: ours / peer, oursN: oursName, peersN: peerName}
}

func report(kind string, tools []tool, samples [][]benchkit.Sample, ratios *[]ratio) {
	fmt.Printf("## Store: %s\n\n", kind)
	fmt.Println("| tool | median ms | p90 ms | median peak RSS MiB |")
	fmt.Println("|---|---:|---:|---:|")
	med := map[string]float64{}
	rss := map[string]float64{}
	for i, tl := range tools {
		walls, rsses := benchkit.Split(samples[i])
		med[tl.name], rss[tl.name] = benchkit.Percentile(walls, 50), benchkit.Percentile(rsses, 50)
		fmt.Printf("| %s | %.1f | %.1f | %.1f |\n", tl.name, med[tl.name], benchkit.Percentile(walls, 90), rss[tl.name])
	}
	fmt.Println()
	ours, kl, truth := tools[0].name, tools[1].name, tools[2].name
	fmt.Printf("- above the /bin/true floor: securekapi %.1f ms, kubelogin %.1f ms\n", med[ours]-med[truth], med[kl]-med[truth])
	fmt.Printf("- the full CLI answering the same call: %.2f of the small program's time\n", med[tools[3].name]/med[ours])
	for _, tl := range tools[4:] {
		fmt.Printf("- %s: %.2f of kubelogin's time", tl.name, med[tl.name]/med[kl])
		if kind == "file" && tl.token && tl.name != gkeName {
			fmt.Printf(", %.2f of gke-gcloud-auth-plugin's, %.2f of the Go hello-world's", med[tl.name]/med[gkeName], med[tl.name]/med[floorName(helloWorldFloorPkg)])
		}
		fmt.Println()
	}
	fmt.Println()
	switch kind {
	case "file":
		*ratios = append(*ratios,
			newRatio("cached path vs kubelogin get-token (file)", "ms", med[ours], med[kl], kubeloginTarget, ours, kl),
			newRatio("cached path vs gke-gcloud-auth-plugin cached", "ms", med[ours], med[gkeName], gkeTarget, ours, gkeName),
			newRatio("cached path vs Go hello-world (same build)", "ms", med[ours], med[floorName(helloWorldFloorPkg)], floorTarget, ours, floorName(helloWorldFloorPkg)),
			newRatio("peak RSS vs kubelogin's (file)", "MiB", rss[ours], rss[kl], rssTarget, ours, kl))
	case "keyring":
		*ratios = append(*ratios,
			newRatio("keyring path vs kubelogin keyring path", "ms", med[ours], med[kl], keyringTarget, ours, kl),
			newRatio("peak RSS vs kubelogin's (keyring)", "MiB", rss[ours], rss[kl], rssTarget, ours, kl))
	}
}

// printTargets is the one table of every target figure of this run.
func printTargets(ratios []ratio) {
	fmt.Println("## Targets (issue #18), all from this run")
	fmt.Println()
	fmt.Println("| figure | ours | peer | ratio | target | met |")
	fmt.Println("|---|---:|---:|---:|---:|---|")
	for _, r := range ratios {
		fmt.Printf("| %s | %.1f %s | %.1f %s | **%.2f** | ≤ %.2f | %s |\n", r.name, r.ours, r.unit, r.peer, r.unit, r.value, r.target, benchkit.Verdict(r.value, r.target))
	}
	fmt.Println()
}

const gkeName = "gke-gcloud-auth-plugin (cached)"

// gkeCached is gke-gcloud-auth-plugin, from the Google Cloud SDK next to
// kubectl, answering from its cache file: a HOME of its own holds
// ~/.kube/gke_gcloud_auth_plugin_cache for the kubeconfig's current
// context, so it makes no network call (see /work/shared/E2E-NOTES.md).
func gkeCached(dir string) (tool, error) {
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		return tool{}, err
	}
	if kubectl, err = filepath.EvalSymlinks(kubectl); err != nil {
		return tool{}, err
	}
	bin := filepath.Join(filepath.Dir(kubectl), "gke-gcloud-auth-plugin")
	if _, err := os.Stat(bin); err != nil {
		return tool{}, fmt.Errorf("gke-gcloud-auth-plugin, the peer: %w (it ships with the Google Cloud SDK beside kubectl)", err)
	}
	home := filepath.Join(dir, "gke-home")
	if err := os.MkdirAll(filepath.Join(home, ".kube"), 0o700); err != nil {
		return tool{}, err
	}
	cache := fmt.Sprintf(`{"current_context":"gke","access_token":"ya29.bench.token","token_expiry":%q}`,
		time.Now().Add(24*time.Hour).UTC().Format(time.RFC3339))
	kubeconfig := `apiVersion: v1
kind: Config
current-context: gke
contexts:
- name: gke
  context: {cluster: gke, user: gke}
clusters:
- name: gke
  cluster: {server: "https://127.0.0.1:1"}
users:
- name: gke
  user: {}
`
	if err := os.WriteFile(filepath.Join(home, ".kube", "gke_gcloud_auth_plugin_cache"), []byte(cache), 0o600); err != nil {
		return tool{}, err
	}
	if err := os.WriteFile(filepath.Join(home, ".kube", "config"), []byte(kubeconfig), 0o600); err != nil {
		return tool{}, err
	}
	env := []string{"HOME=" + home, "KUBECONFIG=" + filepath.Join(home, ".kube", "config"), "PATH=" + os.Getenv("PATH"),
		`KUBERNETES_EXEC_INFO={"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1beta1","spec":{"interactive":false}}`}
	return tool{name: gkeName, bin: bin, env: env, token: true}, nil
}

// kubectlGetNS times `kubectl get ns` through the exec stanza `use` wrote
// (the small program, file store, cached token) against the same kubectl,
// kubeconfig cluster and endpoint with a static bearer token.
func kubectlGetNS(ctx context.Context, se *stack.Session, s *stack.Stack, dir string, n, warmup int) (ratio, error) {
	if r := se.Securekapi(ctx, "use", "e2e", "--token-cache", "file"); r.Err != nil {
		return ratio{}, fmt.Errorf("use e2e --token-cache file: %v\n%s", r.Err, r.Stderr)
	}
	env := se.Environ()
	own := filepath.Join(se.Dir, "kubeconfig")
	static := filepath.Join(dir, "kubeconfig-static-token")
	data, err := os.ReadFile(own)
	if err != nil {
		return ratio{}, err
	}
	if err := os.WriteFile(static, data, 0o600); err != nil {
		return ratio{}, err
	}
	cluster := se.Kubectl(ctx, "config", "view", "--minify", "-o", "jsonpath={.contexts[0].context.cluster}")
	if cluster.Err != nil || cluster.Stdout == "" {
		return ratio{}, fmt.Errorf("current cluster: %v %s", cluster.Err, cluster.Stderr)
	}
	for _, args := range [][]string{
		{"config", "set-credentials", "static", "--token=" + s.AdminToken},
		{"config", "set-context", "static", "--cluster=" + cluster.Stdout, "--user=static"},
		{"config", "use-context", "static"},
	} {
		if r := se.Kubectl(ctx, append([]string{"--kubeconfig=" + static}, args...)...); r.Err != nil {
			return ratio{}, fmt.Errorf("kubectl %v: %v\n%s", args[:2], r.Err, r.Stderr)
		}
	}
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		return ratio{}, err
	}
	tools := []tool{
		{name: "kubectl get ns, exec stanza (kubectl-securekapi, file store)", bin: kubectl, args: []string{"--kubeconfig=" + own, "get", "ns"}, env: env},
		{name: "kubectl get ns, static token", bin: kubectl, args: []string{"--kubeconfig=" + static, "get", "ns"}, env: env},
	}
	logins := se.BrowserLogins()
	samples, err := measure(ctx, tools, n, warmup)
	if err != nil {
		return ratio{}, err
	}
	if se.BrowserLogins() != logins {
		return ratio{}, errors.New("kubectl get ns: a browser login happened during the timed runs")
	}
	fmt.Printf("## kubectl get ns through the endpoint (%s)\n\n", benchkit.FirstLine(ctx, kubectl, "version", "--client"))
	fmt.Println("| run | median ms | p90 ms |")
	fmt.Println("|---|---:|---:|")
	med := make([]float64, 2)
	for i, tl := range tools {
		walls, _ := benchkit.Split(samples[i])
		med[i] = benchkit.Percentile(walls, 50)
		fmt.Printf("| %s | %.1f | %.1f |\n", tl.name, med[i], benchkit.Percentile(walls, 90))
	}
	fmt.Println()
	return newRatio("kubectl get ns via our exec stanza vs static token", "ms", med[0], med[1], kubectlTarget, tools[0].name, tools[1].name), nil
}

// floor is a stand-in binary that does no work: it only starts, runs the
// package init of what it links, and exits. Its time is a lower bound for
// any program that links the same packages.
type floor struct{ name, bin string }

// buildFloors builds the stand-ins in ./floor the way the Makefile builds
// the plugin (static, stripped, -trimpath), from this module, whose
// go.mod pins the same library versions as the plugin's.
func buildFloors(ctx context.Context, dir string) ([]floor, error) {
	var out []floor
	for _, f := range []struct{ pkg, name string }{
		{helloWorldFloorPkg, floorName(helloWorldFloorPkg)},
		{"libraries", "stand-in: securekapi's libraries, no k8s.io"},
		{"libraries-k8s", "stand-in: + clientcmd, clientauthentication"},
	} {
		bin := filepath.Join(dir, "floor-"+f.pkg)
		cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags", "-s -w", "-o", bin,
			"github.com/securekapi/securekapi/test/e2e/cmd/bench-credential/floor/"+f.pkg)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("build the %s stand-in: %v\n%s", f.pkg, err, out)
		}
		out = append(out, floor{name: f.name, bin: bin})
	}
	return out, nil
}

func floorName(pkg string) string {
	if pkg == helloWorldFloorPkg {
		return "Go hello-world (floor): writes {} and exits"
	}
	return pkg
}

// builds are the -also flags: NAME=PATH each.
type builds []string

func (b *builds) String() string     { return strings.Join(*b, ",") }
func (b *builds) Set(v string) error { *b = append(*b, v); return nil }

// otherBuild is another build of the small program, set up in its own
// session by its own full CLI: a cluster added, `use` with the file store,
// one login, approved.
type otherBuild struct {
	name   string
	se     *stack.Session
	args   []string // credential and the exec args its `use` wrote
	logins int
}

func setUpBuilds(ctx context.Context, s *stack.Stack, dir string, also builds) ([]otherBuild, error) {
	var out []otherBuild
	for i, b := range also {
		name, path, ok := strings.Cut(b, "=")
		if !ok || name == "" || path == "" {
			return nil, fmt.Errorf("-also %q: want NAME=PATH", b)
		}
		sdir := filepath.Join(dir, fmt.Sprintf("also-%d", i))
		if err := os.Mkdir(sdir, 0o700); err != nil {
			return nil, err
		}
		se, err := s.NewSession(sdir, path, stack.Reader)
		if err != nil {
			return nil, fmt.Errorf("-also %s: %w", name, err)
		}
		if err := se.AddCluster(ctx, "e2e"); err != nil {
			return nil, fmt.Errorf("-also %s: %w", name, err)
		}
		if r := se.Securekapi(ctx, "use", "e2e", "--token-cache", "file"); r.Err != nil {
			return nil, fmt.Errorf("-also %s: use e2e: %v\n%s", name, r.Err, r.Stderr)
		}
		if r := se.Securekapi(ctx, "login", "e2e", "--approve", "--token-cache", "file", "--browser-command", se.BrowserCommand()); r.Err != nil {
			return nil, fmt.Errorf("-also %s: login: %v\n%s", name, r.Err, r.Stderr)
		}
		args, err := execArgs(ctx, se)
		if err != nil {
			return nil, fmt.Errorf("-also %s: %w", name, err)
		}
		out = append(out, otherBuild{name: fmt.Sprintf("securekapi credential (small program, %s)", name), se: se,
			args: append([]string{"credential"}, args...), logins: se.BrowserLogins()})
	}
	return out, nil
}

// execArgs are the args after "credential" in the exec stanza `use` wrote.
func execArgs(ctx context.Context, se *stack.Session) ([]string, error) {
	r := se.Kubectl(ctx, "config", "view", "-o", `jsonpath={.users[?(@.name=="securekapi-e2e")].user.exec.args}`)
	var args []string
	if err := json.Unmarshal([]byte(r.Stdout), &args); err != nil || len(args) < 2 || args[0] != "credential" {
		return nil, fmt.Errorf("exec args of user securekapi-e2e: %v %q %s", err, r.Stdout, r.Stderr)
	}
	return args[1:], nil
}

func hasPair(args []string, k, v string) bool {
	for i := 0; i+1 < len(args); i++ {
		if args[i] == k && args[i+1] == v {
			return true
		}
	}
	return false
}

// countTokenFiles counts files under dir that hold an ID token.
func countTokenFiles(dir string) int {
	n := 0
	_ = filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if data, err := os.ReadFile(path); err == nil && strings.Contains(string(data), "id_token") {
				n++
			}
		}
		return nil
	})
	return n
}

func printMachine(ctx context.Context, se *stack.Session, kubelogin string) {
	benchkit.PrintMachine(ctx,
		fmt.Sprintf("securekapi: %s (%s)", benchkit.FirstLine(ctx, se.Plugin, "version"), se.Plugin),
		fmt.Sprintf("kubelogin: %s (%s)", benchkit.FirstLine(ctx, kubelogin, "version"), kubelogin))
}
