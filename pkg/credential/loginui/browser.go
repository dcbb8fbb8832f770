package loginui

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/securekapi/securekapi/pkg/credential/callerconfig"
)

// SystemBrowser opens a login URL with --browser-command, else the
// system's opener (xdg-open, open, rundll32), without waiting for it.
type SystemBrowser struct {
	// ErrOut gets the browser's chatter when it is a file, and the notice
	// when no browser could start.
	ErrOut io.Writer
	// Getenv is the process environment: KUBERNETES_EXEC_INFO says the
	// login started from a kubeconfig's exec stanza.
	Getenv func(string) string
	// Caller is the client that ran the credential plugin, whose
	// environment the opener gets on the exec path.
	Caller func() *callerconfig.Caller
}

// Open runs command (--browser-command), else the system's opener, with
// the URL. A --browser-command that cannot start is an error; a system
// opener that cannot is a notice, since the URL is printed anyway.
func (b SystemBrowser) Open(command, url string) error {
	name, args := systemOpener()
	if command != "" {
		fields := strings.Fields(command)
		name, args = fields[0], fields[1:]
	}
	if name == "" {
		return nil // no opener: the printed URL is the way
	}
	cmd := exec.Command(name, append(args, url)...)
	if b.Getenv("KUBERNETES_EXEC_INFO") != "" {
		// From a kubeconfig exec stanza, whose env is its writer's: the
		// opener is the system's own, found in the system's directories,
		// and runs with the environment kubectl was started with, never
		// the stanza's PATH, BROWSER or XDG_* (xdg-open runs $BROWSER and
		// the handlers XDG_DATA_DIRS names).
		path, env := execPathOpener(name, b.Caller())
		if path == "" {
			return nil // no system opener: the printed URL is the way
		}
		cmd.Path, cmd.Env = path, env
	}
	// Never our stdout: it may carry an ExecCredential. The browser's
	// chatter goes to stderr only when that is a file the child can share:
	// any other writer would be written by exec's copying goroutine while
	// the login writes to it too.
	if f, ok := b.ErrOut.(*os.File); ok {
		cmd.Stdout, cmd.Stderr = f, f
	}
	if err := cmd.Start(); err != nil {
		if command != "" {
			return fmt.Errorf("--browser-command %q: %w", command, err)
		}
		fmt.Fprintf(b.ErrOut, "Could not open a browser (%v); visit the URL above.\n", err)
		return nil
	}
	go func() { _ = cmd.Wait() }()
	return nil
}

// systemDirs are where the exec path looks for the system's opener.
var systemDirs = []string{"/usr/bin", "/bin", "/usr/local/bin"}

// execPathOpener is the system opener name as a path in the system's own
// directories, and the environment it runs with on the exec path: the
// caller's, read from the parent process, else ours without what chooses
// programs (PATH set to the system's directories, BROWSER and XDG_* dropped).
func execPathOpener(name string, caller *callerconfig.Caller) (string, []string) {
	path := ""
	if runtime.GOOS == "windows" {
		if root := os.Getenv("SystemRoot"); root != "" {
			path = filepath.Join(root, "System32", name+".exe")
		}
	} else {
		for _, dir := range systemDirs {
			if fi, err := os.Stat(filepath.Join(dir, name)); err == nil && fi.Mode().IsRegular() {
				path = filepath.Join(dir, name)
				break
			}
		}
	}
	if caller != nil && caller.FromParent && len(caller.Environ) > 0 {
		return path, caller.Environ
	}
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if k == "PATH" || k == "BROWSER" || strings.HasPrefix(k, "XDG_") && k != "XDG_RUNTIME_DIR" {
			continue
		}
		env = append(env, kv)
	}
	return path, append(env, "PATH="+strings.Join(systemDirs, string(os.PathListSeparator)))
}

func systemOpener() (string, []string) {
	switch runtime.GOOS {
	case "darwin":
		return "open", nil
	case "windows":
		return "rundll32", []string{"url.dll,FileProtocolHandler"}
	default:
		if _, err := exec.LookPath("xdg-open"); err == nil {
			return "xdg-open", nil
		}
		if _, err := exec.LookPath("wslview"); err == nil {
			return "wslview", nil
		}
		return "", nil
	}
}

// canOpenBrowser guesses whether a browser can show up for this user: not
// over SSH or in CI without a display.
func canOpenBrowser(getenv func(string) string) bool {
	switch runtime.GOOS {
	case "darwin", "windows":
		return getenv("SSH_CONNECTION") == "" && getenv("CI") == ""
	}
	if getenv("CI") != "" {
		return false
	}
	if getenv("WSL_DISTRO_NAME") != "" {
		_, err := exec.LookPath("wslview")
		return err == nil
	}
	if getenv("DISPLAY") == "" && getenv("WAYLAND_DISPLAY") == "" {
		return false
	}
	name, _ := systemOpener()
	return name != ""
}
