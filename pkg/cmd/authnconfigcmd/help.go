package authnconfigcmd

const authnConfigLong = `For platform owners: write the AuthenticationConfiguration kube-apiserver reads
with --authentication-config, for people (the access profile's OIDC issuer) and
for CI jobs (GitHub Actions, GitLab, or any OIDC issuer). A re-encrypting endpoint
ends client-certificate authentication: OIDC is how the API server knows who calls.

Each CI issuer is bound to this cluster by an audience (default: the trusted
endpoint's URL), by CEL claim rules (--ci-rule) and maps to a username such as
ci:github:org/app:refs/heads/main and the group ci:github, for RBAC.

The file is checked before it is written with kube-apiserver's own decoder,
validation and CEL environment: a rule that does not compile, a duplicate issuer,
a missing audience, a claim the provider does not send, or a username or group
mapping that could reach "system:" is refused. Every authenticator also gets
user validation rules that make the API server refuse "system:" identities.

The version (apiserver.config.k8s.io/v1 from 1.34, v1beta1 from 1.30) comes from
the API server's /version through your kubeconfig, or --api-version.

--check-token FILE judges a sample JWT (one saved from a CI run, say) as
kube-apiserver would, signature aside: which issuer's authenticator takes it, the
username and groups it maps to, or the rule that refuses it (exit status 1).`

const authnConfigExample = `  # People from the profile's issuer, and one GitHub repository's main branch.
  kubectl securekapi expose authn-config --profile acme.yaml --cluster cluster-a \
    --ci github --ci-rule 'claims.repository == "org/app" && claims.ref == "refs/heads/main"' \
    -o /etc/kubernetes/authn.yaml
  # then: kube-apiserver --authentication-config=/etc/kubernetes/authn.yaml (no --oidc-* flags)

  # Without a profile, for a 1.33 cluster, with a GitLab instance too.
  kubectl securekapi expose authn-config --api-version v1beta1 \
    --oidc-issuer-url https://login.example.com --oidc-client-id kubectl --oidc-groups-prefix oidc: \
    --audience https://kapi.example.com \
    --ci github --ci-rule 'claims.repository == "org/app" && claims.environment == "prod"' \
    --ci gitlab=https://gitlab.example.com --ci-rule 'claims.project_path == "org/app"'

  # Would this pipeline's token get in?
  kubectl securekapi expose authn-config --from-file /etc/kubernetes/authn.yaml --check-token token.jwt`
