package main

import "testing"

// TestInvokedAs: the small program's hand-over replaces argv[0] with the
// full CLI's path, and names itself in the hand-over variable.
func TestInvokedAs(t *testing.T) {
	for _, c := range []struct{ by, argv0, want string }{
		{"", "/usr/local/bin/securekapi", "securekapi"},
		{"", "securekapi.exe", "securekapi"},
		{"/home/u/.krew/bin/kubectl-securekapi", "/home/u/.krew/store/securekapi/v1/securekapi", "kubectl-securekapi"},
	} {
		if got := invokedAs(c.by, c.argv0); got != c.want {
			t.Errorf("invokedAs(%q, %q) = %q, want %q", c.by, c.argv0, got, c.want)
		}
	}
}
