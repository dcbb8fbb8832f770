package kubeconfig

// richConfig has every kind of entry securekapi must leave alone: extensions
// at each level, preferences, relative paths, cert, token, auth-provider and
// exec users.
const richConfig = `apiVersion: v1
kind: Config
current-context: dev
preferences:
  colors: true
  extensions:
  - name: prefs.example.com
    extension:
      theme: dark
extensions:
- name: tool.example.com
  extension:
    apiVersion: example.com/v1
    kind: ToolState
    last: "2024-01-01"
clusters:
- name: prod
  cluster:
    server: https://prod.example.com:6443
    certificate-authority-data: Y2EtZGF0YQ==
    tls-server-name: api.prod
    extensions:
    - name: client.authentication.k8s.io/exec
      extension:
        audience: prod
- name: dev
  cluster:
    server: https://127.0.0.1:6443
    certificate-authority: ca/dev.crt
    proxy-url: socks5://localhost:1080
- name: legacy
  cluster:
    server: http://legacy:8080
    insecure-skip-tls-verify: true
users:
- name: alice
  user:
    client-certificate-data: Y2VydA==
    client-key-data: a2V5
- name: bob
  user:
    token: s3cr3t
    as: admin
    as-groups: [ops]
- name: oidc
  user:
    auth-provider:
      name: oidc
      config:
        client-id: kubernetes
        id-token: eyJhbGciOi
        idp-issuer-url: https://issuer.example.com
        refresh-token: r3fr3sh
- name: cloud
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: aws
      args: [eks, get-token, --cluster-name, prod]
      env:
      - name: AWS_PROFILE
        value: prod
      interactiveMode: Never
      provideClusterInfo: true
      installHint: install aws
contexts:
- name: prod
  context:
    cluster: prod
    user: cloud
    namespace: payments
    extensions:
    - name: ctx.example.com
      extension:
        color: red
- name: dev
  context:
    cluster: dev
    user: alice
- name: legacy
  context:
    cluster: legacy
    user: bob
- name: oidc
  context:
    cluster: prod
    user: oidc
`
