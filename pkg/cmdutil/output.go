package cmdutil

import (
	"encoding/json"
	"fmt"
	"io"

	"sigs.k8s.io/yaml"

	"github.com/securekapi/securekapi/pkg/profile"
)

// WriteStructured writes v to out as indented JSON or as YAML, for -o json
// and -o yaml. It reports false for any other format, which the caller
// prints as text.
func WriteStructured(out io.Writer, format string, v any) (bool, error) {
	switch format {
	case "json":
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return true, enc.Encode(v)
	case "yaml":
		data, err := yaml.Marshal(v)
		if err != nil {
			return true, err
		}
		_, err = out.Write(data)
		return true, err
	}
	return false, nil
}

func OrDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func ValidateOutput(format string) error {
	switch format {
	case "", "json", "yaml":
		return nil
	}
	return fmt.Errorf("unknown output format %q: use json or yaml, or leave -o out for a table", format)
}

func WriteChanges(w io.Writer, name string, changes []profile.Change) {
	if name != "" {
		fmt.Fprintf(w, "%s:\n", name)
	}
	for _, ch := range changes {
		fmt.Fprintf(w, "  %s\n", ch)
	}
}
