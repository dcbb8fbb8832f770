package profilecmd

import (
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/securekapi/securekapi/pkg/profile"
	"github.com/securekapi/securekapi/pkg/trust"
)

// profilePins returns the CA certificates of the verified chain, top
// first, and their pins.
//
// Which pins, and why: the top of the verified chain (the root, from the
// chain or the CA bundle) survives renewals of the leaf and of any
// intermediate, so it is the pin to rely on. Each intermediate is pinned
// too: a client that trusts no root here (no CA data, root not sent, not a
// system root) anchors on a presented pinned certificate, and the endpoint
// may only send leaf and intermediate. The leaf is never pinned, as it
// changes at every renewal, unless the chain is just a self-signed leaf.
func profilePins(v *trust.Verified) ([]*x509.Certificate, []string) {
	cas := v.CAs
	top := make([]*x509.Certificate, 0, len(cas))
	for i := len(cas) - 1; i >= 0; i-- {
		top = append(top, cas[i])
	}
	pins := make([]string, 0, len(top))
	for _, c := range top {
		pins = append(pins, string(trust.PinFor(c)))
	}
	return top, pins
}

// profileToWrite is the existing profile with --append, else a new one. A
// file holding other clusters is never replaced without --append.
func (o *ProfileOptions) profileToWrite() (*profile.Profile, error) {
	fresh := &profile.Profile{APIVersion: profile.APIVersion, Kind: profile.Kind}
	if o.target == "" {
		return fresh, nil
	}
	data, err := os.ReadFile(o.target)
	if errors.Is(err, fs.ErrNotExist) {
		return fresh, nil
	}
	if err != nil {
		return nil, err
	}
	existing, err := profile.Parse(data)
	if err != nil {
		if o.Append {
			return nil, fmt.Errorf("--append: %s is not a valid access profile (%w); fix it, or write a new file", o.target, err)
		}
		return nil, fmt.Errorf("%s exists and is not an access profile (%v); choose another file or remove it", o.target, err)
	}
	if o.Append {
		return existing, nil
	}
	var others []string
	for _, n := range existing.Names() {
		if n != o.Cluster.Name {
			others = append(others, n)
		}
	}
	if len(others) > 0 {
		return nil, fmt.Errorf("%s already holds clusters %s: pass --append to add %s to them, or remove the file to start over",
			o.target, strings.Join(others, ", "), o.Cluster.Name)
	}
	return fresh, nil
}

// checkError rewords an untrusted chain for the platform owner, who must
// vouch for the CA rather than pin whatever is presented.
func (o *ProfileOptions) checkError(err error) error {
	var te *trust.Error
	if !errors.As(err, &te) || (te.Kind != trust.KindUnknownAuthority && te.Kind != trust.KindSelfSigned) {
		return err
	}
	issuer := "an unknown CA"
	if len(te.Chain) > 0 {
		issuer = fmt.Sprintf("%q", te.Chain[0].Issuer)
	}
	trusted := "the system roots"
	if o.CAFile != "" {
		trusted = "--ca-file " + o.CAFile
	}
	return fmt.Errorf("%s presents a certificate issued by %s, which %s does not vouch for; profile publishes pins only for a chain it verified: "+
		"pass --ca-file with the CA that issues the endpoint's certificate (compare it with `kubectl securekapi pin %s` out of band)",
		o.Cluster.Server, issuer, trusted, o.Cluster.Server)
}
