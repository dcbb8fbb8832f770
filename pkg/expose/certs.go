package expose

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"strings"
	"time"
)

// CheckCertFile checks haproxy's crt file: the chain and its key in one
// PEM. It refuses a file haproxy could not load and warns about what would
// make third parties' checks fail.
func CheckCertFile(file, host string, now time.Time) ([]string, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("--cert-file: %w", err)
	}
	pair, err := tls.X509KeyPair(data, data)
	if err != nil {
		return nil, fmt.Errorf("--cert-file %s: %v: it must hold the endpoint's certificate chain (leaf first) and its private key, in PEM", file, err)
	}
	return certWarnings(pair, file, host, now), nil
}

// TLSSecret is the endpoint's TLS secret as read from the cluster.
type TLSSecret struct {
	Namespace, Name, Type string
	Data                  map[string][]byte
}

// CreateTLSSecretCommand is the kubectl command that makes the secret a
// proxy serves, for errors to name.
func CreateTLSSecretCommand(ns, name string) string {
	return fmt.Sprintf("kubectl create secret tls %s -n %s --cert=FULLCHAIN.pem --key=KEY.pem", name, ns)
}

// CheckTLSSecret refuses a secret proxies will not serve (another type, no
// certificate or key, or ones that do not match) and warns about what would
// make third parties' checks fail.
func CheckTLSSecret(s TLSSecret, host string, now time.Time) ([]string, error) {
	create := CreateTLSSecretCommand(s.Namespace, s.Name)
	if s.Type != "kubernetes.io/tls" {
		return nil, fmt.Errorf("secret %s/%s is of type %q, not kubernetes.io/tls, so proxies will not serve it: recreate it with %s", s.Namespace, s.Name, s.Type, create)
	}
	crt, key := s.Data["tls.crt"], s.Data["tls.key"]
	if len(crt) == 0 || len(key) == 0 {
		return nil, fmt.Errorf("TLS secret %s/%s lacks tls.crt or tls.key: recreate it with %s", s.Namespace, s.Name, create)
	}
	pair, err := tls.X509KeyPair(crt, key)
	if err != nil {
		return nil, fmt.Errorf("TLS secret %s/%s does not hold a usable certificate and key (%v): recreate it with %s", s.Namespace, s.Name, err, create)
	}
	return certWarnings(pair, fmt.Sprintf("TLS secret %s/%s", s.Namespace, s.Name), host, now), nil
}

// certWarnings reports what would make third parties' checks fail: a
// certificate for another name, outside its dates, or sent without the
// chain that lets clients verify and pin its CA.
func certWarnings(pair tls.Certificate, where, host string, now time.Time) []string {
	leaf := pair.Leaf
	if leaf == nil {
		var err error
		if leaf, err = x509.ParseCertificate(pair.Certificate[0]); err != nil {
			return []string{fmt.Sprintf("%s: cannot parse the certificate: %v", where, err)}
		}
	}
	var w []string
	if err := leaf.VerifyHostname(host); err != nil {
		w = append(w, fmt.Sprintf("The certificate in %s is not valid for %s (it names %s): third parties will get a name mismatch. "+
			"Use a certificate for %s.", where, host, strings.Join(leaf.DNSNames, ", "), host))
	}
	switch {
	case now.After(leaf.NotAfter):
		w = append(w, fmt.Sprintf("The certificate in %s expired on %s: renew it.", where, leaf.NotAfter.Format(time.DateOnly)))
	case now.Before(leaf.NotBefore):
		w = append(w, fmt.Sprintf("The certificate in %s is not valid before %s.", where, leaf.NotBefore.Format(time.DateOnly)))
	}
	if len(pair.Certificate) == 1 && !bytes.Equal(leaf.RawIssuer, leaf.RawSubject) {
		w = append(w, fmt.Sprintf("%s holds only the leaf certificate: add the issuing CA chain after it, so clients can verify "+
			"the endpoint and pin its CA (`kubectl securekapi pin`).", where))
	}
	return w
}
