package doctor

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/securekapi/securekapi/pkg/trust"
)

// apiDo sends req to the API server, with the cached token only when
// withToken is set. The token goes only over a connection whose chain this
// very handshake verified against the pins and the bound name (an earlier
// check's connection proves nothing about this one). The caller closes the
// response body.
func (o *DoctorOptions) apiDo(st *doctorState, req *http.Request, withToken bool) (*http.Response, error) {
	if withToken && (st.token == "" || len(st.binding.Pins) == 0) {
		return nil, errors.New("no token may be sent: the token binding was not checked")
	}
	pool := x509.NewCertPool()
	for _, c := range st.caCerts {
		pool.AddCert(c)
	}
	serverName := trust.Endpoint{URL: st.binding.Server, TLSServerName: st.binding.TLSServerName}.ServerName()
	policy := trust.Policy{CABundle: st.caCerts, Pins: st.binding.Pins, ServerName: serverName, Now: o.Now()}
	client := &http.Client{Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: serverName, MinVersion: tls.VersionTLS12,
			VerifyConnection: func(cs tls.ConnectionState) error {
				_, err := trust.Verify(cs.PeerCertificates, policy)
				return err
			}},
		DialContext: st.dial,
	}}
	if withToken {
		req.Header.Set("Authorization", "Bearer "+st.token)
	}
	return client.Do(req)
}

// apiRequest calls the API server through apiDo and reads the answer.
func (o *DoctorOptions) apiRequest(ctx context.Context, st *doctorState, method, path string, body []byte, withToken bool) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, o.apiURL(st, path), bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := o.apiDo(st, req, withToken)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, data, err
}

func (o *DoctorOptions) apiURL(st *doctorState, path string) string {
	return strings.TrimRight(st.cluster.Server, "/") + path
}

// parseStatus reads the Status the API server sends with an error; a
// proxy's error page does not parse as one.
func parseStatus(body []byte) (metav1.Status, bool) {
	var s metav1.Status
	if json.Unmarshal(body, &s) != nil || s.Kind != "Status" || s.Code == 0 {
		return metav1.Status{}, false
	}
	return s, true
}

func (o *DoctorOptions) checkVersion(ctx context.Context, st *doctorState) Check {
	code, body, err := o.apiRequest(ctx, st, http.MethodGet, "/version", nil, false)
	if err != nil {
		return fail("is the endpoint forwarding to the API server?", "%v", err)
	}
	if s, isAPI := parseStatus(body); isAPI && (code == http.StatusUnauthorized || code == http.StatusForbidden) {
		// /version goes without the token, so this is the API server
		// refusing anonymous requests, not rejecting the token.
		return Check{Status: StatusWarn, Detail: fmt.Sprintf("the API server answers but refuses anonymous /version (HTTP %d %s); the identity check below sends the token", code, s.Reason)}
	}
	if code != http.StatusOK {
		return fail("the endpoint answered but not like an API server: check its backend", "/version: HTTP %d", code)
	}
	var v struct {
		GitVersion string `json:"gitVersion"`
	}
	_ = json.Unmarshal(body, &v)
	return ok("API server %s", v.GitVersion)
}

func (o *DoctorOptions) checkWhoami(ctx context.Context, st *doctorState) Check {
	if st.token == "" {
		return Check{Status: StatusSkip, Detail: "no valid cached token to ask with"}
	}
	review := []byte(`{"apiVersion":"authentication.k8s.io/v1","kind":"SelfSubjectReview"}`)
	code, body, err := o.apiRequest(ctx, st, http.MethodPost, "/apis/authentication.k8s.io/v1/selfsubjectreviews", review, true)
	if err != nil {
		return fail("", "%v", err)
	}
	if code == http.StatusUnauthorized {
		return o.diagnoseRejectedToken(st)
	}
	if code != http.StatusCreated && code != http.StatusOK {
		return fail("", "SelfSubjectReview: HTTP %d", code)
	}
	var r struct {
		Status struct {
			UserInfo struct {
				Username string   `json:"username"`
				Groups   []string `json:"groups"`
			} `json:"userInfo"`
		} `json:"status"`
	}
	_ = json.Unmarshal(body, &r)
	return ok("the API server sees %s (groups: %s)", r.Status.UserInfo.Username, strings.Join(r.Status.UserInfo.Groups, ", "))
}

// diagnoseRejectedToken explains a 401 to a token request. The API
// server's authentication configuration is not readable from here, so the
// token's claims are compared with what the exec stanza says (issuer,
// client ID) and with the claims API servers commonly map users from.
func (o *DoctorOptions) diagnoseRejectedToken(st *doctorState) Check {
	c, a := st.claims, st.access
	login := "kubectl securekapi login " + a.Cluster
	detail := "the API server rejected the token (401 Unauthorized)"
	if c == nil {
		return fail(login, "%s", detail)
	}
	var found, fixes []string
	if c.Issuer != a.Issuer {
		found = append(found, fmt.Sprintf("its issuer %q is not the --oidc-issuer-url %q", c.Issuer, a.Issuer))
		fixes = append(fixes, "log in again with the issuer the API server trusts: "+login)
	}
	if !slices.Contains(c.Audience, a.ClientID) {
		found = append(found, fmt.Sprintf("its audience %v does not hold the client ID %q", c.Audience, a.ClientID))
		fixes = append(fixes, "check --oidc-client-id against the API server's client ID")
	}
	if !c.Expiry.After(o.Now()) {
		found = append(found, "it expired at "+c.Expiry.Format(time.RFC3339))
		fixes = append(fixes, login)
	}
	readd := "kubectl securekapi add " + a.Cluster + " <same flags as before>"
	if c.Email == "" {
		found = append(found, "it has no `email` claim, which API servers commonly map usernames from (--oidc-username-claim=email)"+requestedScopes(a.ExtraScopes))
		fixes = append(fixes, "if yours does, request it: "+readd+" --oidc-extra-scope email, then `kubectl securekapi use "+a.Cluster+"` and `"+login+"`")
	}
	if len(c.Groups) == 0 && !slices.Contains(a.ExtraScopes, "groups") {
		found = append(found, "it has no `groups` claim, so group RBAC bindings would not match either")
		fixes = append(fixes, "add --oidc-extra-scope groups too if the API server maps groups")
	}
	if len(found) == 0 {
		return fail(login+"; if it persists, ask the platform owner whether the API server's --oidc-* flags or --authentication-config accept this issuer and client ID, and which username claim they map",
			"%s; its issuer, audience (%s) and expiry match the kubeconfig, so the API server's authentication configuration does not accept it", detail, a.ClientID)
	}
	return fail(strings.Join(fixes, "; "), "%s: %s", detail, strings.Join(found, "; "))
}

func requestedScopes(extra []string) string {
	if slices.Contains(extra, "email") {
		return " although the email scope was requested: the issuer did not send it"
	}
	return "; this login asked for scopes " + strings.Join(append([]string{"openid"}, extra...), " ")
}
