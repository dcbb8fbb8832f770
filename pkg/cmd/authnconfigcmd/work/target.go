package work

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/securekapi/securekapi/pkg/authnconfig"
	"github.com/securekapi/securekapi/pkg/cmd/authnconfigcmd"
)

// clusterFacts is what the command asks the API server.
type clusterFacts interface {
	ServerVersion(ctx context.Context) (authnconfig.ServerVersion, error)
	ServiceAccountIssuer(ctx context.Context) (string, error)
}

// targetOf settles the file version and the service-account issuers,
// asking the cluster (facts) when the flags leave them open.
func targetOf(ctx context.Context, o *authnconfigcmd.AuthnConfigOptions, facts clusterFacts) (authnconfig.Target, schema.GroupVersion, error) {
	t := authnconfig.Target{ServiceAccountIssuers: o.ServiceAccountIssuers, Providers: map[string]authnconfig.Provider{}}
	for _, c := range o.Settings.CI {
		t.Providers[c.IssuerURL] = c.Provider
	}
	v, err := facts.ServerVersion(ctx)
	switch {
	case err == nil:
		t.Version = &v
	case o.Asked == nil:
		return t, schema.GroupVersion{}, fmt.Errorf("cannot ask the API server its version (%w): pass --api-version v1 (Kubernetes 1.34+) or v1beta1 (1.30+) to write the file offline", err)
	default:
		fmt.Fprintf(o.ErrOut, "Note: could not ask the API server its version (%v); writing %s as asked.\n", err, o.Asked)
	}
	gv := askedOrV1(o.Asked)
	if o.FromFile == "" {
		if gv, err = authnconfig.ChooseFileVersion(t.Version, o.Asked); err != nil {
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
