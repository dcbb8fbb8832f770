package kubeconfig

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
)

// TestModifyRefusesAReadOnlyFile: kubectl cannot write a 0444 kubeconfig
// (EACCES); an atomic rename could, and would undo the owner's choice.
func TestModifyRefusesAReadOnlyFile(t *testing.T) {
	dir := t.TempDir()
	readOnly := filepath.Join(dir, "config")
	writeFile(t, readOnly, fileB, 0o444)
	before := readBytes(t, readOnly)

	_, err := (&Store{ExplicitPath: readOnly}).Modify(addSecurekapi("x"), ModifyOptions{})
	if err == nil || !strings.Contains(err.Error(), readOnly+" is read-only (mode 0444)") || !strings.Contains(err.Error(), "chmod u+w") {
		t.Fatalf("err = %v, want the read-only file named with the fix", err)
	}
	if !bytes.Equal(readBytes(t, readOnly), before) || mode(t, readOnly) != 0o444 {
		t.Errorf("the read-only file changed")
	}
	assertNoStrays(t, dir)

	// A dry run still shows the change.
	if _, err := (&Store{ExplicitPath: readOnly}).Modify(addSecurekapi("x"), ModifyOptions{DryRun: true}); err != nil {
		t.Errorf("dry run on a read-only file: %v", err)
	}
}
