package expose

import (
	"fmt"
	"net"
	"strings"
)

// haproxyConfig writes a complete haproxy.cfg (checked against HAProxy 2.6)
// that terminates TLS with CertFile and re-encrypts to every upstream,
// verifying the cluster CA and the API server's in-cluster name.
func haproxyConfig(o Options) []byte {
	var b strings.Builder
	b.WriteString(header(o))
	b.WriteString(`global
  log stderr format short local0 info
  ssl-default-bind-options ssl-min-ver TLSv1.2
  ssl-default-server-options ssl-min-ver TLSv1.2

defaults
  mode http
  log global
  option httplog
  timeout connect 5s
  # Watches, logs -f, exec and port-forward stay open for long: an hour of
  # silence ends them; client-go re-opens watches by itself.
  timeout client 1h
  timeout server 1h
  timeout tunnel 1h
  # Only the request headers must come quickly (slowloris).
  timeout http-request 10s
  # Longer than client-go's 90s idle timeout, so the client closes idle
  # connections first and never reuses one HAProxy is closing.
  timeout http-keep-alive 2m

frontend kubeapi
`)
	// HTTP/1.1 only: upgrades for exec and port-forward need it.
	fmt.Fprintf(&b, "  bind %s ssl crt %s alpn http/1.1\n", haproxyAddr(o.Bind), o.CertFile)
	b.WriteString(`  # kube-apiserver records X-Forwarded-For in audit sourceIPs: drop what
  # the client claims, then add the address HAProxy sees.
  http-request del-header X-Forwarded-For
  http-request del-header X-Real-IP
  option forwardfor
  default_backend apiservers

backend apiservers
  # Long-lived watches make connection counts, not requests, the load.
  balance leastconn
`)
	// No "crt" here ever: the proxy must not authenticate as anyone.
	server := "ssl verify required ca-file %s sni str(%s) verifyhost %s alpn http/1.1 check check-sni %s"
	for i, u := range o.Upstreams {
		fmt.Fprintf(&b, "  server kas%d %s "+server+"\n", i+1, haproxyAddr(u),
			o.CAFile, apiServerServerName, apiServerServerName, apiServerServerName)
	}
	return []byte(b.String())
}

// haproxyAddr writes host:port the way haproxy parses it: it splits at
// the last colon, so IPv6 goes without brackets; an empty host is "*".
func haproxyAddr(hostport string) string {
	host, port, _ := net.SplitHostPort(hostport) // validated
	if host == "" {
		host = "*"
	}
	return host + ":" + port
}
