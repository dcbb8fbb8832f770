package stack

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// CIIssuer is the CI provider's stand-in: a small OIDC issuer shaped like
// GitHub Actions' token service (https://token.actions.githubusercontent.com).
// Neither GitHub nor GitLab is reachable from these machines, so this is the
// one part of the e2e stack that is not the real thing. Everything that
// validates its tokens is real: kube-apiserver (structured authentication
// configuration), Dex (an OIDC connector doing token exchange), and
// securekapi's own client code.
//
// It serves, over HTTPS with its own CA (CAFile, to hand to kube-apiserver's
// certificateAuthority and to Dex):
//   - discovery, /.well-known/openid-configuration, and the JWKS it names;
//   - the job's token request endpoint (RequestURL), shaped like GitHub's
//     ACTIONS_ID_TOKEN_REQUEST_URL: GET RequestURL+"&audience=X" with
//     "Authorization: bearer <RequestToken>" answers {"count":1,"value":"<jwt>"},
//     and 401 for a missing or wrong request token. Like GitHub's, the URL
//     already carries a query (api-version), so clients must append the
//     audience rather than start a new query.
//
// Tokens carry GitHub's claims (iss, sub, aud, repository, ref, environment,
// job_workflow_ref, exp five minutes after iat, nbf, jti, ...); Mint signs
// one with chosen claims, for tests that need a token without the request
// flow, or a GitLab-shaped one through CIJob.Extra.
type CIIssuer struct {
	// URL is the issuer (the iss claim and the discovery base).
	URL string
	// CA signed the serving certificate; CAFile holds its PEM.
	CA     *CA
	CAFile string
	// RequestURL and RequestToken are what a GitHub Actions job finds in
	// ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN.
	RequestURL   string
	RequestToken string

	key   *rsa.PrivateKey
	kid   string
	now   func() time.Time
	srv   *http.Server
	ln    net.Listener
	mu    sync.Mutex
	job   CIJob
	count int // token requests answered with a token
}

// CIJob is the claims of one CI job's token. Zero fields take GitHub's
// defaults from the others (see Mint).
type CIJob struct {
	Repository  string // "org/app"
	Ref         string // "refs/heads/main"
	Environment string // deployment environment, "" for none
	// Workflow is the workflow file's path in the repository; default
	// ".github/workflows/deploy.yml". job_workflow_ref is derived from it.
	Workflow  string
	Actor     string // default "octocat"
	EventName string // default "push"
	// Subject overrides the derived sub ("repo:org/app:ref:refs/heads/main",
	// or "repo:org/app:environment:prod" when Environment is set).
	Subject string
	// Audience is the aud claim; default "https://github.com/<owner>", as
	// GitHub sets when the job asks for no audience.
	Audience string
	// Lifetime is exp-iat; default five minutes, like GitHub's.
	Lifetime time.Duration
	// IssuedAt defaults to the issuer's clock. nbf is the same instant.
	IssuedAt time.Time
	// Extra adds claims or replaces derived ones; a nil value removes one.
	Extra map[string]any
	// UntrustedKey signs with a fresh key under the published key id: the
	// attacker who knows every claim but not the issuer's key.
	UntrustedKey bool
}

// CIIssuerOptions configure StartCIIssuer.
type CIIssuerOptions struct {
	// Dir receives ci-issuer-ca.crt; required.
	Dir string
	// Job is what the request endpoint mints for; default
	// org/app on refs/heads/main.
	Job CIJob
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// DefaultCIJob is the job the request endpoint mints for unless told otherwise.
var DefaultCIJob = CIJob{Repository: "org/app", Ref: "refs/heads/main"}

// StartCIIssuer serves the stand-in on a free loopback port until Close.
func StartCIIssuer(o CIIssuerOptions) (*CIIssuer, error) {
	if o.Dir == "" {
		return nil, errors.New("ci issuer: Dir is required")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Job.Repository == "" {
		o.Job = DefaultCIJob
	}
	ca, err := NewCA("Example CI Token Service CA")
	if err != nil {
		return nil, err
	}
	leaf, err := ca.Issue("ci-issuer", LeafOptions{IPs: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"}})
	if err != nil {
		return nil, err
	}
	pair, err := tls.X509KeyPair(leaf.CertPEM, leaf.KeyPEM)
	if err != nil {
		return nil, err
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	c := &CIIssuer{CA: ca, CAFile: filepath.Join(o.Dir, "ci-issuer-ca.crt"), RequestToken: randomToken(),
		key: key, kid: randomToken()[:16], now: o.Now, job: o.Job}
	if err := os.WriteFile(c.CAFile, ca.CertPEM, 0o644); err != nil {
		return nil, err
	}
	if c.ln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
		return nil, err
	}
	c.URL = "https://" + c.ln.Addr().String()
	c.RequestURL = c.URL + "/_apis/distributedtask/idtoken?api-version=2.0"
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", c.serveDiscovery)
	mux.HandleFunc("GET /.well-known/jwks", c.serveJWKS)
	mux.HandleFunc("GET /_apis/distributedtask/idtoken", c.serveTokenRequest)
	c.srv = &http.Server{Handler: mux, TLSConfig: &tls.Config{Certificates: []tls.Certificate{pair}}, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = c.srv.ServeTLS(c.ln, "", "") }()
	return c, nil
}

// Close stops serving.
func (c *CIIssuer) Close() error { return c.srv.Close() }

// SetJob changes the job the request endpoint mints for, as if the next
// request came from another repository, ref or environment.
func (c *CIIssuer) SetJob(job CIJob) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.job = job
}

// TokenRequests counts the tokens the request endpoint has handed out, so
// tests can check a client's caching at the provider.
func (c *CIIssuer) TokenRequests() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.count
}

// Mint signs a token for job. It mirrors GitHub's claims: sub derived from
// repository and environment or ref, repository_owner from repository,
// job_workflow_ref "org/app/.github/workflows/deploy.yml@<ref>".
func (c *CIIssuer) Mint(job CIJob) (string, error) {
	claims := c.claims(job)
	key := c.key
	if job.UntrustedKey {
		var err error
		if key, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			return "", err
		}
	}
	return signRS256(key, c.kid, claims)
}

func (c *CIIssuer) claims(job CIJob) map[string]any {
	owner, _, _ := strings.Cut(job.Repository, "/")
	def := func(v, d string) string {
		if v == "" {
			return d
		}
		return v
	}
	iat := job.IssuedAt
	if iat.IsZero() {
		iat = c.now()
	}
	lifetime := job.Lifetime
	if lifetime == 0 {
		lifetime = 5 * time.Minute
	}
	sub := "repo:" + job.Repository + ":ref:" + job.Ref
	if job.Environment != "" {
		sub = "repo:" + job.Repository + ":environment:" + job.Environment
	}
	refType := "branch"
	if strings.HasPrefix(job.Ref, "refs/tags/") {
		refType = "tag"
	}
	workflow := def(job.Workflow, ".github/workflows/deploy.yml")
	claims := map[string]any{
		"iss":                   c.URL,
		"sub":                   def(job.Subject, sub),
		"aud":                   def(job.Audience, "https://github.com/"+owner),
		"jti":                   randomToken(),
		"iat":                   iat.Unix(),
		"nbf":                   iat.Unix(),
		"exp":                   iat.Add(lifetime).Unix(),
		"repository":            job.Repository,
		"repository_owner":      owner,
		"repository_visibility": "private",
		"ref":                   job.Ref,
		"ref_type":              refType,
		"sha":                   "0123456789abcdef0123456789abcdef01234567",
		"actor":                 def(job.Actor, "octocat"),
		"event_name":            def(job.EventName, "push"),
		"workflow":              "deploy",
		"workflow_ref":          job.Repository + "/" + workflow + "@" + job.Ref,
		"job_workflow_ref":      job.Repository + "/" + workflow + "@" + job.Ref,
		"run_id":                "1",
		"run_number":            "1",
		"run_attempt":           "1",
		"runner_environment":    "github-hosted",
	}
	if job.Environment != "" {
		claims["environment"] = job.Environment
	}
	for k, v := range job.Extra {
		if v == nil {
			delete(claims, k)
		} else {
			claims[k] = v
		}
	}
	return claims
}

func (c *CIIssuer) serveDiscovery(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, map[string]any{
		"issuer":                                c.URL,
		"jwks_uri":                              c.URL + "/.well-known/jwks",
		"subject_types_supported":               []string{"public", "pairwise"},
		"response_types_supported":              []string{"id_token"},
		"claims_supported":                      []string{"sub", "aud", "exp", "iat", "iss", "jti", "nbf", "ref", "repository", "repository_owner", "environment", "job_workflow_ref", "actor", "event_name", "ref_type", "sha", "workflow"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"scopes_supported":                      []string{"openid"},
	})
}

func (c *CIIssuer) serveJWKS(w http.ResponseWriter, _ *http.Request) {
	pub := c.key.PublicKey
	writeJSON(w, map[string]any{"keys": []map[string]string{{
		"kty": "RSA", "alg": "RS256", "use": "sig", "kid": c.kid,
		"n": b64(pub.N.Bytes()),
		"e": b64(big.NewInt(int64(pub.E)).Bytes()),
	}}})
}

// serveTokenRequest answers like GitHub's ID token request endpoint.
func (c *CIIssuer) serveTokenRequest(w http.ResponseWriter, r *http.Request) {
	scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "bearer") || subtle.ConstantTimeCompare([]byte(token), []byte(c.RequestToken)) != 1 {
		http.Error(w, `{"message":"Bad credentials"}`, http.StatusUnauthorized)
		return
	}
	c.mu.Lock()
	job := c.job
	c.mu.Unlock()
	if aud := r.URL.Query().Get("audience"); aud != "" {
		job.Audience = aud
	}
	jwt, err := c.Mint(job)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	c.mu.Lock()
	c.count++
	c.mu.Unlock()
	writeJSON(w, map[string]any{"count": 1, "value": jwt})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func signRS256(key *rsa.PrivateKey, kid string, claims map[string]any) (string, error) {
	header, err := json.Marshal(map[string]string{"alg": "RS256", "typ": "JWT", "kid": kid})
	if err != nil {
		return "", err
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("ci issuer: claims: %w", err)
	}
	signingInput := b64(header) + "." + b64(payload)
	digest := sha256.Sum256([]byte(signingInput))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, digest[:])
	if err != nil {
		return "", err
	}
	return signingInput + "." + b64(sig), nil
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
