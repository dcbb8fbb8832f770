// Package kubeapiserver builds, checks and judges kube-apiserver's
// structured authentication configuration with kube-apiserver's own code:
// the file is decoded with the API server's scheme (strict, converted,
// defaulted), validated by k8s.io/apiserver's
// ValidateAuthenticationConfiguration with the CEL environment of the
// target server's version, and sample tokens are judged by the API server's
// JWT authenticator itself with the signature check left out. So what this
// package accepts is what kube-apiserver accepts, and a rule that
// kube-apiserver would not compile fails here first. On top it refuses
// mappings kube-apiserver allows but a platform owner should not ship (see
// Policy).
//
// k8s.io/apiserver links grpc, OpenTelemetry and Prometheus, whose package
// init would cost every command: only securekapi-admin, the platform
// owner's program, links this package (cmd/securekapi's tests hold that).
// The settings it builds from are pkg/authnconfig's.
package kubeapiserver

import (
	"errors"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apimachinery/pkg/util/version"
	api "k8s.io/apiserver/pkg/apis/apiserver"
	"k8s.io/apiserver/pkg/apis/apiserver/install"
	"k8s.io/apiserver/pkg/apis/apiserver/validation"
	authenticationcel "k8s.io/apiserver/pkg/authentication/cel"
	"k8s.io/apiserver/pkg/cel/environment"

	"github.com/securekapi/securekapi/pkg/authnconfig"
)

// codecs decode and encode the way kube-apiserver reads the file
// (pkg/kubeapiserver/options/authentication.go): the apiserver.config.k8s.io
// scheme, strict, so an unknown or duplicate field is an error.
func codecs() serializer.CodecFactory {
	scheme := runtime.NewScheme()
	install.Install(scheme)
	return serializer.NewCodecFactory(scheme, serializer.EnableStrict)
}

// Encode writes cfg as a YAML file of the given version.
func Encode(cfg *api.AuthenticationConfiguration, gv schema.GroupVersion) ([]byte, error) {
	cf := codecs()
	info, ok := runtime.SerializerInfoForMediaType(cf.SupportedMediaTypes(), runtime.ContentTypeYAML)
	if !ok {
		return nil, errors.New("no YAML serializer for apiserver.config.k8s.io")
	}
	out, err := runtime.Encode(cf.EncoderForVersion(info.Serializer, gv), cfg)
	if err != nil {
		return nil, fmt.Errorf("encode AuthenticationConfiguration %s: %w", gv, err)
	}
	return out, nil
}

// Decode reads a file exactly as kube-apiserver does, and says which
// version it was written in.
func Decode(data []byte) (*api.AuthenticationConfiguration, schema.GroupVersion, error) {
	if len(data) == 0 {
		return nil, schema.GroupVersion{}, errors.New("empty authentication configuration")
	}
	obj, gvk, err := codecs().UniversalDecoder().Decode(data, nil, nil)
	if err != nil {
		return nil, schema.GroupVersion{}, fmt.Errorf("kube-apiserver would not read this file: %w", err)
	}
	cfg, ok := obj.(*api.AuthenticationConfiguration)
	if !ok {
		return nil, schema.GroupVersion{}, fmt.Errorf("expected an AuthenticationConfiguration, got %s", gvk.Kind)
	}
	return cfg, gvk.GroupVersion(), nil
}

// Check reads data as kube-apiserver would and validates it with the API
// server's own validation and CEL environment, then with Policy. Every
// problem is in the error, one per line, with the field it is about.
func Check(data []byte, t authnconfig.Target) (*api.AuthenticationConfiguration, error) {
	cfg, gv, err := Decode(data)
	if err != nil {
		return nil, err
	}
	if t.Version != nil {
		if _, err := authnconfig.ChooseFileVersion(t.Version, &gv); err != nil {
			return nil, err
		}
	}
	if err := Validate(cfg, t); err != nil {
		return nil, err
	}
	return cfg, nil
}

// Validate checks a configuration in kube-apiserver's internal form.
func Validate(cfg *api.AuthenticationConfiguration, t authnconfig.Target) error {
	var problems []string
	for _, e := range validation.ValidateAuthenticationConfiguration(compilerFor(t), cfg, t.ServiceAccountIssuers) {
		problems = append(problems, describe(cfg, e))
	}
	problems = append(problems, Policy(cfg, t.Providers)...)
	if len(problems) == 0 {
		return nil
	}
	return &InvalidError{Problems: problems}
}

// InvalidError lists why a configuration is refused.
type InvalidError struct{ Problems []string }

func (e *InvalidError) Error() string {
	return "the authentication configuration is refused:\n  - " + strings.Join(e.Problems, "\n  - ")
}

// compilerFor builds the CEL environment the target server compiles with.
func compilerFor(t authnconfig.Target) authenticationcel.Compiler {
	if t.Version == nil {
		return authenticationcel.NewDefaultCompiler()
	}
	own := environment.DefaultCompatibilityVersion()
	// kube-apiserver compiles with the CEL compatibility version of its
	// binary version minus one (the version it stays compatible with for
	// rollbacks).
	minor := t.Version.Minor - 1
	if minor > int(own.Minor()) {
		minor = int(own.Minor())
	}
	return authenticationcel.NewCompiler(environment.MustBaseEnvSet(version.MajorMinor(1, uint(minor))))
}

// describe says which issuer a field error is about, since jwt[2] means
// little to a platform owner, and words the common ones plainly.
func describe(cfg *api.AuthenticationConfiguration, e *field.Error) string {
	issuer := ""
	var i int
	if _, err := fmt.Sscanf(e.Field, "jwt[%d]", &i); err == nil && i >= 0 && i < len(cfg.JWT) {
		issuer = fmt.Sprintf("issuer %s: ", cfg.JWT[i].Issuer.URL)
	}
	switch {
	case e.Type == field.ErrorTypeDuplicate && strings.HasSuffix(e.Field, "issuer.url"):
		return fmt.Sprintf("%sduplicate issuer: %s appears twice; kube-apiserver takes each issuer once (give one entry all its audiences)", issuer, e.BadValue)
	case e.Type == field.ErrorTypeRequired && strings.HasSuffix(e.Field, "issuer.audiences"):
		return fmt.Sprintf("%smissing audience (%s): bind the issuer's tokens to this cluster with an audience, such as the trusted endpoint's URL", issuer, e.Field)
	case strings.Contains(e.Field, "disallowed") || strings.Contains(e.Detail, "disallowed issuers"):
		return fmt.Sprintf("%s%s: the cluster's service-account issuer is verified by kube-apiserver already and cannot be a JWT issuer too", issuer, e.Field)
	}
	return issuer + e.Error()
}
