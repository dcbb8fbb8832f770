package cmdutil

import "fmt"

// ExitError asks Execute for a specific exit code (e.g. `run` passes its
// child's code through, `doctor` exits 1 with its own report already printed).
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit status %d", e.Code)
	}
	return e.Err.Error()
}

func (e *ExitError) Unwrap() error { return e.Err }
