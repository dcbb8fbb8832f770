package access

import (
	"strings"
	"time"
	"unicode/utf8"
)

// ParseExecArgsQuick reads the exec args as ParseExecArgs does, without
// pflag, for the small exec program: pflag's set-up of the flag set (a
// Flag, a value and a CSV writer per flag) was a seventh of the fast
// path's page faults on every kubectl call. It takes only the plain forms
// `use` writes: `--name value` and `--name=value` of the flags in the
// tables AddFlags binds (execflags.go), values without the characters
// pflag's CSV and key=value parsing would treat specially. It reports
// false for anything else (another flag, a positional argument, a quote or
// comma in a list value, a value starting with "-"), and the caller then
// parses with pflag (ParseExecArgs) or hands the call to the full CLI,
// which does. Whatever it accepts, pflag reads the same way (quick_test.go
// holds the two equal).
func (a *Flags) ParseExecArgsQuick(args []string) bool {
	*a = Flags{}
	for i := range personFlags {
		personFlags[i].setDefault(a)
	}
	for i := range machineFlags {
		machineFlags[i].setDefault(&a.Machine)
	}
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

// setQuick sets flag name to v as pflag would; false for a flag the
// tables do not hold or a value it does not take.
func (a *Flags) setQuick(name, v string) bool {
	for i := range personFlags {
		if personFlags[i].name == name {
			return personFlags[i].setQuick(a, v)
		}
	}
	for i := range machineFlags {
		if machineFlags[i].name == name {
			return machineFlags[i].setQuick(&a.Machine, v)
		}
	}
	return false
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
