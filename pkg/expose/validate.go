package expose

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"path"
	"strconv"
	"strings"

	"github.com/securekapi/securekapi/pkg/hostport"
)

// maxNameLen leaves room for the suffixes added to Name ("-cluster-ca",
// "-routes", ...) within the 63 characters of a DNS label.
const maxNameLen = 40

// Validate reports the first problem in o, saying what to pass instead.
func Validate(o Options) error {
	if err := ValidateSettings(o); err != nil {
		return err
	}
	o = withDefaults(o)
	if o.Via == HAProxy {
		if len(o.Upstreams) == 0 {
			return errors.New("no upstreams: pass each kube-apiserver as host:port, e.g. 10.0.0.10:6443")
		}
		return validateClusterCA(o.ClusterCAPEM)
	}
	if o.Via == Gateway {
		return nil // it reads the cluster CA from the kube-root-ca.crt ConfigMap
	}
	return validateClusterCA(o.ClusterCAPEM)
}

// ValidateSettings checks everything Validate does that needs no cluster:
// all but the cluster CA, and the haproxy upstreams (which a caller may
// default from the kubeconfig). It lets a command refuse a typo before any
// network call.
func ValidateSettings(o Options) error {
	if err := CheckVia(o.Via); err != nil {
		return err
	}
	if err := validateHost(o.Host); err != nil {
		return err
	}
	o = withDefaults(o)
	if o.Via == HAProxy {
		return validateHAProxy(o)
	}
	return validateKubernetes(o)
}

// SecretRef is the TLS secret's namespace and name: TLSSecret as
// "namespace/name", or "name" in the objects' namespace.
func (o Options) SecretRef() (ns, name string, err error) {
	o = withDefaults(o)
	return secretRef(o.TLSSecret, o.Namespace)
}

// CheckVia accepts one of Vias, and names them otherwise.
func CheckVia(v Via) error {
	for _, known := range Vias() {
		if v == known {
			return nil
		}
	}
	if v == "" {
		return errors.New("no via: choose the proxy in front of the API server: contour, gateway, ingress-nginx or haproxy")
	}
	return fmt.Errorf("unknown via %q: use contour, gateway, ingress-nginx or haproxy", v)
}

// validateHost accepts one lowercase DNS name: the name on the endpoint's
// certificate that third parties will type. Proxies match it exactly
// (Gateway API and Ingress reject upper case), so it is not normalised.
func validateHost(h string) error {
	const example = "pass the DNS name third parties will use, e.g. kapi.example.com"
	switch {
	case h == "":
		return fmt.Errorf("no host: %s", example)
	case net.ParseIP(strings.Trim(h, "[]")) != nil:
		return fmt.Errorf("host %q is an IP address: the endpoint needs a DNS name on its certificate; %s", h, example)
	case strings.Contains(h, "://") || strings.ContainsAny(h, "/:"):
		return fmt.Errorf("host %q looks like a URL or has a port: %s (the endpoint listens on 443)", h, example)
	case strings.Contains(h, "*"):
		return fmt.Errorf("host %q is a wildcard: %s", h, example)
	case h != strings.ToLower(h):
		return fmt.Errorf("host %q has upper case letters: pass %q", h, strings.ToLower(h))
	}
	if err := dnsSubdomain(h); err != nil {
		return fmt.Errorf("host %q: %w; %s", h, err, example)
	}
	labels := strings.Split(h, ".")
	if _, err := strconv.Atoi(labels[len(labels)-1]); err == nil {
		return fmt.Errorf("host %q ends in a numeric label, which no DNS name does; %s", h, example)
	}
	return nil
}

// dnsSubdomain checks RFC 1123 names as Kubernetes does for object names.
func dnsSubdomain(s string) error {
	if len(s) > 253 {
		return fmt.Errorf("longer than 253 characters")
	}
	for _, label := range strings.Split(s, ".") {
		if err := dnsLabel(label); err != nil {
			return err
		}
	}
	return nil
}

func dnsLabel(s string) error {
	if s == "" {
		return errors.New("has an empty label (two dots in a row, or a dot at an end)")
	}
	if len(s) > 63 {
		return fmt.Errorf("label %q is longer than 63 characters", s)
	}
	for _, r := range s {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '-' {
			return fmt.Errorf("label %q may only hold a-z, 0-9 and '-'", s)
		}
	}
	if s[0] == '-' || s[len(s)-1] == '-' {
		return fmt.Errorf("label %q starts or ends with '-'", s)
	}
	return nil
}

func validateKubernetes(o Options) error {
	if err := dnsLabel(o.Namespace); err != nil {
		return fmt.Errorf("namespace %q: %w", o.Namespace, err)
	}
	if err := dnsLabel(o.Name); err != nil || len(o.Name) > maxNameLen {
		return fmt.Errorf("name %q: pass a lowercase DNS label of at most %d characters", o.Name, maxNameLen)
	}
	if err := dnsSubdomain(o.Class); o.Class != "" && err != nil {
		return fmt.Errorf("class %q: %w", o.Class, err)
	}
	ns, _, err := secretRef(o.TLSSecret, o.Namespace)
	if err != nil {
		return err
	}
	if o.Via == IngressNginx && (o.Namespace != apiServerNamespace || ns != apiServerNamespace) {
		// An Ingress reaches only Services and TLS Secrets in its own
		// namespace, and Service "kubernetes" is in "default".
		return fmt.Errorf("via ingress-nginx: the Ingress must be in namespace %q with Service %q, and so must its TLS secret: "+
			"use namespace %q and a secret there, or --via contour or gateway, which can reference other namespaces",
			apiServerNamespace, apiServerService, apiServerNamespace)
	}
	return nil
}

// secretRef splits "namespace/name" or "name" (in defaultNS).
func secretRef(ref, defaultNS string) (ns, name string, err error) {
	if ref == "" {
		return "", "", errors.New("no TLS secret: pass the Secret holding the endpoint's certificate and key, as name or namespace/name")
	}
	ns, name, found := strings.Cut(ref, "/")
	if !found {
		ns, name = defaultNS, ref
	}
	if err := dnsLabel(ns); err != nil {
		return "", "", fmt.Errorf("TLS secret %q: namespace %w", ref, err)
	}
	if err := dnsSubdomain(name); err != nil {
		return "", "", fmt.Errorf("TLS secret %q: name %w; pass name or namespace/name", ref, err)
	}
	return ns, name, nil
}

// validateClusterCA accepts only certificates: the bundle is copied into a
// Secret or file, where a stray private key would leak.
func validateClusterCA(bundle []byte) error {
	const where = "pass the ca.crt of ConfigMap kube-root-ca.crt (kubectl get cm kube-root-ca.crt -o jsonpath='{.data.ca\\.crt}')"
	if len(strings.TrimSpace(string(bundle))) == 0 {
		return fmt.Errorf("no cluster CA: %s", where)
	}
	n := 0
	for rest := bundle; ; n++ {
		var block *pem.Block
		if block, rest = pem.Decode(rest); block == nil {
			if strings.TrimSpace(string(rest)) != "" {
				return fmt.Errorf("cluster CA has text that is not PEM: %s", where)
			}
			break
		}
		if block.Type != "CERTIFICATE" {
			return fmt.Errorf("cluster CA holds a %s block, not only certificates: %s", block.Type, where)
		}
		if _, err := x509.ParseCertificate(block.Bytes); err != nil {
			return fmt.Errorf("cluster CA certificate %d does not parse: %w; %s", n+1, err, where)
		}
	}
	if n == 0 {
		return fmt.Errorf("cluster CA holds no certificate: %s", where)
	}
	return nil
}

func validateHAProxy(o Options) error {
	if err := validateBind(o.Bind); err != nil {
		return err
	}
	// HAProxy reads these files on its own host, a Unix one, not on the
	// machine running expose: they are checked as paths of that host, the
	// same from Windows.
	for _, f := range []struct{ what, path string }{{"cert file", o.CertFile}, {"CA file", o.CAFile}} {
		if !path.IsAbs(f.path) || !cfgSafe(f.path) {
			return fmt.Errorf("haproxy %s %q: pass its absolute path on the HAProxy host, e.g. /etc/haproxy/kapi.pem, without spaces, quotes, backslashes or '#'", f.what, f.path)
		}
	}
	for _, u := range o.Upstreams {
		if err := validateHostPort(u, false); err != nil {
			return fmt.Errorf("upstream %q: %w; pass host:port, e.g. 10.0.0.10:6443", u, err)
		}
	}
	return nil
}

func validateBind(b string) error {
	if err := validateHostPort(b, true); err != nil {
		return fmt.Errorf("bind %q: %w; pass ip:port, e.g. 0.0.0.0:443", b, err)
	}
	host, _, _ := net.SplitHostPort(b)
	if host != "" && host != "*" && net.ParseIP(host) == nil {
		return fmt.Errorf("bind %q: listen on an IP address, e.g. 0.0.0.0:443", b)
	}
	return nil
}

// validateHostPort checks host:port; an empty host is allowed for bind.
func validateHostPort(hp string, emptyHost bool) error {
	host, _, err := hostport.Split(hp)
	if err != nil {
		return err
	}
	if host == "" && !emptyHost {
		return errors.New("no host")
	}
	if !cfgSafe(host) {
		return errors.New("host has spaces, quotes or '#'")
	}
	return nil
}

// cfgSafe reports whether s can be written into haproxy.cfg as one bare
// word: haproxy splits on spaces and treats quotes, '\' and '#' specially.
func cfgSafe(s string) bool {
	return !strings.ContainsAny(s, " \t\r\n\"'\\#")
}
