package kubeapiserver

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	celast "github.com/google/cel-go/common/ast"
	"github.com/google/cel-go/common/operators"
	"github.com/google/cel-go/common/types"

	api "k8s.io/apiserver/pkg/apis/apiserver"
	authenticationcel "k8s.io/apiserver/pkg/authentication/cel"

	"github.com/securekapi/securekapi/pkg/authnconfig"
	"github.com/securekapi/securekapi/pkg/credential/ci"
)

// reserved is the namespace Kubernetes keeps for its own users and groups
// (system:masters, system:node:NAME, ...).
const reserved = "system:"

// Policy lists what kube-apiserver would accept but a platform owner must
// not ship:
//   - a username or group mapping whose values could land in "system:": a
//     claim mapped with no prefix (the email claim excepted: kube-apiserver
//     requires it verified, and the reserved-name rules Build adds still
//     apply), a prefix that is itself a start of "system:" ("sys" +
//     "tem:masters"), or an expression that does not begin with a literal
//     prefix;
//   - a GitHub or GitLab issuer with no claim rule: anyone's pipeline can
//     ask those services for a token with this cluster's audience;
//   - a claim a CI provider never sends (claims.repo for GitHub's
//     claims.repository), which would make a rule or mapping fail on
//     every token.
func Policy(cfg *api.AuthenticationConfiguration, providers map[string]authnconfig.Provider) []string {
	var problems []string
	compiler := authenticationcel.NewDefaultCompiler()
	for _, a := range cfg.JWT {
		say := func(format string, args ...any) {
			problems = append(problems, fmt.Sprintf("issuer %s: ", a.Issuer.URL)+fmt.Sprintf(format, args...))
		}
		m := a.ClaimMappings
		switch {
		case m.Username.Claim != "" && m.Username.Prefix != nil && *m.Username.Prefix == "" && m.Username.Claim != "email":
			say("username claim %q has no prefix, so a token whose %s is \"system:masters\" or \"system:node:x\" would act as that Kubernetes identity: set a prefix such as \"oidc:\" (--username-prefix) and write RBAC subjects with it", m.Username.Claim, m.Username.Claim)
		case m.Username.Claim != "" && m.Username.Prefix != nil && collides(*m.Username.Prefix):
			say("username prefix %q could join a claim into \"system:...\", which Kubernetes reserves: pick a prefix such as \"oidc:\"", *m.Username.Prefix)
		case m.Username.Expression != "":
			if p, ok := literalPrefix(compiler, m.Username.Expression); ok && (p == "" || collides(p)) {
				say("username expression %s must begin with a literal prefix that cannot become \"system:\" (such as \"ci:github:\" + claims.repository), or its values could collide with Kubernetes' reserved names", m.Username.Expression)
			}
		}
		switch {
		case m.Groups.Claim != "" && m.Groups.Prefix != nil && (*m.Groups.Prefix == "" || collides(*m.Groups.Prefix)):
			say("groups claim %q needs a prefix that cannot become \"system:\" (such as \"oidc:\", --groups-prefix): an IdP group named system:masters would otherwise be cluster-admin", m.Groups.Claim)
		case m.Groups.Expression != "":
			if bad, ok := unprefixedGroups(compiler, m.Groups.Expression); ok && bad != "" {
				say("groups expression %s: %s", m.Groups.Expression, bad)
			}
		}
		provider := providerOf(a.Issuer.URL, providers)
		if provider == nil {
			continue
		}
		if provider.NeedsRule && len(a.ClaimValidationRules) == 0 {
			say("no claim rules: every %s project can request a token for any audience, so the audience alone lets in anyone's pipeline; bind the repository and the ref or environment with --ci-rule (e.g. %s)",
				provider.Title, provider.ExampleRule)
		}
		if len(provider.Claims) == 0 {
			continue
		}
		known := setOf(provider.Claims...)
		for _, c := range referencedClaims(compiler, a) {
			if !known[c] {
				say("unknown claim %q: %s tokens do not carry it%s, so the rule or mapping using it would refuse every token (known claims: %s)",
					c, provider.Title, suggestion(c, known), strings.Join(sortedKeys(known), ", "))
			}
		}
	}
	return problems
}

// collides reports whether a prefix, followed by some claim value, could
// spell a name in the reserved namespace.
func collides(prefix string) bool {
	if prefix == "" {
		return false // unprefixed: judged by the caller, which knows the claim
	}
	p := strings.ToLower(prefix)
	return strings.HasPrefix(p, reserved) || strings.HasPrefix(reserved, p)
}

// providerOf is the CI provider of an issuer: as the owner named it, else
// the provider whose fixed issuer it is (GitHub's); nil for none.
func providerOf(issuer string, providers map[string]authnconfig.Provider) *ci.Provider {
	if p, ok := providers[issuer]; ok {
		return ci.ProviderOf(string(p))
	}
	return ci.ProviderForIssuer(issuer)
}

// compile parses an expression with the API server's compiler; ok is false
// when it does not compile (validation reports that, with CEL's message).
func compile(compiler authenticationcel.Compiler, expr string) (celast.Expr, bool) {
	res, err := compiler.CompileClaimsExpression(&authenticationcel.ClaimMappingExpression{Expression: expr})
	if err != nil || res.AST == nil {
		return nil, false
	}
	return res.AST.NativeRep().Expr(), true
}

// literalPrefix is the string literal an expression's leftmost
// concatenation starts with: "ci:" for "ci:" + claims.sub, "" for
// claims.sub alone.
func literalPrefix(compiler authenticationcel.Compiler, expr string) (string, bool) {
	e, ok := compile(compiler, expr)
	if !ok {
		return "", false
	}
	return leftmostLiteral(e), true
}

func leftmostLiteral(e celast.Expr) string {
	for {
		switch e.Kind() {
		case celast.CallKind:
			c := e.AsCall()
			if c.FunctionName() != operators.Add || len(c.Args()) != 2 {
				return ""
			}
			e = c.Args()[0]
		case celast.LiteralKind:
			if s, ok := e.AsLiteral().(types.String); ok {
				return string(s)
			}
			return ""
		default:
			return ""
		}
	}
}

// unprefixedGroups checks that a groups expression is a list (or a sum of
// lists) whose every element begins with a safe literal prefix; it returns
// what is wrong, or "".
func unprefixedGroups(compiler authenticationcel.Compiler, expr string) (string, bool) {
	e, ok := compile(compiler, expr)
	if !ok {
		return "", false
	}
	var check func(celast.Expr) string
	check = func(e celast.Expr) string {
		switch e.Kind() {
		case celast.ListKind:
			for _, el := range e.AsList().Elements() {
				if p := leftmostLiteral(el); p == "" || collides(p) {
					return "every group must begin with a literal prefix that cannot become \"system:\" (such as \"ci:github:\" + claims.repository_owner)"
				}
			}
			return ""
		case celast.CallKind:
			if c := e.AsCall(); c.FunctionName() == operators.Add && len(c.Args()) == 2 {
				if bad := check(c.Args()[0]); bad != "" {
					return bad
				}
				return check(c.Args()[1])
			}
		}
		return "write it as a list of prefixed strings, such as [\"ci:github\", \"ci:github:\" + claims.repository_owner], so no group can land in \"system:\""
	}
	return check(e), true
}

// referencedClaims lists the top-level claims an authenticator reads, in
// its claim fields and every expression: claims.x, has(claims.x),
// claims.?x and claims["x"].
func referencedClaims(compiler authenticationcel.Compiler, a api.JWTAuthenticator) []string {
	seen := map[string]bool{}
	add := func(c string) {
		if c != "" {
			seen[c] = true
		}
	}
	m := a.ClaimMappings
	add(m.Username.Claim)
	add(m.Groups.Claim)
	add(m.UID.Claim)
	exprs := []string{m.Username.Expression, m.Groups.Expression, m.UID.Expression}
	for _, x := range m.Extra {
		exprs = append(exprs, x.ValueExpression)
	}
	for _, r := range a.ClaimValidationRules {
		add(r.Claim)
		exprs = append(exprs, r.Expression)
	}
	for _, x := range exprs {
		if x == "" {
			continue
		}
		e, ok := compile(compiler, x)
		if !ok {
			continue
		}
		celast.PreOrderVisit(e, celast.NewExprVisitor(func(e celast.Expr) {
			add(claimOf(e))
		}))
	}
	return sortedKeys(seen)
}

// claimOf is the claim name e reads directly off the claims variable.
func claimOf(e celast.Expr) string {
	isClaims := func(e celast.Expr) bool { return e.Kind() == celast.IdentKind && e.AsIdent() == "claims" }
	switch e.Kind() {
	case celast.SelectKind:
		if s := e.AsSelect(); isClaims(s.Operand()) {
			return s.FieldName()
		}
	case celast.CallKind:
		c := e.AsCall()
		switch c.FunctionName() {
		case operators.Index, operators.OptIndex, operators.OptSelect:
			if len(c.Args()) == 2 && isClaims(c.Args()[0]) && c.Args()[1].Kind() == celast.LiteralKind {
				if s, ok := c.Args()[1].AsLiteral().(types.String); ok {
					return string(s)
				}
			}
		}
	}
	return ""
}

// suggestion names the known claim the owner most likely meant: the
// shortest one the name abbreviates ("repo": repository), else the closest
// by a few edits.
func suggestion(name string, known map[string]bool) string {
	best := ""
	for _, k := range sortedKeys(known) {
		if len(name) > 2 && strings.HasPrefix(k, name) && (best == "" || len(k) < len(best)) {
			best = k
		}
	}
	if best == "" {
		bestDist := 4
		for _, k := range sortedKeys(known) {
			if d := editDistance(name, k); d < bestDist {
				best, bestDist = k, d
			}
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

func sortedKeys(m map[string]bool) []string { return slices.Sorted(maps.Keys(m)) }

func setOf(names ...string) map[string]bool {
	out := make(map[string]bool, len(names))
	for _, n := range names {
		out[n] = true
	}
	return out
}
