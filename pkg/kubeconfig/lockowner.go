package kubeconfig

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// A securekapi lock file names its owner, so a later securekapi can tell a
// lock left by a killed securekapi (kill -9 runs no cleanup) from one that
// is still held: one line, "securekapi-lock v1 host=H pid=N start=T pidns=X".
// start (the process start time) and pidns are Linux only; they tell a
// reused pid, or the same pid in another container, from the owner. kubectl
// writes its locks empty, and a lock that cannot be read as ours is never
// broken: it is waited for and reported, as kubectl itself does.
const lockOwnerMagic = "securekapi-lock v1"

// lockOwner identifies the process that holds a lock.
type lockOwner struct {
	host  string
	pid   int
	start string // "" where the platform gives none
	pidns string // "" where the platform gives none
}

// currentOwner describes this process.
func currentOwner() lockOwner {
	host, _ := os.Hostname()
	o := lockOwner{host: host, pid: os.Getpid()}
	o.start, o.pidns = processIdentity(o.pid)
	return o
}

func (o lockOwner) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s host=%s pid=%d", lockOwnerMagic, o.host, o.pid)
	if o.start != "" {
		fmt.Fprintf(&b, " start=%s", o.start)
	}
	if o.pidns != "" {
		fmt.Fprintf(&b, " pidns=%s", o.pidns)
	}
	return b.String() + "\n"
}

// parseLockOwner reads a lock file's content. It accepts only a complete
// line, so a lock caught between create and write is not attributed.
func parseLockOwner(content []byte) (lockOwner, bool) {
	line, ok := strings.CutSuffix(string(content), "\n")
	if !ok || strings.Contains(line, "\n") {
		return lockOwner{}, false
	}
	rest, ok := strings.CutPrefix(line, lockOwnerMagic+" ")
	if !ok {
		return lockOwner{}, false
	}
	var o lockOwner
	for _, field := range strings.Fields(rest) {
		key, value, _ := strings.Cut(field, "=")
		switch key {
		case "host":
			o.host = value
		case "pid":
			o.pid, _ = strconv.Atoi(value)
		case "start":
			o.start = value
		case "pidns":
			o.pidns = value
		}
	}
	return o, o.pid > 0 && o.host != ""
}

// provablyDead reports whether o is certainly not running, judged by self
// (this process). Anything short of proof (another host, another pid
// namespace, a platform without start times and a pid now in use) is
// "maybe alive", so its lock is waited for.
func (o lockOwner) provablyDead(self lockOwner) bool {
	if o.host != self.host || o.pidns != self.pidns {
		return false
	}
	if o.pid == self.pid && o.start == self.start {
		return false // this process: another goroutine holds it
	}
	return processGone(o.pid, o.start)
}
