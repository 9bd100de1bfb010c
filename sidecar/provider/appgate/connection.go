package appgate

import (
	"net/url"
	"strings"

	"github.com/google/uuid"

	"github.com/tokenwarden/tokenwarden/sidecar/secret"
	"github.com/tokenwarden/tokenwarden/sidecar/upstream"
)

// Connection mirrors schemas/connections/appgate.json, which validates it:
// either Username and Password (with ProviderName and DeviceID) or a ready
// bearer Token.
type Connection struct {
	// BaseURL is the controller's admin API, e.g. https://ctl.example.com:8443/admin.
	BaseURL      string       `json:"baseUrl"`
	ProviderName string       `json:"providerName,omitempty"`
	Username     string       `json:"username,omitempty"`
	Password     secret.Value `json:"password,omitempty"`
	// DeviceID identifies the sidecar as an admin device. Empty means the
	// stable id DeriveDeviceID gives for this connection.
	DeviceID string `json:"deviceId,omitempty"`
	// APIVersion pins the peer API version; 0 means negotiate.
	APIVersion int                  `json:"apiVersion,omitempty"`
	Token      secret.Value         `json:"token,omitempty"`
	TLS        *upstream.TLSOptions `json:"tls,omitempty"`
}

// DefaultProvider is the identity provider used when the connection names none.
const DefaultProvider = "local"

// deviceNamespace roots the derived device ids, so they cannot collide with
// UUIDv5s other software derives from the same names.
var deviceNamespace = uuid.NewSHA1(uuid.NameSpaceURL, []byte("https://tokenwarden.dev/appgate/admin-device"))

// DeriveDeviceID returns the device id the sidecar signs in with when the
// connection sets none: a UUIDv5 of the controller URL, provider and user.
// Appgate's own tools use the machine id, which a container does not have
// or share between replicas; this id is the same for the same connection on
// every replica and after every restart, so the controller sees one admin
// device instead of a new one per process.
func DeriveDeviceID(baseURL, providerName, username string) string {
	return uuid.NewSHA1(deviceNamespace, []byte(controllerKey(baseURL)+"\n"+providerName+"\n"+username)).String()
}

// controllerKey is the one spelling of a controller's URL: lower-case scheme
// and host, no trailing slash. Negotiated versions are remembered under it.
func controllerKey(baseURL string) string {
	u, err := url.Parse(strings.TrimSpace(baseURL))
	if err != nil {
		return strings.TrimRight(baseURL, "/")
	}
	u.Scheme = strings.ToLower(u.Scheme)
	u.Host = strings.ToLower(u.Host)
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawQuery, u.Fragment = "", ""
	return u.String()
}

// normalized fills in what the connection may leave out. Its schema has
// already checked every field.
func (c Connection) normalized() (Connection, error) {
	if u, err := url.Parse(c.BaseURL); err != nil || u.Host == "" {
		return c, &upstream.OptionError{Field: "baseUrl", Message: "must be an http(s) URL such as https://controller.example.com:8443/admin"}
	}
	c.BaseURL = controllerKey(c.BaseURL)
	if c.ProviderName == "" {
		c.ProviderName = DefaultProvider
	}
	if c.DeviceID == "" {
		c.DeviceID = DeriveDeviceID(c.BaseURL, c.ProviderName, c.Username)
	} else if id, err := uuid.Parse(c.DeviceID); err != nil {
		return c, &upstream.OptionError{Field: "deviceId", Message: "must be a UUID"}
	} else {
		c.DeviceID = id.String()
	}
	return c, nil
}
