package authnconfig

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

// The version is picked from the server, and a version the server does not
// read is refused before anything is written.
func TestChooseFileVersion(t *testing.T) {
	v := func(minor int) *ServerVersion { return &ServerVersion{Major: 1, Minor: minor} }
	gv := func(g schema.GroupVersion) *schema.GroupVersion { return &g }
	if got, err := ChooseFileVersion(v(37), nil); err != nil || got != V1 {
		t.Errorf("1.37: %v %v, want v1", got, err)
	}
	if got, err := ChooseFileVersion(v(33), nil); err != nil || got != V1beta1 {
		t.Errorf("1.33: %v %v, want v1beta1", got, err)
	}
	if got, err := ChooseFileVersion(v(36), gv(V1beta1)); err != nil || got != V1beta1 {
		t.Errorf("1.36 asked v1beta1: %v %v", got, err)
	}
	if _, err := ChooseFileVersion(v(33), gv(V1)); err == nil || !strings.Contains(err.Error(), "does not read apiserver.config.k8s.io/v1") || !strings.Contains(err.Error(), "--api-version v1beta1") {
		t.Errorf("1.33 asked v1: %v", err)
	}
	if _, err := ChooseFileVersion(v(29), nil); err == nil || !strings.Contains(err.Error(), "--oidc-* flags") {
		t.Errorf("1.29: %v", err)
	}
	if _, err := ChooseFileVersion(nil, nil); err == nil || !strings.Contains(err.Error(), "--api-version") {
		t.Errorf("offline with no version: %v", err)
	}
	if sv, err := ParseServerVersion("1", "30+"); err != nil || sv != (ServerVersion{Major: 1, Minor: 30}) {
		t.Errorf(`ParseServerVersion("1", "30+") = %v, %v`, sv, err)
	}
}
