package access

import (
	"maps"
	"slices"
	"time"

	"github.com/spf13/pflag"

	"github.com/securekapi/securekapi/pkg/credential/ci"
	"github.com/securekapi/securekapi/pkg/credential/grant"
	"github.com/securekapi/securekapi/pkg/credential/token"
)

// execFlag is one exec arg: its flag name, the field of the settings S it
// reads and writes, its default and its help. field returns a pointer to
// the field, and the pointer's type is the flag's kind: *string,
// *[]string (a list, one flag per element), *map[string]string (key=value
// pairs, one flag per pair) or *time.Duration.
//
// personFlags and machineFlags are the one definition of the exec args:
// AddFlags binds pflag from them, ExecArgs writes the stanza from them, and
// ParseExecArgsQuick reads it with them. They are static data (constants
// and func literals that capture nothing), which the compiler lays out in
// the binary: the small exec program runs no init code and allocates
// nothing for them on its every start.
type execFlag[S Flags | grant.Machine] struct {
	name  string
	field func(*S) any
	// defString is a string flag's default, defDuration a duration
	// flag's; the zero value is no default.
	defString   string
	defDuration time.Duration
	usage       string
	// usageList, when set, lists the flag's values after usage, from
	// their registry (the grants, the CI systems).
	usageList func() string
}

// The flag names other code refers to.
const (
	grantFlag         = "grant"
	ciTokenSourceFlag = "ci-token-source"
	tokenCacheFlag    = "token-cache"
	cacheDirFlag      = "cache-dir"
)

// personFlags are Flags' own exec args, in the order ExecArgs writes them.
var personFlags = [...]execFlag[Flags]{
	{name: "cluster-name", field: func(a *Flags) any { return &a.Cluster }, usage: "Name of the cluster, shown in messages"},
	{name: "oidc-issuer-url", field: func(a *Flags) any { return &a.Issuer }, usage: "OIDC issuer URL"},
	{name: "oidc-client-id", field: func(a *Flags) any { return &a.ClientID }, usage: "OIDC client ID"},
	{name: "oidc-extra-scope", field: func(a *Flags) any { return &a.ExtraScopes }, usage: "Extra scopes to request (openid is always requested); repeatable"},
	{name: "oidc-auth-request-extra-params", field: func(a *Flags) any { return &a.ExtraParams }, usage: "Extra authorization request parameters, key=value; repeatable"},
	{name: "oidc-ca-file", field: func(a *Flags) any { return &a.OIDCCAFile }, usage: "PEM CA bundle for a privately issued OIDC issuer (default: system roots)"},
	{name: "server", field: func(a *Flags) any { return &a.Server }, usage: "Token binding: the API server URL tokens may be sent to"},
	{name: "tls-server-name", field: func(a *Flags) any { return &a.TLSServerName }, usage: "Token binding: the name kubectl must verify the server certificate for (default: the --server host)"},
	{name: "pin", field: func(a *Flags) any { return &a.Pins }, usage: "Token binding: sha256:<hex SPKI> pin of the CA kubectl must trust; repeatable"},
	{name: tokenCacheFlag, field: func(a *Flags) any { return &a.TokenCache }, usage: "Token store: auto, keyring, file or none (default: $SECUREKAPI_TOKEN_CACHE, else auto)"},
	{name: cacheDirFlag, field: func(a *Flags) any { return &a.CacheDir }, usage: "Directory for the file store and lock files (default: $SECUREKAPI_CACHE_DIR, else the user cache dir)"},
	{name: grantFlag, field: func(a *Flags) any { return &a.Grant }, defString: grant.Auto, usage: "Login flow", usageList: grantUsage},
	{name: "browser-command", field: func(a *Flags) any { return &a.BrowserCmd }, usage: "Command to open the login URL with (default: the system's opener)"},
	{name: "login-timeout", field: func(a *Flags) any { return &a.LoginTimeout }, defDuration: 5 * time.Minute, usage: "How long to wait for a login to finish"},
	{name: "expiry-margin", field: func(a *Flags) any { return &a.ExpiryMargin }, defDuration: token.DefaultExpiryMargin, usage: "Treat tokens as expired this long before they really expire"},
	{name: "listen-address", field: func(a *Flags) any { return &a.BindAddresses }, usage: "Address for the browser flow's loopback callback (default 127.0.0.1:0)"},
}

// machineFlags are Machine's exec args, written after personFlags. `use
// --ci` binds them too (AddMachineFlags), but for --ci-token-source, which
// it calls --ci; so their help speaks to both.
var machineFlags = [...]execFlag[grant.Machine]{
	{name: "audience", field: func(m *grant.Machine) any { return &m.Audience }, usage: "CI grants: the audience the API server expects in the token (default: the client ID, --oidc-client-id; with use --ci and the ci-token grant: the profile's CI audience, else the cluster's server URL)"},
	{name: ciTokenSourceFlag, field: func(m *grant.Machine) any { return &m.CISource }, usage: "Where the CI's own OIDC token comes from, for the grants that read it", usageList: ci.SourceList},
	{name: "ci-token-var", field: func(m *grant.Machine) any { return &m.CITokenVar }, usage: "The variable holding the CI token: the GitLab job's id_tokens name, or the env source's variable"},
	{name: "ci-token-file", field: func(m *grant.Machine) any { return &m.CITokenFile }, usage: "The file of the file source, read afresh each time (e.g. a projected service-account token)"},
	{name: "ci-token-audience", field: func(m *grant.Machine) any { return &m.CITokenAudience }, usage: "The audience to ask GitHub for (default: --audience for ci-token, the cluster's issuer for token-exchange)"},
	{name: "token-exchange-connector-id", field: func(m *grant.Machine) any { return &m.ExchangeConnectorID }, usage: "Token exchange: Dex's connector_id for the CI issuer (Dex requires it)"},
	{name: "client-secret-file", field: func(m *grant.Machine) any { return &m.ClientSecretFile }, usage: "client-credentials (or a confidential client's token exchange): the file the client secret is read from (never pass the secret itself)"},
	{name: "client-secret-env", field: func(m *grant.Machine) any { return &m.ClientSecretEnv }, usage: "client-credentials (or a confidential client's token exchange): the environment variable the client secret is read from (its name, not its value)"},
}

// grantUsage lists the grants, a person's first.
func grantUsage() string { return grant.Usage(true) + "; with no person (CI): " + grant.Usage(false) }

// AddFlags binds the flags.
func (a *Flags) AddFlags(fs *pflag.FlagSet) {
	for i := range personFlags {
		personFlags[i].bind(fs, a)
	}
	for i := range machineFlags {
		machineFlags[i].bind(fs, &a.Machine)
	}
}

// AddStoreFlags binds the token store's flags alone, --token-cache and
// --cache-dir, from the rows AddFlags binds them with: for a command that
// opens the store for every context at once (status), whose OIDC settings
// come from each context's stanza.
func (a *Flags) AddStoreFlags(fs *pflag.FlagSet) {
	a.addNamedFlags(fs, tokenCacheFlag, cacheDirFlag)
}

// AddTokenCacheFlag binds --token-cache alone, from the row AddFlags binds
// it with: for `use`, which writes the choice into the stanza.
func (a *Flags) AddTokenCacheFlag(fs *pflag.FlagSet) {
	a.addNamedFlags(fs, tokenCacheFlag)
}

func (a *Flags) addNamedFlags(fs *pflag.FlagSet, names ...string) {
	for i := range personFlags {
		if slices.Contains(names, personFlags[i].name) {
			personFlags[i].bind(fs, a)
		}
	}
}

// AddMachineFlags binds the machine flags that `use --ci` shares with the
// exec stanza: all but --ci-token-source, whose value use takes as --ci.
func AddMachineFlags(fs *pflag.FlagSet, m *grant.Machine) {
	for i := range machineFlags {
		if machineFlags[i].name != ciTokenSourceFlag {
			machineFlags[i].bind(fs, m)
		}
	}
}

// ExecArgs writes a as the exec args `use` puts after `credential`, from
// the tables AddFlags binds, so the stanza's writer and its readers
// (ParseExecArgs, ParseExecArgsQuick) share one definition of every flag.
// A flag is written when it holds a value other than its default (a zero
// value means unset: the default applies), in the tables' order, in the
// `--name value` form the quick parse reads: once per element of a list,
// once per key=value parameter, by key. A CI stanza always names its
// grant, auto included, so a reader sees it has one.
func (a *Flags) ExecArgs() []string {
	ci := a.MachineGrant() || a.Machine != (grant.Machine{})
	var args []string
	for i := range personFlags {
		f := &personFlags[i]
		args = f.appendExecArgs(args, a, ci && f.name == grantFlag)
	}
	for i := range machineFlags {
		args = machineFlags[i].appendExecArgs(args, &a.Machine, false)
	}
	return args
}

func (f *execFlag[S]) bind(fs *pflag.FlagSet, s *S) {
	usage := f.usage
	if f.usageList != nil {
		usage += ": " + f.usageList()
	}
	switch p := f.field(s).(type) {
	case *string:
		fs.StringVar(p, f.name, f.defString, usage)
	case *[]string:
		fs.StringSliceVar(p, f.name, nil, f.usage)
	case *map[string]string:
		fs.StringToStringVar(p, f.name, nil, f.usage)
	case *time.Duration:
		fs.DurationVar(p, f.name, f.defDuration, f.usage)
	default:
		panic("access: exec flag --" + f.name + " has a field of no kind the table knows")
	}
}

// setDefault sets f's field in s to its default, as binding it would.
func (f *execFlag[S]) setDefault(s *S) {
	if f.defString == "" && f.defDuration == 0 {
		return // the zero value it has
	}
	switch p := f.field(s).(type) {
	case *string:
		*p = f.defString
	case *time.Duration:
		*p = f.defDuration
	}
}

// setQuick sets f's field in s to v as pflag would, or reports false.
func (f *execFlag[S]) setQuick(s *S, v string) bool {
	switch p := f.field(s).(type) {
	case *string:
		*p = v
		return true
	case *[]string:
		return appendListValue(p, v)
	case *map[string]string:
		return setKeyValue(p, v)
	case *time.Duration:
		return setDuration(p, v)
	}
	return false
}

// appendExecArgs appends f's value in s as exec args: nothing when it is
// unset (zero, or its default) unless always is set and it is not empty.
func (f *execFlag[S]) appendExecArgs(args []string, s *S, always bool) []string {
	flag := "--" + f.name
	switch p := f.field(s).(type) {
	case *string:
		if *p != "" && (*p != f.defString || always) {
			args = append(args, flag, *p)
		}
	case *[]string:
		for _, e := range *p {
			args = append(args, flag, e)
		}
	case *map[string]string:
		for _, k := range slices.Sorted(maps.Keys(*p)) {
			args = append(args, flag, k+"="+(*p)[k])
		}
	case *time.Duration:
		if *p != 0 && *p != f.defDuration {
			args = append(args, flag, p.String())
		}
	}
	return args
}
