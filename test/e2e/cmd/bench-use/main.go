// Command bench-use times `kubectl securekapi use NAME` (a live TLS check of
// the trusted endpoint, then a locked, atomic kubeconfig rewrite) side by
// side with `kubectl config use-context NAME` on the same large kubeconfig:
// 2,000 clusters with embedded CA data, 2,000 token users and 2,000
// contexts, plus the securekapi clusters.
//
// The endpoint is the real stack's HAProxy. Two registered clusters, "e2e"
// and "e2e-b", point at it and two plain contexts are used for kubectl, so
// every run really switches; after each run the current context is checked.
// Run it under scripts/with-keyring.sh:
//
//	cd test/e2e && SECUREKAPI_BIN=... SECUREKAPI_TOOLS_BIN=... \
//	  ../../scripts/with-keyring.sh go run ./cmd/bench-use -n 15
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"k8s.io/client-go/tools/clientcmd"

	"github.com/securekapi/securekapi/test/e2e/stack"
)

func main() {
	n := flag.Int("n", 15, "timed runs per tool (at least 15)")
	warmup := flag.Int("warmup", 3, "untimed warm-up runs per tool before timing")
	contexts := flag.Int("contexts", 2000, "plain contexts (each with its own cluster and user) in the kubeconfig")
	flag.Parse()
	if *n < 15 {
		fmt.Fprintf(os.Stderr, "bench-use: -n %d: the benchmark needs at least 15 runs per tool\n", *n)
		os.Exit(2)
	}
	if err := run(*n, *warmup, *contexts); err != nil {
		fmt.Fprintf(os.Stderr, "bench-use FAILED: %v\n", err)
		os.Exit(1)
	}
}

const timeTarget = 1.0 // securekapi use median / kubectl config use-context median

// gnuTime reports a child's peak RSS. Go's own rusage for a child is
// useless: children are started with clone(CLONE_VM|CLONE_VFORK), and Linux
// charges the parent's resident set at exec time to the child's peak.
const gnuTime = "/usr/bin/time"

type sample struct {
	wall   time.Duration
	maxRSS int64 // KiB
}

type runner struct {
	env []string
	dir string
}

// once runs bin under GNU time and returns its wall time and peak RSS.
func (r runner) once(ctx context.Context, bin string, args ...string) (sample, string, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	rssFile := filepath.Join(r.dir, "rss")
	cmd := exec.CommandContext(ctx, gnuTime, append([]string{"-f", "%M", "-o", rssFile, bin}, args...)...)
	cmd.Env = r.env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	if err != nil {
		return sample{}, "", fmt.Errorf("%s %s: %v\n%s%s", bin, strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	out, err := os.ReadFile(rssFile)
	if err != nil {
		return sample{}, "", err
	}
	fields := strings.Fields(string(out))
	if len(fields) == 0 {
		return sample{}, "", fmt.Errorf("%s reported no peak RSS", gnuTime)
	}
	kib, err := strconv.ParseInt(fields[len(fields)-1], 10, 64)
	if err != nil {
		return sample{}, "", fmt.Errorf("peak RSS %q: %v", out, err)
	}
	return sample{wall: wall, maxRSS: kib}, stderr.String(), nil
}

func run(n, warmup, contexts int) error {
	if _, err := os.Stat(gnuTime); err != nil {
		return fmt.Errorf("%s (GNU time, for peak RSS): %w; apt-get install -y time", gnuTime, err)
	}
	ctx := context.Background()
	startCtx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	s, err := stack.Start(startCtx, stack.Options{Progress: os.Stderr})
	cancel()
	if err != nil {
		return err
	}
	pids := s.Pids()
	defer func() {
		s.Stop()
		for name, pid := range pids {
			if stack.Alive(pid) {
				fmt.Fprintf(os.Stderr, "bench-use: %s (pid %d) outlived the stack\n", name, pid)
			}
		}
	}()
	dir, err := os.MkdirTemp("", "securekapi-bench-use-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	se, err := s.NewSession(dir, "", stack.Reader)
	if err != nil {
		return err
	}
	kubeconfig := filepath.Join(dir, "kubeconfig")
	genStart := time.Now()
	caOf, err := writeBigKubeconfig(kubeconfig, contexts)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "bench-use: wrote %d contexts in %s\n", contexts, time.Since(genStart).Round(time.Millisecond))
	for _, name := range []string{"e2e", "e2e-b"} {
		if err := se.AddCluster(ctx, name); err != nil {
			return err
		}
		if r := se.Securekapi(ctx, "use", name); r.Err != nil {
			return fmt.Errorf("use %s: %v\n%s", name, r.Err, r.Stderr)
		}
	}
	st, err := os.Stat(kubeconfig)
	if err != nil {
		return err
	}

	fmt.Println("# Switching context: securekapi use vs kubectl config use-context")
	fmt.Println()
	printMachine(ctx, se)
	fmt.Printf("Kubeconfig: %d contexts, %d clusters with embedded CA data (RSA-2048 certificates), %d token users, plus 2 securekapi clusters: %.1f MiB.\n",
		contexts, contexts, contexts, float64(st.Size())/(1<<20))
	fmt.Printf("Runs: %d timed per tool, interleaved (securekapi, kubectl, ...), after %d warm-up runs each; every run switches, and the current context is checked after it.\n\n", n, warmup)

	r := runner{env: se.Environ(), dir: dir}
	var ska, kc []sample
	for i := 0; i < warmup+n; i++ {
		target := []string{"e2e", "e2e-b"}[i%2]
		sm, stderr, err := r.once(ctx, se.Plugin, "use", target)
		if err != nil {
			return fmt.Errorf("securekapi run %d: %w", i+1, err)
		}
		if err := expectCurrent(kubeconfig, target); err != nil {
			return fmt.Errorf("securekapi use %s: %w\n%s", target, err, stderr)
		}
		if i >= warmup {
			ska = append(ska, sm)
		}
		plain := fmt.Sprintf("ctx-%d", 1+i%2)
		sm, stderr, err = r.once(ctx, "kubectl", "config", "use-context", plain)
		if err != nil {
			return fmt.Errorf("kubectl run %d: %w", i+1, err)
		}
		if err := expectCurrent(kubeconfig, plain); err != nil {
			return fmt.Errorf("kubectl config use-context %s: %w\n%s", plain, err, stderr)
		}
		if i >= warmup {
			kc = append(kc, sm)
		}
	}
	if err := checkIntact(kubeconfig, contexts, caOf); err != nil {
		return fmt.Errorf("after the runs: %w", err)
	}

	fmt.Println("| tool | median ms | p90 ms | median peak RSS MiB |")
	fmt.Println("|---|---:|---:|---:|")
	sw, srss := split(ska)
	kw, krss := split(kc)
	fmt.Printf("| kubectl-securekapi use e2e / e2e-b (live endpoint check) | %.1f | %.1f | %.1f |\n", percentile(sw, 50), percentile(sw, 90), percentile(srss, 50))
	fmt.Printf("| kubectl config use-context ctx-1 / ctx-2 | %.1f | %.1f | %.1f |\n", percentile(kw, 50), percentile(kw, 90), percentile(krss, 50))
	fmt.Println()
	tr := percentile(sw, 50) / percentile(kw, 50)
	fmt.Printf("- time ratio securekapi/kubectl (median): **%.2f** (target ≤ %.1f: %s)\n", tr, timeTarget, verdict(tr, timeTarget))
	fmt.Printf("- peak RSS ratio securekapi/kubectl (median): %.2f (informative)\n", percentile(srss, 50)/percentile(krss, 50))
	fmt.Println("- the kubeconfig still holds every context, cluster and user, CA data unchanged")
	fmt.Println()

	// Plugin dispatch: what `kubectl securekapi ...` adds over running the
	// plugin binary directly (kubectl starts, finds the plugin on PATH,
	// execs it). Informative; the numbers above call the binary directly.
	var viaKubectl, direct []sample
	for i := 0; i < 2+5; i++ {
		a, _, err := r.once(ctx, "kubectl", "securekapi", "version")
		if err != nil {
			return err
		}
		b, _, err := r.once(ctx, se.Plugin, "version")
		if err != nil {
			return err
		}
		if i >= 2 {
			viaKubectl, direct = append(viaKubectl, a), append(direct, b)
		}
	}
	vw, _ := split(viaKubectl)
	dw, _ := split(direct)
	fmt.Printf("Plugin dispatch (informative, median of 5): `kubectl securekapi version` %.1f ms vs `kubectl-securekapi version` %.1f ms: kubectl adds %.1f ms per call.\n\n",
		percentile(vw, 50), percentile(dw, 50), percentile(vw, 50)-percentile(dw, 50))
	return nil
}

var currentRe = regexp.MustCompile(`(?m)^current-context: "?([^"\s]+)"?\s*$`)

// expectCurrent reads the top-level current-context line.
func expectCurrent(path, want string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	m := currentRe.FindSubmatch(data)
	if m == nil {
		return errors.New("no top-level current-context in the kubeconfig")
	}
	if got := string(m[1]); got != want {
		return fmt.Errorf("current-context is %q, want %q", got, want)
	}
	return nil
}

// checkIntact loads the kubeconfig the way kubectl does and checks that no
// entry was lost or altered by the rewrites.
func checkIntact(path string, contexts int, caOf func(int) []byte) error {
	cfg, err := clientcmd.LoadFromFile(path)
	if err != nil {
		return err
	}
	if len(cfg.Contexts) != contexts+2 || len(cfg.Clusters) != contexts+2 || len(cfg.AuthInfos) != contexts+2 {
		return fmt.Errorf("kubeconfig has %d contexts, %d clusters, %d users; want %d of each", len(cfg.Contexts), len(cfg.Clusters), len(cfg.AuthInfos), contexts+2)
	}
	for _, i := range []int{0, 1, contexts / 2, contexts - 1} {
		c := cfg.Clusters[fmt.Sprintf("cluster-%d", i)]
		if c == nil || !bytes.Equal(c.CertificateAuthorityData, caOf(i)) {
			return fmt.Errorf("cluster-%d lost or changed its CA data", i)
		}
		if u := cfg.AuthInfos[fmt.Sprintf("user-%d", i)]; u == nil || u.Token == "" {
			return fmt.Errorf("user-%d lost its token", i)
		}
	}
	return nil
}

// writeBigKubeconfig writes contexts plain contexts, each with its own
// cluster (a distinct RSA-2048 CA certificate, as kubeadm clusters have)
// and a token user (a service-account-sized JWT). It returns the CA PEM of
// cluster i, for the integrity check.
func writeBigKubeconfig(path string, contexts int) (func(int) []byte, error) {
	// One key signs every certificate: generating 2,000 RSA keys would take
	// minutes and changes nothing about the file's size or shape.
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	cas := make([][]byte, contexts)
	var b strings.Builder
	b.Grow(contexts * 3200)
	b.WriteString("apiVersion: v1\nkind: Config\npreferences: {}\ncurrent-context: ctx-0\nclusters:\n")
	for i := 0; i < contexts; i++ {
		tmpl := &x509.Certificate{
			SerialNumber:          big.NewInt(int64(i) + 1),
			Subject:               pkix.Name{CommonName: "kubernetes", OrganizationalUnit: []string{fmt.Sprintf("cluster-%d", i)}},
			NotBefore:             time.Now().Add(-time.Hour),
			NotAfter:              time.Now().Add(10 * 365 * 24 * time.Hour),
			KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
			BasicConstraintsValid: true,
			IsCA:                  true,
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
		if err != nil {
			return nil, err
		}
		cas[i] = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
		fmt.Fprintf(&b, "- name: cluster-%d\n  cluster:\n    server: https://api.cluster-%d.k8s.example.com:6443\n    certificate-authority-data: %s\n",
			i, i, base64.StdEncoding.EncodeToString(cas[i]))
	}
	b.WriteString("users:\n")
	for i := 0; i < contexts; i++ {
		fmt.Fprintf(&b, "- name: user-%d\n  user:\n    token: %s\n", i, fakeJWT(i))
	}
	b.WriteString("contexts:\n")
	for i := 0; i < contexts; i++ {
		fmt.Fprintf(&b, "- name: ctx-%d\n  context:\n    cluster: cluster-%d\n    user: user-%d\n    namespace: team-%d\n", i, i, i, i%50)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		return nil, err
	}
	return func(i int) []byte { return cas[i] }, nil
}

// fakeJWT is shaped like a service account token (header.claims.RS256
// signature, about 900 characters); nothing verifies it.
func fakeJWT(i int) string {
	enc := base64.RawURLEncoding
	header := enc.EncodeToString([]byte(`{"alg":"RS256","kid":"bench-key-0001"}`))
	claims := enc.EncodeToString([]byte(fmt.Sprintf(`{"aud":["https://kubernetes.default.svc"],"exp":4102444800,"iat":1700000000,"iss":"https://kubernetes.default.svc","kubernetes.io":{"namespace":"team-%d","serviceaccount":{"name":"deployer-%d","uid":"%08x-0000-4000-8000-000000000000"}},"nbf":1700000000,"sub":"system:serviceaccount:team-%d:deployer-%d"}`, i%50, i, i, i%50, i)))
	sig := make([]byte, 256)
	_, _ = rand.Read(sig)
	return header + "." + claims + "." + enc.EncodeToString(sig)
}

func verdict(got, target float64) string {
	if got <= target {
		return "met"
	}
	return fmt.Sprintf("MISSED by %.0f%%", (got/target-1)*100)
}

func split(ss []sample) (walls, rss []float64) {
	for _, s := range ss {
		walls = append(walls, float64(s.wall.Microseconds())/1000)
		rss = append(rss, float64(s.maxRSS)/1024)
	}
	return walls, rss
}

// percentile is the nearest-rank percentile (the median of an even count
// is the mean of the middle two).
func percentile(xs []float64, p int) float64 {
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

func printMachine(ctx context.Context, se *stack.Session) {
	cpu := "unknown"
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				cpu = strings.TrimSpace(v)
				break
			}
		}
	}
	kernel, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	goVersion := runtime.Version()
	if out, err := exec.CommandContext(ctx, "go", "version").Output(); err == nil {
		goVersion = strings.TrimSpace(string(out))
	}
	first := func(r stack.Result) string {
		line, _, _ := strings.Cut(strings.TrimSpace(r.Stdout+r.Stderr), "\n")
		return line
	}
	kubectl, _ := exec.LookPath("kubectl")
	fmt.Println("Machine:")
	fmt.Printf("- nproc: %d\n", runtime.NumCPU())
	fmt.Printf("- CPU: %s\n", cpu)
	fmt.Printf("- kernel: %s %s\n", runtime.GOOS, strings.TrimSpace(string(kernel)))
	fmt.Printf("- go: %s\n", goVersion)
	fmt.Printf("- securekapi: %s (%s)\n", first(se.Securekapi(ctx, "version")), se.Plugin)
	fmt.Printf("- kubectl: %s (%s)\n", first(se.Kubectl(ctx, "version", "--client")), kubectl)
	fmt.Println()
}
