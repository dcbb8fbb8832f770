package doctor

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/securekapi/securekapi/pkg/kubeapi"
	"github.com/securekapi/securekapi/pkg/trust"
	"github.com/securekapi/securekapi/pkg/trust/pinning"
)

// prober is doctor's client for the bound API server, with the cached
// token only when withToken is set. The token goes only when the binding
// was checked, and only over a connection whose chain its own handshake
// verified against the pins and the bound name (kubeapi.NewPinned, on
// trust.Policy.TLSConfig): the TLS check's connection earlier proves
// nothing about this one.
func (o *DoctorOptions) prober(st *doctorState, withToken bool) (kubeapi.Prober, error) {
	if withToken && (st.token == "" || len(st.binding.Pins) == 0) {
		return nil, errors.New("no token may be sent: the token binding was not checked")
	}
	serverName := pinning.Endpoint{URL: st.binding.Server, TLSServerName: st.binding.TLSServerName}.ServerName()
	p := kubeapi.Pinned{Server: st.cluster.Server, DialContext: st.dial,
		Policy: trust.Policy{CABundle: st.caCerts, Pins: st.binding.Pins, ServerName: serverName, Now: o.Now()}}
	if withToken {
		p.Token = st.token
	}
	if o.NewProber != nil {
		return o.NewProber(p)
	}
	return kubeapi.NewPinned(p)
}

// apiStatus is the API server's Status in err; false when err is not the
// API server's answer (no answer, or a proxy's).
func apiStatus(err error) (metav1.Status, bool) {
	var s apierrors.APIStatus
	if !kubeapi.IsAPIError(err) || !errors.As(err, &s) {
		return metav1.Status{}, false
	}
	return s.Status(), true
}

func (o *DoctorOptions) checkVersion(ctx context.Context, st *doctorState) Check {
	api, err := o.prober(st, false)
	var v *kubeapi.VersionInfo
	if err == nil {
		v, err = api.Version(ctx)
	}
	s, fromAPI := apiStatus(err)
	switch {
	case err == nil:
		return ok("API server %s", v.GitVersion)
	case fromAPI && (s.Code == http.StatusUnauthorized || s.Code == http.StatusForbidden):
		// /version goes without the token, so this is the API server
		// refusing anonymous requests, not rejecting the token.
		return Check{Status: StatusWarn, Detail: fmt.Sprintf("the API server answers but refuses anonymous /version (HTTP %d %s); the identity check below sends the token", s.Code, s.Reason)}
	case fromAPI:
		return fail(notAPIFix, "/version: HTTP %d", s.Code)
	}
	if code, body, answered := kubeapi.UnexpectedAnswer(err); answered {
		return fail(notAPIFix, "/version: HTTP %d (%s)", code, excerpt(body))
	}
	return fail("is the endpoint forwarding to the API server?", "%v", err)
}

const notAPIFix = "the endpoint answered but not like an API server: check its backend"

func (o *DoctorOptions) checkWhoami(ctx context.Context, st *doctorState) Check {
	if st.token == "" {
		return Check{Status: StatusSkip, Detail: "no valid cached token to ask with"}
	}
	api, err := o.prober(st, true)
	var u *kubeapi.UserInfo
	if err == nil {
		u, err = api.WhoAmI(ctx)
	}
	s, fromAPI := apiStatus(err)
	switch {
	case err == nil:
		return ok("the API server sees %s (groups: %s)", u.Username, strings.Join(u.Groups, ", "))
	case fromAPI && s.Code == http.StatusUnauthorized:
		return o.diagnoseRejectedToken(st)
	case fromAPI:
		return fail(whoamiRefusedFix(s.Code), "SelfSubjectReview: HTTP %d %s: %s", s.Code, s.Reason, s.Message)
	}
	if code, body, answered := kubeapi.UnexpectedAnswer(err); answered {
		return fail("is the endpoint forwarding to the API server?", "SelfSubjectReview got HTTP %d from something that is not the API server (%s)", code, excerpt(body))
	}
	return fail("/version answered, so the path works: run doctor again; if this persists, check the logs of the hop in front of the API server for this request", "%v", err)
}

// whoamiRefusedFix says what to do when the API server refuses the
// SelfSubjectReview with something other than 401 (the token diagnosis).
func whoamiRefusedFix(code int32) string {
	switch code {
	case http.StatusForbidden:
		return "the API server authenticated you but RBAC denies SelfSubjectReview, which every user may create by default: ask the platform owner whether the system:basic-user binding was changed"
	case http.StatusNotFound:
		return "the API server has no authentication.k8s.io/v1 SelfSubjectReview (Kubernetes 1.28 and later serve it): the identity cannot be checked here; try kubectl auth whoami"
	}
	return "the API server failed the request: run doctor again; if this persists, ask the platform owner to check the API server's logs"
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
