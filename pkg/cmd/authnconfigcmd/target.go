package authnconfigcmd

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/securekapi/securekapi/pkg/authnconfig"
)

// target settles the file version and the service-account issuers, asking
// the cluster when the flags leave them open.
func (o *AuthnConfigOptions) target(ctx context.Context) (authnconfig.Target, schema.GroupVersion, error) {
	t := authnconfig.Target{ServiceAccountIssuers: o.ServiceAccountIssuers, Providers: map[string]authnconfig.Provider{}}
	for _, c := range o.settings.CI {
		t.Providers[c.IssuerURL] = c.Provider
	}
	facts := o.Cluster
	if facts == nil {
		facts = &kubeconfigCluster{restConfig: o.RESTConfig}
	}
	v, err := facts.ServerVersion(ctx)
	switch {
	case err == nil:
		t.Version = &v
	case o.asked == nil:
		return t, schema.GroupVersion{}, fmt.Errorf("cannot ask the API server its version (%w): pass --api-version v1 (Kubernetes 1.34+) or v1beta1 (1.30+) to write the file offline", err)
	default:
		fmt.Fprintf(o.ErrOut, "Note: could not ask the API server its version (%v); writing %s as asked.\n", err, o.asked)
	}
	gv := askedOrV1(o.asked)
	if o.FromFile == "" {
		if gv, err = authnconfig.ChooseFileVersion(t.Version, o.asked); err != nil {
			return t, gv, err
		}
	}
	if t.ServiceAccountIssuers == nil && t.Version != nil {
		if iss, err := facts.ServiceAccountIssuer(ctx); err == nil && iss != "" {
			t.ServiceAccountIssuers = []string{iss}
		} else if err != nil {
			fmt.Fprintf(o.ErrOut, "Note: could not read the cluster's service-account issuer (%v); pass --service-account-issuer to check that no JWT issuer overlaps it.\n", err)
		}
	}
	return t, gv, nil
}

// askedOrV1 is the asked version, else v1.
func askedOrV1(asked *schema.GroupVersion) schema.GroupVersion {
	if asked != nil {
		return *asked
	}
	return authnconfig.V1
}

func versionText(v *authnconfig.ServerVersion) string {
	if v == nil {
		return "(version unknown)"
	}
	return v.String()
}
