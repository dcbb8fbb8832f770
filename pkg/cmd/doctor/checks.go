package doctor

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/securekapi/securekapi/pkg/cmdutil"
	"github.com/securekapi/securekapi/pkg/credential/binding"
	"github.com/securekapi/securekapi/pkg/credential/token"
	"github.com/securekapi/securekapi/pkg/credential/tokenstore"
	"github.com/securekapi/securekapi/pkg/trust"
	"github.com/securekapi/securekapi/pkg/trust/pinning"
)

func (o *DoctorOptions) checkKubeconfig(_ context.Context, st *doctorState) Check {
	cfg, err := o.KubeconfigStore().Load()
	if err != nil {
		return fail("fix the file named above", "%v", err)
	}
	name := firstNonEmpty(o.Name, o.Context, cfg.CurrentContext)
	if name == "" {
		return fail("kubectl securekapi use NAME", "no context named and no current context")
	}
	args, err := cmdutil.SecurekapiExecArgs(cfg, name)
	if err != nil {
		return fail("kubectl securekapi use "+name, "%v", err)
	}
	st.execCommand = cfg.AuthInfos[cfg.Contexts[name].AuthInfo].Exec.Command
	a := &cmdutil.AccessFlags{}
	if _, err := a.ParseExecArgs(args); err != nil {
		return fail("kubectl securekapi use "+name, "exec args unreadable: %v", err)
	}
	st.access = a
	st.namespace = firstNonEmpty(cfg.Contexts[name].Namespace, "default")
	st.cluster = cfg.Clusters[cfg.Contexts[name].Cluster]
	if st.cluster == nil {
		return fail("kubectl securekapi use "+name, "context %q names a missing cluster", name)
	}
	if st.cluster.CertificateAuthority != "" {
		// kubectl reads a CA file once for the exec plugin and again for its
		// TLS pool: the binding holds only for inline data (issue #23).
		return fail("kubectl securekapi use "+name, "cluster takes its CA from the file %s (certificate-authority), which kubectl reads again after securekapi checks it, so securekapi releases no token for it; `use` writes the CA inline (certificate-authority-data)", st.cluster.CertificateAuthority)
	}
	if len(st.cluster.CertificateAuthorityData) == 0 {
		return fail("kubectl securekapi use "+name, "cluster has no certificate-authority-data: kubectl would trust the system roots, and securekapi releases no token for it")
	}
	if st.caCerts, err = trust.ParsePEMCertificates(st.cluster.CertificateAuthorityData); err != nil {
		return fail("kubectl securekapi use "+name, "certificate-authority-data: %v", err)
	}
	if st.proxyURL, st.proxySource, err = o.clusterProxy(st.cluster); err != nil {
		return fail("fix or remove the cluster's proxy-url in the kubeconfig (or HTTPS_PROXY)", "kubectl would refuse this cluster: %v", err)
	}
	st.entryRead = true
	return ok("context %s -> %s (exec: %s)", name, st.cluster.Server, cfg.AuthInfos[cfg.Contexts[name].AuthInfo].Exec.Command)
}

func (o *DoctorOptions) checkDial(ctx context.Context, st *doctorState) Check {
	u, err := url.Parse(st.cluster.Server)
	if err != nil {
		return fail("kubectl securekapi use", "server URL: %v", err)
	}
	addr, err := pinning.Endpoint{URL: st.cluster.Server}.Address()
	if err != nil {
		return fail("kubectl securekapi use", "server URL: %v", err)
	}
	if st.dial != nil {
		conn, err := st.dial(ctx, "tcp", addr)
		if err != nil {
			return fail("check the endpoint address in the profile; the gateway could not reach it", "connect %s through the tunnel: %v", u.Host, err)
		}
		conn.Close()
		return ok("%s accepts connections through the tunnel (the gateway resolves and dials it)", u.Host)
	}
	if st.proxyURL != nil {
		return o.checkDialViaProxy(ctx, st, addr)
	}
	addrs, err := net.DefaultResolver.LookupHost(ctx, u.Hostname())
	if err != nil {
		return fail("check the host name and your DNS/VPN", "resolve %s: %v", u.Hostname(), err)
	}
	conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
	if err != nil {
		return fail("is the endpoint up, and reachable from here (VPN, firewall, tunnel)?", "connect %s: %v", addr, err)
	}
	conn.Close()
	return ok("%s resolves to %s and accepts connections", u.Host, strings.Join(addrs, ", "))
}

func (o *DoctorOptions) checkTLS(ctx context.Context, st *doctorState) Check {
	pins, err := pinning.ParsePins(st.access.Pins)
	if err != nil {
		return fail("kubectl securekapi use", "pins: %v", err)
	}
	ep := pinning.Endpoint{URL: st.cluster.Server, TLSServerName: st.cluster.TLSServerName}
	v, err := trust.Check(ctx, ep, trust.Policy{CABundle: st.caCerts, Pins: pins, Now: o.Now()}, trust.FetchOptions{Timeout: o.Timeout, DialContext: st.dial})
	if err != nil {
		fix := "if the platform owner rotated the CA, get the new pin from them and run `kubectl securekapi add`/`use` again"
		if st.proxyURL != nil {
			fix = "the TLS ran" + st.route + ": a proxy that terminates TLS (inspection) presents its own chain, which kubectl must not trust either; ask for the endpoint to be exempt from inspection, or " + fix
		}
		return fail(fix, "%v%s", err, st.route)
	}
	leaf := v.Chain[0]
	left := leaf.NotAfter.Sub(o.Now())
	if left < 30*24*time.Hour {
		return Check{Status: StatusWarn, Detail: fmt.Sprintf("chain verified (%s)%s but the certificate expires in %s", cmdutil.TrustedBy(v), st.route, left.Round(time.Hour)), Fix: "tell the platform owner to renew the endpoint certificate"}
	}
	return ok("chain verified (%s)%s; certificate valid until %s", cmdutil.TrustedBy(v), st.route, leaf.NotAfter.Format(time.DateOnly))
}

// checkBinding applies the credential plugin's own check to the kubeconfig
// cluster before doctor reads a token: a cluster entry overridden by an
// earlier KUBECONFIG file or an edit must not get the token from doctor
// either.
func (o *DoctorOptions) checkBinding(_ context.Context, st *doctorState) Check {
	if !st.entryRead {
		return Check{Status: StatusSkip, Detail: "the kubeconfig entry could not be read"}
	}
	b, err := st.access.Binding()
	if err == nil {
		err = b.Check(&binding.Cluster{
			Server: st.cluster.Server, TLSServerName: st.cluster.TLSServerName, ProxyURL: st.cluster.ProxyURL,
			CAData: st.cluster.CertificateAuthorityData, InsecureSkipTLSVerify: st.cluster.InsecureSkipTLSVerify,
		})
	}
	if err != nil {
		return fail("kubectl securekapi use "+st.access.Cluster, "kubectl would get no token: %v", err)
	}
	st.binding = b
	return ok("kubeconfig trusts only the pinned CA for %s, as the exec stanza binds it", b.Server)
}

func (o *DoctorOptions) checkDiscovery(ctx context.Context, st *doctorState) Check {
	p, err := o.Discover(ctx, st.access.Settings())
	if err != nil {
		return fail("is the OIDC provider up and reachable? (check --oidc-issuer-url and --oidc-ca-file)", "%v", err)
	}
	flows := "browser"
	if p.HasDeviceFlow() {
		flows += ", device code"
	}
	return ok("%s answers (flows: %s)", st.access.Issuer, flows)
}

func (o *DoctorOptions) checkToken(_ context.Context, st *doctorState) Check {
	// The checks after this one send the token to the endpoint: never to
	// one the user has not approved for this login.
	if err := o.checkApproved(st); err != nil {
		return fail("kubectl securekapi login "+st.access.Cluster, "%v", err)
	}
	store, _, err := o.OpenTokenStore(st.access)
	if err != nil {
		return fail("pass --token-cache file, or unlock the keyring", "%v", err)
	}
	ts, err := store.Get(st.access.Key())
	switch {
	case tokenstore.Unreadable(err):
		// A locked or unreachable keyring: logging in again would fail on
		// the same store.
		return fail("unlock the OS keyring, or switch this cluster to --token-cache file", "cannot read the %s store: %v", store.Kind(), err)
	case err != nil:
		return fail("kubectl securekapi login "+st.access.Cluster, "no usable cached token in the %s store (%v)", store.Kind(), err)
	}
	claims, err := token.PeekClaims(ts.IDToken)
	if err != nil {
		return fail("kubectl securekapi login "+st.access.Cluster, "cached token is unreadable: %v", err)
	}
	if !claims.Expiry.After(o.Now()) {
		if ts.RefreshToken != "" {
			return Check{Status: StatusWarn, Detail: fmt.Sprintf("%s's token expired at %s; kubectl will refresh it", tokenHolder(claims), claims.Expiry.Format(time.RFC3339))}
		}
		return fail("kubectl securekapi login "+st.access.Cluster, "token expired at %s and cannot be refreshed", claims.Expiry.Format(time.RFC3339))
	}
	st.token, st.claims = ts.IDToken, claims
	return ok("%s, valid until %s (%s store)", tokenHolder(claims), claims.Expiry.Local().Format(time.RFC3339), store.Kind())
}

// tokenHolder names whom a token is for: the email when it carries one,
// else the subject, which every ID token has.
func tokenHolder(c *token.Claims) string {
	if c.Email != "" {
		return c.Email
	}
	return fmt.Sprintf("subject %s (no email claim)", c.Subject)
}

// checkApproved is the credential path's approval check for this context.
func (o *DoctorOptions) checkApproved(st *doctorState) error {
	approvals, err := cmdutil.ApprovalStore(o.Factory, st.access)
	if err != nil {
		return err
	}
	b, err := st.access.Binding()
	if err != nil {
		return err
	}
	return binding.CheckApproved(approvals, st.access.Key(), b, st.access.ApproveCommand())
}

func firstNonEmpty(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}
