package localproxy

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/securekapi/securekapi/pkg/hostport"
	"github.com/securekapi/securekapi/pkg/trust/pinning"
)

// Mode says what the gateway does with a mutual-TLS connection.
type Mode string

const (
	// ModeConnect: the gateway is a forward proxy that accepts client
	// certificates (for example Squid's https_port); inside the mTLS
	// connection the proxy asks it to CONNECT to the target.
	ModeConnect Mode = "connect"
	// ModeDirect: the gateway forwards every mTLS connection to one fixed
	// backend (stunnel style), so the connection itself is the tunnel.
	ModeDirect Mode = "direct"
)

// Check accepts the two modes; the message names both, for the caller
// to put after the setting's name ("--tunnel-mode ...", "tunnel.mode ...").
// It is the one check of a mode: the profile, `add` and Start use it.
func (m Mode) Check() error {
	switch m {
	case ModeConnect, ModeDirect:
		return nil
	}
	return fmt.Errorf("%q: must be %q (forward proxy such as Squid) or %q (stunnel-style fixed backend)", m, ModeConnect, ModeDirect)
}

// Gateway describes the mutual-TLS access gateway every tunnel goes through.
type Gateway struct {
	// Address is the gateway's host:port.
	Address string
	// ServerName is sent as SNI and is the name the gateway certificate must
	// be valid for; it defaults to the host part of Address.
	ServerName string
	// RootCAs verifies the gateway certificate; nil means the system roots.
	RootCAs *x509.CertPool
	// Pins are optional kubeadm-style "sha256:<hex SPKI>" pins (parsed by
	// pinning.ParsePins). When set, at least one certificate of the verified
	// chain must match one of them.
	Pins []pinning.Pin
	// Certificate is the client certificate presented to the gateway.
	Certificate tls.Certificate
	// Mode is ModeConnect or ModeDirect.
	Mode Mode
}

// Config configures a Proxy. Zero values mean the documented defaults.
type Config struct {
	// Listen must be a loopback address: 127.0.0.0/8, [::1] or localhost,
	// with a port (0 picks a free one). Empty means "127.0.0.1:0".
	Listen  string
	Gateway Gateway
	// AllowedTargets are the host:port values a CONNECT may ask for. The port
	// is required; hosts compare case-insensitively.
	AllowedTargets []string
	// Credential is the per-run secret kubectl must present as the password
	// of user "securekapi". Empty means Start generates a random one.
	Credential string
	// MaxTunnels bounds tunnels being set up or open; over it kubectl gets
	// 503. Default 1024.
	MaxTunnels int
	// MaxHeaderBytes bounds the CONNECT request header; over it kubectl gets
	// 431. Default 16 KiB.
	MaxHeaderBytes int
	// HeaderTimeout is how long a client may take to send its complete
	// request header, so slow clients cannot pin connections. Default 10s.
	HeaderTimeout time.Duration
	// DialTimeout bounds reaching the gateway: TCP (and corporate proxy),
	// the TLS handshake and the gateway's CONNECT answer. Default 15s.
	DialTimeout time.Duration
	// IdleTimeout closes a tunnel after neither direction moved a byte for
	// this long. Zero (the default) never closes idle tunnels, so long
	// kubectl watches survive.
	IdleTimeout time.Duration
	// AnswerLinger: after the client ended its side of a tunnel, the tunnel
	// closes once the answer has been silent this long. Default 10s.
	AnswerLinger time.Duration
	// Logger receives warnings and debug events; the credential is never
	// logged. Default: discard.
	Logger *slog.Logger
	// DialContext opens TCP connections to the gateway or corporate proxy.
	// Default: a net.Dialer.
	DialContext func(ctx context.Context, network, addr string) (net.Conn, error)
	// ProxyFunc picks the corporate proxy for the gateway address (given as
	// an https URL), or nil for a direct connection. Default: the
	// HTTPS_PROXY/NO_PROXY environment, as http.ProxyFromEnvironment.
	ProxyFunc func(*url.URL) (*url.URL, error)
}

const (
	proxyUser             = "securekapi"
	defaultListen         = "127.0.0.1:0"
	defaultMaxTunnels     = 1024
	defaultMaxHeaderBytes = 16 << 10
	defaultHeaderTimeout  = 10 * time.Second
	defaultDialTimeout    = 15 * time.Second
	// defaultAnswerLinger: the tunnel carries kubectl's TLS, and kubectl
	// never half-closes, so its EOF means it has gone (an HTTP/1.1
	// connection it dropped, a watch it stopped, a process that exited).
	// Passed on as a half-close, that EOF ends
	// nothing at a gateway or endpoint that keeps the response streaming
	// (stunnel in front of HAProxy did, in the e2e stack): a silent watch
	// would hold the gateway's connection,
	// and the API server's watch, until the API server ends it, up to an
	// hour later. A client that half-closes to read an answer still gets
	// all of it while it keeps coming.
	defaultAnswerLinger = 10 * time.Second
	credentialBytes     = 32
)

// settings is a validated Config with defaults applied and derived values
// computed once.
type settings struct {
	Config
	serverName string
	allowed    map[string]bool // normalized host:port
	// authDigest is sha256("securekapi:<credential>"): comparing digests keeps
	// the credential check constant-time even for wrong-length guesses.
	authDigest [sha256.Size]byte
	clientCert *x509.Certificate // parsed Gateway.Certificate leaf, for error hints
}

func newSettings(cfg Config) (*settings, error) {
	s := &settings{Config: cfg}
	if s.Listen == "" {
		s.Listen = defaultListen
	}
	if err := checkLoopbackListen(s.Listen); err != nil {
		return nil, err
	}
	if s.MaxTunnels <= 0 {
		s.MaxTunnels = defaultMaxTunnels
	}
	if s.MaxHeaderBytes <= 0 {
		s.MaxHeaderBytes = defaultMaxHeaderBytes
	}
	if s.HeaderTimeout <= 0 {
		s.HeaderTimeout = defaultHeaderTimeout
	}
	if s.AnswerLinger == 0 {
		s.AnswerLinger = defaultAnswerLinger
	}
	if s.DialTimeout <= 0 {
		s.DialTimeout = defaultDialTimeout
	}
	if s.AnswerLinger < 0 {
		return nil, fmt.Errorf("answer linger %s is negative; use 0 for the default", s.AnswerLinger)
	}
	if s.IdleTimeout < 0 {
		return nil, fmt.Errorf("idle timeout %s is negative; use 0 to keep idle tunnels open", s.IdleTimeout)
	}
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
	if s.DialContext == nil {
		s.DialContext = (&net.Dialer{}).DialContext
	}
	if s.ProxyFunc == nil {
		s.ProxyFunc = proxyFromEnvironment
	}
	if s.Credential == "" {
		secret := make([]byte, credentialBytes)
		if _, err := rand.Read(secret); err != nil {
			return nil, fmt.Errorf("generate proxy credential: %w", err)
		}
		s.Credential = base64.RawURLEncoding.EncodeToString(secret)
	}
	s.authDigest = sha256.Sum256([]byte(proxyUser + ":" + s.Credential))

	if len(s.AllowedTargets) == 0 {
		return nil, errors.New("no allowed targets: list the host:port of every API server kubectl may reach")
	}
	s.allowed = make(map[string]bool, len(s.AllowedTargets))
	for _, t := range s.AllowedTargets {
		n, err := normalizeTarget(t)
		if err != nil {
			return nil, fmt.Errorf("allowed target: %w", err)
		}
		s.allowed[n] = true
	}
	if err := s.checkGateway(); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *settings) checkGateway() error {
	gw := &s.Gateway
	host, _, err := hostport.Split(gw.Address)
	if err != nil || host == "" {
		return fmt.Errorf("gateway address %q must be host:port", gw.Address)
	}
	s.serverName = gw.ServerName
	if s.serverName == "" {
		s.serverName = host
	}
	if err := gw.Mode.Check(); err != nil {
		return fmt.Errorf("gateway mode %w", err)
	}
	if len(gw.Certificate.Certificate) == 0 || gw.Certificate.PrivateKey == nil {
		return errors.New("gateway client certificate is missing: the gateway requires mutual TLS")
	}
	leaf, err := x509.ParseCertificate(gw.Certificate.Certificate[0])
	if err != nil {
		return fmt.Errorf("parse gateway client certificate: %w", err)
	}
	s.clientCert = leaf
	return nil
}

// checkLoopbackListen refuses addresses other machines could reach: the
// credential travels in cleartext Basic auth, so it must never leave the host.
func checkLoopbackListen(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("listen address %q: %w", addr, err)
	}
	if strings.EqualFold(host, "localhost") {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("listen address %q is not a loopback address: use 127.0.0.1:<port>, [::1]:<port> or localhost:<port> so only this machine can reach the proxy", addr)
}

// normalizeTarget returns host:port with a lower-case host and a canonical
// port, or an error when the port is missing: kubectl always sends one, and
// guessing 443 would let "host" and "host:443" silently mean the same thing.
func normalizeTarget(target string) (string, error) {
	addr, err := hostport.Normalize(target)
	if err != nil {
		return "", fmt.Errorf("target: %w", err)
	}
	return addr, nil
}

func (s *settings) allowedList() string {
	list := make([]string, 0, len(s.allowed))
	for t := range s.allowed {
		list = append(list, t)
	}
	slices.Sort(list)
	return strings.Join(list, ", ")
}

// proxyFromEnvironment adapts http.ProxyFromEnvironment to a bare URL.
func proxyFromEnvironment(u *url.URL) (*url.URL, error) {
	return http.ProxyFromEnvironment(&http.Request{URL: u})
}
