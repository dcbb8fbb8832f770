package kubeapi

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Prober is the cluster access doctor needs; REST is the real one.
type Prober interface {
	// Version reads /version.
	Version(ctx context.Context) (*VersionInfo, error)
	// WhoAmI is whom the API server takes the credential for.
	WhoAmI(ctx context.Context) (*UserInfo, error)
	// Watch opens a watch on the collection at apiPath and returns the
	// raw event stream; the caller closes it.
	Watch(ctx context.Context, apiPath string, params url.Values) (io.ReadCloser, error)
	// Upgrade sends an HTTP/1.1 upgrade request; nil means the server
	// switched protocols.
	Upgrade(ctx context.Context, apiPath string, params url.Values, header http.Header) error
}

// UserInfo is the user the API server authenticated.
type UserInfo struct {
	Username string   `json:"username"`
	Groups   []string `json:"groups"`
}

// WhoAmI creates a SelfSubjectReview (kubectl auth whoami).
func (r *REST) WhoAmI(ctx context.Context) (*UserInfo, error) {
	const review = `{"apiVersion":"authentication.k8s.io/v1","kind":"SelfSubjectReview"}`
	data, err := raw(r.request(http.MethodPost).AbsPath("/apis/authentication.k8s.io/v1/selfsubjectreviews").
		SetHeader("Content-Type", "application/json").Body([]byte(review)).Do(ctx))
	if err != nil {
		return nil, err
	}
	var answer struct {
		Status struct {
			UserInfo UserInfo `json:"userInfo"`
		} `json:"status"`
	}
	_ = json.Unmarshal(data, &answer)
	return &answer.Status.UserInfo, nil
}

// Watch opens a watch with client-go's Stream.
func (r *REST) Watch(ctx context.Context, apiPath string, params url.Values) (io.ReadCloser, error) {
	req := r.request(http.MethodGet).AbsPath(apiPath).Param("watch", "true")
	for k, vs := range params {
		for _, v := range vs {
			req = req.Param(k, v)
		}
	}
	return req.Stream(ctx)
}

// Upgrade is a raw request, not client-go's SPDY or WebSocket executor:
// those would run the exec, where a probe only needs to see who answers
// the upgrade. It goes through the client's own http.Client, so over the
// same transport, with the same per-handshake checks and credential, and
// no redirect followed. An answer other than 101 comes back as client-go
// would return it: the API server's Status as its error, anything else as
// an unexpected server response.
func (r *REST) Upgrade(ctx context.Context, apiPath string, params url.Values, header http.Header) error {
	u := r.client.Get().AbsPath(apiPath).URL()
	u.RawQuery = params.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return err
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := r.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusSwitchingProtocols {
		return nil
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var s metav1.Status
	if json.Unmarshal(body, &s) == nil && s.Kind == "Status" && s.Code != 0 {
		return &apierrors.StatusError{ErrStatus: s}
	}
	return apierrors.NewGenericServerResponse(resp.StatusCode, http.MethodGet, schema.GroupResource{}, "", string(body), 0, true)
}
