package exposecmd

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"strings"
	"time"
)

// checkCertFile checks haproxy's crt file: the chain and its key in one PEM.
func checkCertFile(file, host string, now time.Time) ([]string, error) {
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

// certWarnings reports what would make third parties' checks fail.
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
