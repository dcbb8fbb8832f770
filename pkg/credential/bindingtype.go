package credential

import "github.com/securekapi/securekapi/pkg/credential/binding"

// Binding is binding.Binding, which lives in its own light package so the
// small exec program runs the one Check without linking this package's OIDC
// dependencies.
type Binding = binding.Binding
