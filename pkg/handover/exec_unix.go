//go:build !windows

package handover

import "syscall"

// run replaces this process with the full CLI: kubectl's pipes, signals and
// exit code then belong to it directly.
func run(path string, argv, env []string) (int, error) {
	return 0, syscall.Exec(path, argv, env)
}
