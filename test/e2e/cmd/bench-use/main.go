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
	"strings"
	"time"

	"k8s.io/client-go/tools/clientcmd"

	"github.com/securekapi/securekapi/test/e2e/benchkit"
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

type runner struct {
	env []string
}

// once runs bin under GNU time and returns its wall time, peak RSS and
// stderr.
func (r runner) once(ctx context.Context, bin string, args ...string) (benchkit.Sample, string, error) {
	sm, _, stderr, err := benchkit.Measure(ctx, r.env, bin, args...)
	return sm, stderr, err
}

func run(n, warmup, contexts int) error {
	if err := benchkit.RequireGNUTime(); err != nil {
		return err
	}
	ctx := context.Background()
	br, err := benchkit.StartRun(ctx, "bench-use", stack.Options{})
	if err != nil {
		return err
	}
	defer br.Stop()
	se, dir := br.Session, br.Dir
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

	r := runner{env: se.Environ()}
	var ska, kc []benchkit.Sample
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
	sw, srss := benchkit.Split(ska)
	kw, krss := benchkit.Split(kc)
	fmt.Printf("| kubectl-securekapi use e2e / e2e-b (live endpoint check) | %.1f | %.1f | %.1f |\n", benchkit.Percentile(sw, 50), benchkit.Percentile(sw, 90), benchkit.Percentile(srss, 50))
	fmt.Printf("| kubectl config use-context ctx-1 / ctx-2 | %.1f | %.1f | %.1f |\n", benchkit.Percentile(kw, 50), benchkit.Percentile(kw, 90), benchkit.Percentile(krss, 50))
	fmt.Println()
	tr := benchkit.Percentile(sw, 50) / benchkit.Percentile(kw, 50)
	fmt.Printf("- time ratio securekapi/kubectl (median): **%.2f** (target ≤ %.1f: %s)\n", tr, timeTarget, benchkit.Verdict(tr, timeTarget))
	fmt.Printf("- peak RSS ratio securekapi/kubectl (median): %.2f (informative)\n", benchkit.Percentile(srss, 50)/benchkit.Percentile(krss, 50))
	fmt.Println("- the kubeconfig still holds every context, cluster and user, CA data unchanged")
	fmt.Println()

	// Plugin dispatch: what `kubectl securekapi ...` adds over running the
	// plugin binary directly (kubectl starts, finds the plugin on PATH,
	// execs it). Informative; the numbers above call the binary directly.
	var viaKubectl, direct []benchkit.Sample
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
	vw, _ := benchkit.Split(viaKubectl)
	dw, _ := benchkit.Split(direct)
	fmt.Printf("Plugin dispatch (informative, median of 5): `kubectl securekapi version` %.1f ms vs `kubectl-securekapi version` %.1f ms: kubectl adds %.1f ms per call.\n\n",
		benchkit.Percentile(vw, 50), benchkit.Percentile(dw, 50), benchkit.Percentile(vw, 50)-benchkit.Percentile(dw, 50))
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

func printMachine(ctx context.Context, se *stack.Session) {
	kubectl, _ := exec.LookPath("kubectl")
	benchkit.PrintMachine(ctx,
		fmt.Sprintf("securekapi: %s (%s)", benchkit.FirstLine(ctx, se.Plugin, "version"), se.Plugin),
		fmt.Sprintf("kubectl: %s (%s)", benchkit.FirstLine(ctx, "kubectl", "version", "--client"), kubectl))
}
