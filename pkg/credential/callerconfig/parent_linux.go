package callerconfig

import (
	"os"
	"strconv"
	"syscall"
)

// Parent is the process that ran this one, read from /proc: its command
// line, its environment as it was started (the exec stanza's env is ours,
// not its) and its working directory. It returns nil when /proc cannot
// say (hidepid, another mount namespace); the caller then stands in its
// own environment.
func Parent() *Caller {
	dir := "/proc/" + strconv.Itoa(os.Getppid())
	// One buffer for both files, read with plain system calls: this runs
	// on every kubectl call, and an *os.File costs a poller registration,
	// four fcntl calls and a cleanup each, and os.ReadFile's 512-byte first
	// read takes three or four reads of another process's memory for an
	// environment of a few kilobytes.
	buf := make([]byte, 4<<10) // most environments fit; a larger one grows it
	cmdline, buf, err := readProcFile(dir+"/cmdline", buf)
	if err != nil {
		return nil
	}
	args := string(cmdline)
	environ, _, err := readProcFile(dir+"/environ", buf)
	if err != nil {
		return nil
	}
	cwd, err := os.Readlink(dir + "/cwd")
	if err != nil {
		return nil
	}
	return parse(args, string(environ), cwd)
}

// readProcFile reads the whole of a /proc file into buf, growing it as
// needed, and returns the bytes read and the (maybe grown) buffer.
func readProcFile(path string, buf []byte) ([]byte, []byte, error) {
	fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, buf, err
	}
	defer syscall.Close(fd)
	n := 0
	for {
		if n == len(buf) {
			buf = append(buf, make([]byte, len(buf))...)
		}
		m, err := syscall.Read(fd, buf[n:])
		switch {
		case err == syscall.EINTR:
			continue
		case err != nil:
			return nil, buf, err
		case m == 0:
			return buf[:n], buf, nil
		}
		n += m
	}
}
