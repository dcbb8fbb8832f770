package kubeconfig

import (
	"errors"
	"io/fs"
	"os"
	"strconv"
	"strings"
)

// processIdentity is pid's start time (field 22 of /proc/<pid>/stat, clock
// ticks since boot) and its pid namespace.
func processIdentity(pid int) (start, pidns string) {
	start, _, _ = procStat(pid)
	pidns, _ = os.Readlink("/proc/self/ns/pid")
	return start, pidns
}

// processGone: no process has pid, or it is a zombie, or it started at
// another time than start (the pid was reused).
func processGone(pid int, start string) bool {
	gotStart, state, err := procStat(pid)
	if errors.Is(err, fs.ErrNotExist) {
		return true
	}
	if err != nil || start == "" {
		return false
	}
	return state == "Z" || state == "X" || gotStart != start
}

// procStat returns the start time and state of pid from /proc/<pid>/stat.
// The command name (field 2) may hold spaces and parentheses, so fields are
// counted from the last ')'.
func procStat(pid int) (start, state string, err error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return "", "", err
	}
	i := strings.LastIndexByte(string(data), ')')
	if i < 0 {
		return "", "", errors.New("unexpected /proc stat format")
	}
	fields := strings.Fields(string(data[i+1:]))
	// fields[0] is field 3 (state), so field 22 (starttime) is fields[19].
	if len(fields) < 20 {
		return "", "", errors.New("unexpected /proc stat format")
	}
	return fields[19], fields[0], nil
}
