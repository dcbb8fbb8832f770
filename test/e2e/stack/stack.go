// Package stack starts and stops the real servers securekapi is tested
// against: etcd, kube-apiserver 1.37 (its own random CA, RBAC, and OIDC from
// the AuthenticationConfiguration `expose authn-config` writes), Dex as the
// OIDC provider, and HAProxy as the trusted secondary endpoint that presents
// an "enterprise" CA certificate and re-encrypts to kube-apiserver while
// verifying the cluster CA. Beside them runs CIIssuer, the in-process
// stand-in for a CI provider's token service (GitHub Actions), the one part
// that cannot be the real thing here.
//
// Every process is tracked by pid and stopped by that pid; ports are free
// ones chosen at start; all files live under one directory. The e2e tests
// and the demo share it.
package stack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"time"
)

// EndpointServerName is the DNS name on the secondary endpoint's certificate.
// Clients reach it on 127.0.0.1 and verify this name via tls-server-name.
const EndpointServerName = "kapi.example.test"

// User is a static Dex user.
type User struct {
	ID       string // Dex's userID, which its API names users by
	Email    string
	Password string
	Groups   []string
}

// The users and groups RBAC is written for: readers may read, outsiders
// are authenticated but allowed nothing.
var (
	Reader   = User{ID: "user-0", Email: "alice@example.test", Password: "alice-password", Groups: []string{"readers"}}
	Outsider = User{ID: "user-1", Email: "bob@example.test", Password: "bob-password", Groups: []string{"outsiders"}}
)

// ReaderGroup is the API server's name for the readers group (with the
// groups prefix of the authentication configuration).
const ReaderGroup = "oidc:readers"

// ServiceAccountIssuer is kube-apiserver's --service-account-issuer.
const ServiceAccountIssuer = "https://kubernetes.default.svc"

// Options configure Start. The zero value works when SECUREKAPI_TOOLS_BIN
// points at the tools cache (tools/build.sh prints it).
type Options struct {
	// ToolsBin holds kube-apiserver, dex, hydra and kubectl 1.37; default $SECUREKAPI_TOOLS_BIN.
	ToolsBin string
	// Dir holds every file; default a new temp dir removed by Stop.
	Dir string
	// IDTokenExpiry is Dex's ID token lifetime; default 10m.
	IDTokenExpiry time.Duration
	// Progress receives one line per step; default discard.
	Progress io.Writer
	// AuthnConfigVersion is the file version kube-apiserver's
	// authentication configuration is written in: v1 (default) or v1beta1.
	AuthnConfigVersion string
}

// Stack is a running set of servers.
type Stack struct {
	Dir string

	// The secondary endpoint (HAProxy), what third parties use.
	EndpointURL      string
	EnterpriseCA     *CA
	EnterpriseCAFile string

	// kube-apiserver itself, with its random cluster CA.
	APIServerURL string
	// AuthnConfigFile is the AuthenticationConfiguration kube-apiserver
	// runs with, written by `securekapi expose authn-config`.
	AuthnConfigFile    string
	authnConfigVersion string
	ClusterCAPEM       []byte
	ClusterCAFile      string
	AdminToken         string // static token in system:masters, for setup only

	// Dex.
	IssuerURL   string
	ClientID    string
	DexCA       *CA
	DexCAFile   string
	DexGRPCAddr string
	IDTokenTTL  time.Duration

	// CI is the CI provider's stand-in (see CIIssuer), started before Dex
	// and kube-apiserver so both can be pointed at it.
	CI *CIIssuer

	// Hydra is the real OAuth2 server the client credentials grant is
	// tested against; kube-apiserver trusts its JWT access tokens.
	Hydra *Hydra

	haproxyCfg   string
	etcdURL      string
	ownsDir      bool
	progress     io.Writer
	toolsBin     string
	procs        map[string]*process
	startedOrder []string
}

// ClientID of the public OIDC client registered in Dex.
const ClientID = "securekapi"

// Start brings the whole stack up and returns when the API server answers
// through the secondary endpoint. On error everything started is stopped.
func Start(ctx context.Context, o Options) (_ *Stack, err error) {
	s := &Stack{procs: map[string]*process{}, progress: o.Progress, ClientID: ClientID, IDTokenTTL: o.IDTokenExpiry, authnConfigVersion: o.AuthnConfigVersion}
	if s.authnConfigVersion == "" {
		s.authnConfigVersion = "v1"
	}
	if s.progress == nil {
		s.progress = io.Discard
	}
	if s.IDTokenTTL == 0 {
		s.IDTokenTTL = 10 * time.Minute
	}
	if s.toolsBin, err = toolsBin(o.ToolsBin); err != nil {
		return nil, err
	}
	if err := requireBinaries(s.toolsBin); err != nil {
		return nil, err
	}
	if s.Dir = o.Dir; s.Dir == "" {
		if s.Dir, err = os.MkdirTemp("", "securekapi-stack-"); err != nil {
			return nil, err
		}
		s.ownsDir = true
	}
	defer func() {
		if err != nil {
			s.Stop()
		}
	}()
	steps := []struct {
		name string
		run  func(context.Context) error
	}{
		{"certificates", s.writeCertificates},
		{"ci-issuer", s.startCIIssuer},
		{"hydra", s.startHydra},
		{"etcd", s.startEtcd},
		{"dex", s.startDex},
		{"kube-apiserver", s.startAPIServer},
		{"rbac", s.applyRBAC},
		{"haproxy", s.startHAProxy},
	}
	for _, step := range steps {
		start := time.Now()
		if err := step.run(ctx); err != nil {
			return nil, fmt.Errorf("stack: %s: %w", step.name, err)
		}
		fmt.Fprintf(s.progress, "stack: %s ready (%s)\n", step.name, time.Since(start).Round(100*time.Millisecond))
	}
	return s, nil
}

// Stop ends every process by its pid, newest first, and removes the
// directory if Start created it. It is safe to call more than once.
func (s *Stack) Stop() {
	for i := len(s.startedOrder) - 1; i >= 0; i-- {
		if p := s.procs[s.startedOrder[i]]; p != nil {
			p.stop(10 * time.Second)
		}
	}
	if s.CI != nil {
		_ = s.CI.Close()
	}
	if s.ownsDir && s.Dir != "" {
		_ = os.RemoveAll(s.Dir)
	}
}

// Pids lists the pid of every process the stack started, alive or not.
func (s *Stack) Pids() map[string]int {
	out := map[string]int{}
	for name, p := range s.procs {
		out[name] = p.Pid()
	}
	return out
}

// Components names the processes in start order.
func (s *Stack) Components() []string {
	names := append([]string(nil), s.startedOrder...)
	sort.Strings(names)
	return names
}

// StopComponent stops one process ("dex", "haproxy", ...) to test outages.
func (s *Stack) StopComponent(name string) error {
	p := s.procs[name]
	if p == nil {
		return fmt.Errorf("no component %q", name)
	}
	p.stop(10 * time.Second)
	return nil
}

// RestartComponent starts a stopped component again on the same port.
func (s *Stack) RestartComponent(ctx context.Context, name string) error {
	if p := s.procs[name]; p != nil && !p.exited() {
		return fmt.Errorf("%s is still running", name)
	}
	switch name {
	case "dex":
		return s.runDex(ctx)
	case "haproxy":
		return s.runHAProxy(ctx)
	default:
		return fmt.Errorf("restarting %s is not supported", name)
	}
}

func (s *Stack) startCIIssuer(context.Context) (err error) {
	s.CI, err = StartCIIssuer(CIIssuerOptions{Dir: s.Dir})
	return err
}

func (s *Stack) track(p *process) {
	if _, seen := s.procs[p.name]; !seen {
		s.startedOrder = append(s.startedOrder, p.name)
	}
	s.procs[p.name] = p
}

func (s *Stack) path(name string) string { return filepath.Join(s.Dir, name) }

// ToolsKubectl is kubectl at the stack's kube-apiserver version (1.37),
// built by tools/build.sh from the same k8s.io/kubernetes module: the
// clients beside the SDK's kubectl (kubectl.1.27 to kubectl.1.33) predate
// kuberc's credential-plugin allowlist (1.35), which this one enforces.
func (s *Stack) ToolsKubectl() string { return filepath.Join(s.toolsBin, "kubectl") }

func toolsBin(dir string) (string, error) {
	if dir == "" {
		dir = os.Getenv("SECUREKAPI_TOOLS_BIN")
	}
	if dir == "" {
		return "", errors.New("set SECUREKAPI_TOOLS_BIN to the directory tools/build.sh prints (run `make tools`)")
	}
	return dir, nil
}

// requireBinaries fails loudly, naming the fix, when a component is missing:
// e2e tests must never pass by skipping the real servers.
func requireBinaries(tools string) error {
	var missing []string
	for _, b := range []string{filepath.Join(tools, "kube-apiserver"), filepath.Join(tools, "dex"), filepath.Join(tools, "hydra"), filepath.Join(tools, "kubectl")} {
		if _, err := os.Stat(b); err != nil {
			missing = append(missing, b+" (run tools/build.sh)")
		}
	}
	for _, b := range []string{"etcd", "haproxy", "kubectl"} {
		if _, err := exec.LookPath(b); err != nil {
			missing = append(missing, b+" (apt-get install -y etcd-server haproxy; kubectl must be on PATH)")
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("stack components missing: %v", missing)
	}
	return nil
}

// LogTail is the end of a component's log, for test failure messages.
func (s *Stack) LogTail(component string) string {
	if p := s.procs[component]; p != nil {
		return p.tail()
	}
	return ""
}
