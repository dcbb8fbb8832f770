package kuberc

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// lookPath resolves bare names in one bin dir, as exec.LookPath on a PATH
// holding only that dir would.
func lookPath(bin string) func(string) (string, error) {
	return func(name string) (string, error) {
		if filepath.IsAbs(name) {
			return name, nil
		}
		if strings.Contains(name, "/") {
			return "", errors.New("relative path")
		}
		if name == "kubectl-securekapi" || name == "gke-gcloud-auth-plugin" {
			return filepath.Join(bin, name), nil
		}
		return "", errors.New("not found")
	}
}

func TestLocate(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the cases are Unix paths under HOME; on Windows the home is USERPROFILE's")
	}
	env := func(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }
	for name, tc := range map[string]struct {
		env  map[string]string
		want Location
	}{
		"default":          {map[string]string{"HOME": "/home/u"}, Location{Path: "/home/u/.kube/kuberc"}},
		"KUBERC":           {map[string]string{"HOME": "/home/u", "KUBERC": "/etc/kuberc"}, Location{Path: "/etc/kuberc", Explicit: true}},
		"KUBERC=off":       {map[string]string{"HOME": "/home/u", "KUBERC": "off"}, Location{Off: true}},
		"feature gate off": {map[string]string{"HOME": "/home/u", "KUBECTL_KUBERC": "false"}, Location{Off: true}},
	} {
		if got := Locate(env(tc.env)); got != tc.want {
			t.Errorf("%s: Locate = %+v, want %+v", name, got, tc.want)
		}
	}
}

// TestAllows: kubectl 1.37's reading of each policy, for the stanza command
// kubectl-securekapi found on PATH.
func TestAllows(t *testing.T) {
	bin := t.TempDir()
	for name, tc := range map[string]struct {
		kuberc string // "" for no file
		want   bool
		reason string
	}{
		"no file":        {"", true, "no kuberc"},
		"no policy":      {"apiVersion: kubectl.config.k8s.io/v1beta1\nkind: Preference\n", true, "runs every credential plugin"},
		"AllowAll":       {"apiVersion: kubectl.config.k8s.io/v1beta1\nkind: Preference\ncredentialPluginPolicy: AllowAll\n", true, "runs every"},
		"DenyAll":        {"apiVersion: kubectl.config.k8s.io/v1beta1\nkind: Preference\ncredentialPluginPolicy: DenyAll\n", false, "denies every"},
		"listed":         {pref("- command: kubectl-securekapi\n"), true, "allowlists kubectl-securekapi"},
		"listed, name":   {pref("- name: kubectl-securekapi\n"), true, "allowlists"},
		"listed by path": {pref("- command: " + filepath.Join(bin, "kubectl-securekapi") + "\n"), true, "allowlists"},
		"not listed":     {pref("- command: gke-gcloud-auth-plugin\n"), false, "does not name kubectl-securekapi"},
		"a look-alike":   {pref("- command: /tmp/evil/kubectl-securekapi\n"), false, "does not name"},
		"a substring":    {pref("- command: securekapi-helper\n"), false, "does not name"},
		"empty list":     {"apiVersion: kubectl.config.k8s.io/v1beta1\nkind: Preference\ncredentialPluginPolicy: Allowlist\ncredentialPluginAllowlist: []\n", false, "empty"},
		"no list":        {"apiVersion: kubectl.config.k8s.io/v1beta1\nkind: Preference\ncredentialPluginPolicy: Allowlist\n", false, "no credentialPluginAllowlist"},
		"unknown policy": {"apiVersion: kubectl.config.k8s.io/v1beta1\nkind: Preference\ncredentialPluginPolicy: Sometimes\n", false, "does not know"},
		"second document": {"apiVersion: v1\nkind: Other\n---\n" + pref("- command: gke-gcloud-auth-plugin\n") + "---\n" + pref("- command: kubectl-securekapi\n"),
			false, "does not name"},
	} {
		t.Run(name, func(t *testing.T) {
			if runtime.GOOS == "windows" && strings.Contains(tc.kuberc, "/tmp/evil") {
				t.Skip("a Unix path is not a normalized path on Windows: kubectl refuses it for that reason there")
			}
			path := filepath.Join(t.TempDir(), "kuberc")
			if tc.kuberc != "" {
				if err := os.WriteFile(path, []byte(tc.kuberc), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			f, err := Read(Location{Path: path})
			if err != nil {
				t.Fatal(err)
			}
			v := f.Allows("kubectl-securekapi", lookPath(bin))
			if v.Allowed != tc.want || !strings.Contains(v.Reason, tc.reason) {
				t.Errorf("Allows = %+v, want allowed %v with %q", v, tc.want, tc.reason)
			}
		})
	}
}

func pref(entries string) string {
	return "apiVersion: kubectl.config.k8s.io/v1beta1\nkind: Preference\ncredentialPluginPolicy: Allowlist\ncredentialPluginAllowlist:\n" + entries
}

// TestAllowKeepsTheRest: the edit adds our entry and keeps every other
// document, key, entry and comment, and what it writes reads back as
// allowing us (and, when it turns the policy on, the plugins to keep).
func TestAllowKeepsTheRest(t *testing.T) {
	bin := t.TempDir()
	for name, tc := range map[string]struct {
		kuberc      string
		keep        []string
		wantLines   string
		wantAllowed []string
		wantRefused []string
	}{
		"add to an allowlist": {
			kuberc:    "# my kubectl preferences\n" + pref("- command: gke-gcloud-auth-plugin # GKE\n") + "aliases:\n- name: getn\n  command: get\n  prependArgs: [nodes]\n",
			wantLines: "add kubectl-securekapi", wantAllowed: []string{"kubectl-securekapi", "gke-gcloud-auth-plugin"},
		},
		"DenyAll": {
			kuberc:    "apiVersion: kubectl.config.k8s.io/v1beta1\nkind: Preference\ncredentialPluginPolicy: DenyAll\n",
			keep:      []string{"gke-gcloud-auth-plugin"},
			wantLines: "from DenyAll to Allowlist", wantAllowed: []string{"kubectl-securekapi"}, wantRefused: []string{"gke-gcloud-auth-plugin"},
		},
		"no policy": {
			kuberc:    "apiVersion: kubectl.config.k8s.io/v1beta1\nkind: Preference\ndefaults:\n- command: get\n  options:\n  - name: output\n    default: wide\n",
			keep:      []string{"gke-gcloud-auth-plugin", "kubectl-securekapi"},
			wantLines: "keep allowing the credential plugins your kubeconfig runs: gke-gcloud-auth-plugin", wantAllowed: []string{"kubectl-securekapi", "gke-gcloud-auth-plugin"},
		},
		"no file": {
			keep:      []string{"gke-gcloud-auth-plugin"},
			wantLines: "turn on credentialPluginPolicy: Allowlist", wantAllowed: []string{"kubectl-securekapi", "gke-gcloud-auth-plugin"},
		},
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "kuberc")
			if tc.kuberc != "" {
				if err := os.WriteFile(path, []byte(tc.kuberc), 0o640); err != nil {
					t.Fatal(err)
				}
			}
			f, err := Read(Location{Path: path})
			if err != nil {
				t.Fatal(err)
			}
			c, err := f.Allow("kubectl-securekapi", tc.keep)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(strings.Join(c.Lines, "\n"), tc.wantLines) {
				t.Errorf("lines %q lack %q", c.Lines, tc.wantLines)
			}
			if err := f.Write(c); err != nil {
				t.Fatal(err)
			}
			after, err := Read(Location{Path: path})
			if err != nil {
				t.Fatal(err)
			}
			for _, cmd := range tc.wantAllowed {
				if v := after.Allows(cmd, lookPath(bin)); !v.Allowed {
					t.Errorf("after the edit %s is refused: %s\n%s", cmd, v.Reason, c.Content())
				}
			}
			for _, cmd := range tc.wantRefused {
				if v := after.Allows(cmd, lookPath(bin)); v.Allowed {
					t.Errorf("after the edit %s is allowed:\n%s", cmd, c.Content())
				}
			}
			written, _ := os.ReadFile(path)
			for _, kept := range []string{"# my kubectl preferences", "# GKE", "getn", "prependArgs", "default: wide"} {
				if strings.Contains(tc.kuberc, kept) && !strings.Contains(string(written), kept) {
					t.Errorf("the edit dropped %q:\n%s", kept, written)
				}
			}
			fi, _ := os.Stat(path)
			if runtime.GOOS == "windows" {
				return // no Unix modes on Windows; the rest was checked above
			}
			if want := os.FileMode(0o640); tc.kuberc == "" {
				if fi.Mode().Perm() != 0o600 {
					t.Errorf("new kuberc mode %v, want 0600", fi.Mode().Perm())
				}
			} else if fi.Mode().Perm() != want {
				t.Errorf("mode %v, want the file's own %v", fi.Mode().Perm(), want)
			}
		})
	}
}

// TestAllowRefusesWhatItCannotEditSafely: a misconfigured allowlist or an
// older Preference version is the user's to fix; nothing is written.
func TestAllowRefusesWhatItCannotEditSafely(t *testing.T) {
	for name, kuberc := range map[string]string{
		"empty allowlist": "apiVersion: kubectl.config.k8s.io/v1beta1\nkind: Preference\ncredentialPluginPolicy: Allowlist\ncredentialPluginAllowlist: []\n",
		"v1alpha1":        "apiVersion: kubectl.config.k8s.io/v1alpha1\nkind: Preference\n",
		"unknown policy":  "apiVersion: kubectl.config.k8s.io/v1beta1\nkind: Preference\ncredentialPluginPolicy: Sometimes\n",
	} {
		path := filepath.Join(t.TempDir(), "kuberc")
		if err := os.WriteFile(path, []byte(kuberc), 0o600); err != nil {
			t.Fatal(err)
		}
		f, err := Read(Location{Path: path})
		if err != nil {
			t.Fatal(err)
		}
		if c, err := f.Allow("kubectl-securekapi", nil); err == nil {
			t.Errorf("%s: Allow planned\n%s", name, c.Content())
		}
	}
}
