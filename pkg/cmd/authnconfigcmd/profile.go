package authnconfigcmd

import (
	"fmt"
	"os"
	"strings"

	"github.com/securekapi/securekapi/pkg/authnconfig"
	"github.com/securekapi/securekapi/pkg/profile"
)

// profileCluster reads --profile and picks --cluster.
func (o *AuthnConfigOptions) profileCluster() (*profile.Cluster, error) {
	data, err := os.ReadFile(o.ProfileFile)
	if err != nil {
		return nil, fmt.Errorf("--profile: %w", err)
	}
	p, err := profile.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("--profile %s: %w", o.ProfileFile, err)
	}
	if o.ProfileCluster == "" {
		if len(p.Clusters) != 1 {
			return nil, fmt.Errorf("--profile %s has clusters %s: pass --cluster NAME", o.ProfileFile, strings.Join(p.Names(), ", "))
		}
		return &p.Clusters[0], nil
	}
	c, ok := p.Find(o.ProfileCluster)
	if !ok {
		return nil, fmt.Errorf("--profile %s has no cluster %q (it has %s)", o.ProfileFile, o.ProfileCluster, strings.Join(p.Names(), ", "))
	}
	return c, nil
}

// mergeCI starts from the profile's CI issuers and lays the flags' over
// them by issuer URL: the profile says who and for which audience, the
// flags add the rules and mappings.
func mergeCI(fromProfile []profile.CIIssuer, flags []authnconfig.CIIssuer) []authnconfig.CIIssuer {
	var out []authnconfig.CIIssuer
	index := map[string]int{}
	for _, p := range fromProfile {
		index[p.IssuerURL] = len(out)
		out = append(out, authnconfig.CIIssuer{Provider: authnconfig.Provider(p.Provider), IssuerURL: p.IssuerURL, Audience: p.Audience})
	}
	for _, f := range flags {
		i, ok := index[f.IssuerURL]
		if !ok {
			out = append(out, f)
			continue
		}
		if f.Audience == "" {
			f.Audience = out[i].Audience
		}
		out[i] = f
	}
	return out
}

// readCAFiles reads --oidc-ca-file into the people's issuer and each
// --ci-ca-file into the CI issuers (ci, the profile's and the flags')
// with its issuer URL.
func (o *AuthnConfigOptions) readCAFiles(ci []authnconfig.CIIssuer) error {
	if o.HumanCAFile != "" {
		data, err := os.ReadFile(o.HumanCAFile)
		if err != nil {
			return fmt.Errorf("--oidc-ca-file: %w", err)
		}
		o.Human.CAData = data
	}
	for i, file := range o.CI.CAFiles {
		if file == "" {
			continue
		}
		data, err := os.ReadFile(file)
		if err != nil {
			return fmt.Errorf("--ci-ca-file for %s: %w", o.CI.Issuers[i].IssuerURL, err)
		}
		for j := range ci {
			if ci[j].IssuerURL == o.CI.Issuers[i].IssuerURL {
				ci[j].CAData = data
			}
		}
	}
	return nil
}
