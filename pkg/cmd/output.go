package cmd

import (
	"encoding/json"
	"io"

	"sigs.k8s.io/yaml"
)

// writeStructured writes v to out as indented JSON or as YAML, for -o json
// and -o yaml. It reports false for any other format, which the caller
// prints as text.
func writeStructured(out io.Writer, format string, v any) (bool, error) {
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
