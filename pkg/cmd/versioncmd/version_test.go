package versioncmd

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/securekapi/securekapi/pkg/cmd/cmdtest"
)

func TestNewCmdVersionFlags(t *testing.T) {
	var got *VersionOptions
	cmd := newCmdVersion(cmdtest.Factory(nil), func(o *VersionOptions) error { got = o; return nil })
	if err := cmdtest.Execute(cmd, "-o", "json"); err != nil || got.Output != "json" {
		t.Fatalf("version -o json: %v, options %+v", err, got)
	}
	if err := cmdtest.Execute(newCmdVersion(cmdtest.Factory(nil), func(*VersionOptions) error { t.Fatal("ran"); return nil }), "-o", "yaml"); err == nil {
		t.Error("version -o yaml was accepted")
	}
}

// TestVersionRun: the data goes to stdout, as JSON with -o json.
func TestVersionRun(t *testing.T) {
	f := cmdtest.Factory(nil)
	if err := (&VersionOptions{IOStreams: f.IOStreams, Output: "json"}).Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	var info map[string]any
	if err := json.Unmarshal(f.Out.(*bytes.Buffer).Bytes(), &info); err != nil || info["version"] == nil {
		t.Errorf("version -o json printed %q (%v)", f.Out.(*bytes.Buffer).String(), err)
	}
}
