// Package callerconfig finds the kubeconfig files the client that ran the
// exec plugin (kubectl, helm, ...) loaded, and tells whether any cluster in
// them, or the client's command line, takes its CA from a file.
//
// Why: KUBERNETES_EXEC_INFO carries the cluster's CA bytes, which the token
// binding checks against the pins. For `certificate-authority: PATH`,
// client-go reads the file once for KUBERNETES_EXEC_INFO and again (and,
// with CA rotation, again later) for its TLS pool. A FIFO, or a file someone
// else rewrites, answers the first read with the pinned CA and a later one
// with a rogue CA (issue #23). So the binding holds only for inline
// certificate-authority-data, and a cluster whose CA comes from a file gets
// no token. The exec info does not say where the bytes came from; the
// client's kubeconfig does.
//
// On Linux the calling client is the parent process, whose command line
// (--kubeconfig, --certificate-authority), environment (KUBECONFIG, HOME)
// and working directory are read from /proc; the exec stanza's own env
// cannot change them. Elsewhere the plugin's own environment stands in
// (SECURITY.md says what that leaves open).
//
// It links the standard library only: the small exec program scans on every
// kubectl call. Scan is a byte search; only a kubeconfig that mentions
// certificate-authority as a key other than certificate-authority-data
// needs the full CLI's parse.
//
// [light] The small exec program (cmd/kubectl-securekapi) links it, so it
// runs on every kubectl call: cmd/kubectl-securekapi's deps tests hold what
// it may import.
package callerconfig

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/securekapi/securekapi/pkg/userfile"
)

// Caller is the client that ran the plugin, as far as its kubeconfig goes.
type Caller struct {
	// Args are its command-line arguments after the program name.
	Args []string
	// Getenv reads its environment.
	Getenv func(string) string
	// Dir is its working directory, against which relative paths resolve.
	Dir string
	// FromParent says the above were read from the parent process, not
	// stood in for by the plugin's own environment.
	FromParent bool
	// Environ is the parent's environment as a list, when FromParent: what
	// a program started on the exec path (the browser opener) inherits
	// instead of the stanza's env.
	Environ []string
}

// parse is the Caller that /proc describes: cmdline and environ as the
// kernel gives them (NUL-terminated strings), cwd its working directory.
// Getenv answers as the caller's own os.Getenv does, from the first entry
// for a name: kubectl decided on KUBECONFIG and HOME that way.
func parse(cmdline, environ, cwd string) *Caller {
	args := split(cmdline)
	if len(args) > 0 {
		args = args[1:]
	}
	list := split(environ)
	getenv := func(k string) string {
		for _, kv := range list {
			if len(kv) > len(k) && kv[len(k)] == '=' && kv[:len(k)] == k {
				return kv[len(k)+1:]
			}
		}
		return ""
	}
	return &Caller{Args: args, Getenv: getenv, Dir: cwd, FromParent: true, Environ: list}
}

// split cuts a /proc list of NUL-terminated strings; the strings share
// nulSeparated's memory.
func split(nulSeparated string) []string {
	return strings.Split(strings.TrimSuffix(nulSeparated, "\x00"), "\x00")
}

// Own is the plugin's own environment standing in for the caller's.
func Own(getenv func(string) string) *Caller {
	dir, _ := os.Getwd()
	return &Caller{Getenv: getenv, Dir: dir}
}

// Verdict is what Scan found.
type Verdict int

const (
	// Inline: no kubeconfig file the caller loaded, and no flag, names a
	// CA file: every CA kubectl trusts is inline data.
	Inline Verdict = iota
	// MaybeFile: a kubeconfig mentions certificate-authority as a key of
	// its own: the full CLI parses it (ClustersWithCAFile).
	MaybeFile
)

// caFlag is kubectl's flag that replaces the CA with a file.
const caFlag = "--certificate-authority"

// Files are the kubeconfig files the caller may have loaded, as client-go's
// loading rules choose them: --kubeconfig, else every file of KUBECONFIG,
// else $HOME/.kube/config (./.kube/config with no HOME); relative ones
// against the caller's directory. Where the command line cannot be read
// for sure (a --kubeconfig after "--" may be a flag's value, which pflag
// still honours), every candidate is named: scanning one more file costs
// time, missing the one kubectl read would cost the binding.
func (c *Caller) Files() []string {
	var files []string
	flagged, sure := c.flagValues("kubeconfig")
	for _, p := range flagged {
		if p != "" {
			files = append(files, c.abs(p))
		}
	}
	if sure && len(files) > 0 {
		return files
	}
	if list := c.Getenv("KUBECONFIG"); list != "" {
		for _, p := range filepath.SplitList(list) {
			if p != "" {
				files = append(files, c.abs(p))
			}
		}
		return files
	}
	// client-go's homedir: an empty HOME makes ./.kube/config.
	return append(files, c.abs(filepath.Join(c.home(), ".kube", "config")))
}

// CAFlag is a --certificate-authority the caller's command line may give.
func (c *Caller) CAFlag() (string, bool) {
	values, _ := c.flagValues("certificate-authority")
	for _, v := range values {
		if v != "" {
			return v, true
		}
	}
	return "", false
}

func (c *Caller) home() string {
	if h := c.Getenv("HOME"); h != "" {
		return h
	}
	return c.Getenv("USERPROFILE") // client-go's homedir on Windows
}

func (c *Caller) abs(p string) string {
	if filepath.IsAbs(p) || c.Dir == "" {
		return p
	}
	return filepath.Join(c.Dir, p)
}

// flagValues are the values of --name anywhere on the command line, in
// either form (--name=value, --name value), with kubectl's normalization
// of "_" to "-" in flag names; sure is false when one stands after "--",
// where it may be an argument or (after a flag that took "--" as its
// value) still a flag.
func (c *Caller) flagValues(name string) (values []string, sure bool) {
	sure = true
	afterDashes := false
	for i := 0; i < len(c.Args); i++ {
		a := c.Args[i]
		if a == "--" {
			afterDashes = true
			continue
		}
		if !strings.HasPrefix(a, "--") {
			continue
		}
		flag, value, hasValue := strings.Cut(a[2:], "=")
		if strings.ReplaceAll(flag, "_", "-") != name {
			continue
		}
		if !hasValue {
			if i+1 >= len(c.Args) {
				continue
			}
			value = c.Args[i+1]
			i++
		}
		values = append(values, value)
		if afterDashes {
			sure = false
		}
	}
	return values, sure
}

// Scan reads the caller's kubeconfig files and reports whether a CA may
// come from a file. A kubeconfig that is not a plain file of the user's or
// root's, writable by no one else, is an error: what kubectl read from it
// cannot be known to be what is read here (a FIFO answers each read
// differently). Missing files are skipped, as client-go skips them.
func Scan(c *Caller) (Verdict, error) {
	if p, ok := c.CAFlag(); ok {
		return MaybeFile, fmt.Errorf("kubectl was run with %s %s: the CA comes from a file, which kubectl reads again after securekapi checks it", caFlag, p)
	}
	verdict := Inline
	for _, path := range c.Files() {
		data, err := ReadKubeconfig(path)
		if err != nil {
			return MaybeFile, err
		}
		if data != nil && MentionsCAFile(data) {
			verdict = MaybeFile
		}
	}
	return verdict, nil
}

// ReadKubeconfig reads a kubeconfig file the caller loaded, refusing one
// that may read differently now than it did for kubectl. A missing file is
// nil, nil, as client-go skips it, once its path shows nobody else could
// have removed it or could make it appear (userfile.CheckPath).
func ReadKubeconfig(path string) ([]byte, error) {
	data, err := userfile.ReadKubeconfig(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("kubeconfig %s: %w", path, err)
	}
	return data, nil
}

// MentionsCAFile reports whether data may name a CA file: it holds the
// word certificate-authority, in any letter case, other than as
// certificate-authority-data, or anything that can spell a key without
// the word. A false "maybe" costs only the full CLI's parse.
//
// It runs on every kubectl call over every kubeconfig the caller loaded
// (a fleet's is megabytes), so it searches in place: no lowered copy,
// each pass a vectorized byte search.
func MentionsCAFile(data []byte) bool {
	// A backslash (JSON and YAML escapes), a "!" (a YAML tag: !!binary
	// spells any key in base64), a NUL, a byte-order mark or invalid UTF-8
	// (client-go reads UTF-16 YAML) can all name the key without the word.
	if bytes.IndexByte(data, '\\') >= 0 || bytes.IndexByte(data, '!') >= 0 || bytes.IndexByte(data, 0) >= 0 ||
		!utf8.Valid(data) || bytes.HasPrefix(data, []byte("\xef\xbb\xbf")) {
		return true
	}
	if !isASCII(data) {
		// Unicode lowering can make the word out of other letters (U+0130,
		// İ, lowers to i): compare as bytes.ToLower spells it.
		return mentionsWord(bytes.ToLower(data), false)
	}
	return mentionsWord(data, true) // ASCII: EqualFold is ToLower's comparison
}

// mentionsWord reports whether data holds certificate-authority, not
// followed by -data, in any ASCII letter case when fold is set. The word's
// one hyphen anchors the search: every occurrence has its own.
func mentionsWord(data []byte, fold bool) bool {
	equal := func(a []byte, word string) bool {
		if fold {
			return bytes.EqualFold(a, []byte(word))
		}
		return string(a) == word
	}
	const before, after, data_ = "certificate", "authority", "-data"
	for from := 0; ; {
		i := bytes.IndexByte(data[from:], '-')
		if i < 0 {
			return false
		}
		i += from
		from = i + 1
		if i < len(before) || len(data)-from < len(after) ||
			!equal(data[i-len(before):i], before) || !equal(data[from:from+len(after)], after) {
			continue
		}
		if rest := data[from+len(after):]; len(rest) < len(data_) || !equal(rest[:len(data_)], data_) {
			return true
		}
	}
}

// isASCII reports whether data holds only ASCII bytes, eight at a time.
func isASCII(data []byte) bool {
	for ; len(data) >= 8; data = data[8:] {
		if binary.LittleEndian.Uint64(data)&0x8080808080808080 != 0 {
			return false
		}
	}
	for _, c := range data {
		if c >= 0x80 {
			return false
		}
	}
	return true
}

// CAFileClusters parses a kubeconfig's bytes and names its clusters for
// server (compared as the token binding compares servers) that take their
// CA from a file: kubeconfig.CAFileClusters, with client-go's own parser,
// which the small program cannot link.
type CAFileClusters func(data []byte, server string) ([]string, error)

// Check refuses a caller whose CA for server may come from a file: a
// --certificate-authority flag, a kubeconfig that may read differently than
// it did for kubectl, or a cluster for server with certificate-authority.
// The error names the file and the fix.
func Check(c *Caller, server string, parse CAFileClusters) error {
	if p, ok := c.CAFlag(); ok {
		return fmt.Errorf("refusing to release a token: kubectl was run with --certificate-authority %s: the CA comes from a file, which kubectl reads again after securekapi checks it; drop the flag, and run `kubectl securekapi use NAME` to write the cluster with its CA inline (certificate-authority-data)", p)
	}
	for _, path := range c.Files() {
		// One read, parsed whole by client-go whatever the scan would say.
		data, err := ReadKubeconfig(path)
		if err != nil {
			return fmt.Errorf("refusing to release a token: %w; run `kubectl securekapi use NAME` to write the cluster with its CA inline (certificate-authority-data)", err)
		}
		if data == nil {
			continue
		}
		names, err := parse(data, server)
		if err != nil {
			return fmt.Errorf("refusing to release a token: kubeconfig %s: %w", path, err)
		}
		if len(names) > 0 {
			return fmt.Errorf("refusing to release a token to %s: the kubeconfig cluster %q in %s takes its CA from a file (certificate-authority), which kubectl reads again after securekapi checks it, so the pins cannot hold; run `kubectl securekapi use NAME` to write the CA inline (certificate-authority-data)", server, names[0], path)
		}
	}
	return nil
}
