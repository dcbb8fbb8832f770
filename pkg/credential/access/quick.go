package access

import (
	"strings"
	"time"
	"unicode/utf8"

	"github.com/securekapi/securekapi/pkg/credential/cachedtoken"
)

// ParseExecArgsQuick reads the exec args as ParseExecArgs does, without
// pflag, for the small exec program: pflag's set-up of the flag set (a
// Flag, a value and a CSV writer per flag) was a seventh of the fast
// path's page faults on every kubectl call. It takes only the plain forms
// `use` writes: `--name value` and `--name=value` of the flags setQuick
// knows, values without the characters pflag's CSV and key=value
// parsing would treat specially. It reports false for anything else
// (another flag, a positional argument, a quote or comma in a list value,
// a value starting with "-"), and the caller then parses with pflag
// (ParseExecArgs) or hands the call to the full CLI, which does. Whatever
// it accepts, pflag reads the same way (quick_test.go holds the two equal).
func (a *Flags) ParseExecArgsQuick(args []string) bool {
	*a = Flags{Grant: "auto", LoginTimeout: 5 * time.Minute, ExpiryMargin: cachedtoken.DefaultExpiryMargin}
	for len(args) > 0 {
		name, value, hasValue := strings.Cut(args[0], "=")
		args = args[1:]
		if !strings.HasPrefix(name, "--") || name == "--" {
			return false
		}
		if !hasValue {
			if len(args) == 0 || strings.HasPrefix(args[0], "-") {
				return false
			}
			value, args = args[0], args[1:]
		}
		if !a.setQuick(name[2:], value) {
			return false
		}
	}
	return true
}

// setQuick sets flag name to v as pflag would; false for a flag it does
// not read or a value it does not take. A flag AddFlags gains is handed to
// pflag until it is added here (quick_test.go fails until it is, or is
// listed as parsed by pflag only).
func (a *Flags) setQuick(name, v string) bool {
	switch name {
	case "cluster-name":
		a.Cluster = v
	case "oidc-issuer-url":
		a.Issuer = v
	case "oidc-client-id":
		a.ClientID = v
	case "oidc-extra-scope":
		return appendListValue(&a.ExtraScopes, v)
	case "oidc-auth-request-extra-params":
		return setKeyValue(&a.ExtraParams, v)
	case "oidc-ca-file":
		a.OIDCCAFile = v
	case "server":
		a.Server = v
	case "tls-server-name":
		a.TLSServerName = v
	case "pin":
		return appendListValue(&a.Pins, v)
	case "token-cache":
		a.TokenCache = v
	case "cache-dir":
		a.CacheDir = v
	case "grant":
		a.Grant = v
	case "browser-command":
		a.BrowserCmd = v
	case "login-timeout":
		return setDuration(&a.LoginTimeout, v)
	case "expiry-margin":
		return setDuration(&a.ExpiryMargin, v)
	case "listen-address":
		return appendListValue(&a.BindAddresses, v)
	case "audience":
		a.Audience = v
	case "ci-token-source":
		a.CISource = v
	case "ci-token-var":
		a.CITokenVar = v
	case "ci-token-file":
		a.CITokenFile = v
	case "ci-token-audience":
		a.CITokenAudience = v
	case "token-exchange-connector-id":
		a.ExchangeConnectorID = v
	case "client-secret-file":
		a.ClientSecretFile = v
	case "client-secret-env":
		a.ClientSecretEnv = v
	default:
		return false
	}
	return true
}

// appendListValue is pflag's StringSlice for a value that its CSV reader
// reads as exactly itself: not empty, no quote, comma or line break, valid
// UTF-8.
func appendListValue(list *[]string, v string) bool {
	if v == "" || strings.ContainsAny(v, "\",\r\n") || !utf8.ValidString(v) {
		return false
	}
	*list = append(*list, v)
	return true
}

// setKeyValue is pflag's StringToString for a value with exactly one "="
// and no quote, which pflag splits at the "=" without CSV.
func setKeyValue(m *map[string]string, v string) bool {
	k, val, _ := strings.Cut(v, "=")
	if strings.Count(v, "=") != 1 || strings.Contains(v, "\"") {
		return false
	}
	if *m == nil {
		*m = map[string]string{}
	}
	(*m)[k] = val
	return true
}

func setDuration(d *time.Duration, v string) bool {
	parsed, err := time.ParseDuration(v)
	if err != nil {
		return false
	}
	*d = parsed
	return true
}
