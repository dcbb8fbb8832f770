// Package kubeapi is the Kubernetes API access securekapi's commands need,
// on client-go's REST client. For the platform owner's commands (expose,
// authn-config): read a ConfigMap's data and a Secret, server-side apply
// YAML documents with kubectl apply --server-side semantics (field
// manager, conflicts, server dry run), /version and the service-account
// issuer. For doctor (Prober): /version without a token, who the API
// server takes the token for, a held watch and an exec upgrade probe, over
// a connection pinned to the token's binding (NewPinned), so the token
// goes only to a server whose chain each handshake verified.
//
// Errors from the API server are client-go's (k8s.io/apimachinery's
// api/errors: IsNotFound, IsForbidden, IsConflict) and IsAPIError says so;
// any other error means the server was not reached or did not answer like
// an API server (UnexpectedAnswer then has the HTTP status and the body,
// such as a proxy's error page).
//
// No request follows a redirect: client-go adds the credential to every
// request its transport sends, so a followed redirect would carry it to
// whatever host the redirect names.
//
// It decodes with a scheme of metav1's Status only, not client-go's typed
// scheme, whose init every full-CLI start would pay for.
package kubeapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"path"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/client-go/rest"
)

// Client is the cluster access a command needs; REST is the real one.
type Client interface {
	// ConfigMapData is a ConfigMap's data.
	ConfigMapData(ctx context.Context, namespace, name string) (map[string]string, error)
	// Secret is a Secret's type and data.
	Secret(ctx context.Context, namespace, name string) (*Secret, error)
	// Apply server-side applies one YAML document (one object).
	Apply(ctx context.Context, doc []byte, o ApplyOptions) (*Applied, error)
}

// Secret is what a command reads of a Secret.
type Secret struct {
	Type string            `json:"type"`
	Data map[string][]byte `json:"data"`
}

// REST is Client and Prober on client-go's REST client.
type REST struct {
	client *rest.RESTClient
	// http is the client's own: the same transport, TLS checks and
	// credential, for the one request client-go cannot send (Upgrade).
	http *http.Client
	// probe turns off client-go's retries (NewPinned): doctor reports the
	// first answer, where client-go would retry a reset GET or a 5xx with
	// Retry-After up to ten times and leave only a timeout to report.
	probe bool
}

// request starts a request with the client's retry rule.
func (r *REST) request(verb string) *rest.Request {
	req := r.client.Verb(verb)
	if r.probe {
		req = req.MaxRetries(0)
	}
	return req
}

// NewREST builds the client for a kubeconfig's rest.Config.
func NewREST(cfg *rest.Config) (*REST, error) {
	c := rest.CopyConfig(cfg)
	c.NegotiatedSerializer = codecs.WithoutConversion()
	if c.UserAgent == "" {
		c.UserAgent = "securekapi"
	}
	httpClient, err := rest.HTTPClientFor(c)
	if err == nil {
		httpClient.CheckRedirect = refuseRedirect
		var client *rest.RESTClient
		if client, err = rest.UnversionedRESTClientForConfigAndClient(c, httpClient); err == nil {
			return &REST{client: client, http: httpClient}, nil
		}
	}
	return nil, fmt.Errorf("kubeconfig cluster %s: %w", cfg.Host, err)
}

// refuseRedirect hands a redirect back as the answer. Go's http.Client
// drops Authorization on a redirect to another host, but client-go's
// bearer-token round tripper sets it again on the redirected request.
func refuseRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// codecs decode the Status the API server sends with an error.
var codecs = func() serializer.CodecFactory {
	s := runtime.NewScheme()
	metav1.AddToGroupVersion(s, schema.GroupVersion{Version: "v1"})
	return serializer.NewCodecFactory(s)
}()

// raw is the body of a successful answer. Result.Raw alone would return
// client-go's guess from the HTTP code (a generic "unexpected server
// response") even when the API server sent its Status; Error decodes it.
func raw(res rest.Result) ([]byte, error) {
	if err := res.Error(); err != nil {
		return nil, err
	}
	return res.Raw()
}

func (r *REST) get(ctx context.Context, apiPath string, out any) error {
	data, err := raw(r.request(http.MethodGet).AbsPath(apiPath).Do(ctx))
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("GET %s: not an API server's answer: %w", apiPath, err)
	}
	return nil
}

// VersionInfo is what the API server's /version says.
type VersionInfo struct {
	Major      string `json:"major"`
	Minor      string `json:"minor"`
	GitVersion string `json:"gitVersion"`
}

// Version reads the API server's /version.
func (r *REST) Version(ctx context.Context) (*VersionInfo, error) {
	var info VersionInfo
	if err := r.get(ctx, "/version", &info); err != nil {
		return nil, err
	}
	return &info, nil
}

// ServiceAccountIssuer is the issuer of the cluster's service-account
// discovery document: the --service-account-issuer kube-apiserver signs with.
func (r *REST) ServiceAccountIssuer(ctx context.Context) (string, error) {
	var doc struct {
		Issuer string `json:"issuer"`
	}
	if err := r.get(ctx, "/.well-known/openid-configuration", &doc); err != nil {
		return "", err
	}
	return doc.Issuer, nil
}

// ConfigMapData reads a ConfigMap's data.
func (r *REST) ConfigMapData(ctx context.Context, namespace, name string) (map[string]string, error) {
	var cm struct {
		Data map[string]string `json:"data"`
	}
	err := r.get(ctx, path.Join("/api/v1/namespaces", namespace, "configmaps", name), &cm)
	return cm.Data, err
}

// Secret reads a Secret.
func (r *REST) Secret(ctx context.Context, namespace, name string) (*Secret, error) {
	var s Secret
	if err := r.get(ctx, path.Join("/api/v1/namespaces", namespace, "secrets", name), &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// IsAPIError reports whether err is the API server's answer (a Status),
// rather than a failure to reach it or an answer from something else,
// such as a proxy's error page (client-go wraps those in a Status too,
// marked as an unexpected server response; see UnexpectedAnswer).
func IsAPIError(err error) bool {
	var status apierrors.APIStatus
	return errors.As(err, &status) && !apierrors.IsUnexpectedServerError(err)
}

// UnexpectedAnswer is the HTTP status and the body (trimmed; "unknown"
// when it was not text) of an answer that was not an API server's Status;
// ok is false for any other error.
func UnexpectedAnswer(err error) (code int, body string, ok bool) {
	var status apierrors.APIStatus
	if !errors.As(err, &status) || !apierrors.IsUnexpectedServerError(err) {
		return 0, "", false
	}
	s := status.Status()
	if s.Details != nil {
		for _, c := range s.Details.Causes {
			if c.Type == metav1.CauseTypeUnexpectedServerResponse {
				body = c.Message
			}
		}
	}
	return int(s.Code), body, true
}
