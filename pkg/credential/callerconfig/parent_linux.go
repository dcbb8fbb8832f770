package callerconfig

import (
	"bytes"
	"os"
	"strconv"
)

// Parent is the process that ran this one, read from /proc: its command
// line, its environment as it was started (the exec stanza's env is ours,
// not its) and its working directory. It returns nil when /proc cannot
// say (hidepid, another mount namespace); the caller then stands in its
// own environment.
func Parent() *Caller {
	dir := "/proc/" + strconv.Itoa(os.Getppid())
	cmdline, err := os.ReadFile(dir + "/cmdline")
	if err != nil {
		return nil
	}
	environ, err := os.ReadFile(dir + "/environ")
	if err != nil {
		return nil
	}
	cwd, err := os.Readlink(dir + "/cwd")
	if err != nil {
		return nil
	}
	args := split(cmdline)
	if len(args) > 0 {
		args = args[1:]
	}
	env := map[string]string{}
	list := split(environ)
	for _, kv := range list {
		if k, v, ok := bytes.Cut([]byte(kv), []byte("=")); ok {
			env[string(k)] = string(v)
		}
	}
	return &Caller{Args: args, Getenv: func(k string) string { return env[k] }, Dir: cwd, FromParent: true, Environ: list}
}

func split(nulSeparated []byte) []string {
	var out []string
	for _, f := range bytes.Split(bytes.TrimRight(nulSeparated, "\x00"), []byte{0}) {
		out = append(out, string(f))
	}
	return out
}
