package appgate

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/google/uuid"

	"github.com/tokenwarden/tokenwarden/sidecar/action"
)

// Connection is how the sidecar reaches one Appgate SDP controller and who it
// signs in as. Either Username and Password (with ProviderName and DeviceID)
// or a ready bearer Token.
type Connection struct {
	// BaseURL is the controller's admin API, e.g. https://ctl.example.com:8443/admin.
	BaseURL      string `json:"baseUrl"`
	ProviderName string `json:"providerName,omitempty"`
	Username     string `json:"username,omitempty"`
	Password     string `json:"password,omitempty"`
	// DeviceID identifies the sidecar as an admin device. Empty means the
	// stable id DeriveDeviceID gives for this connection.
	DeviceID string `json:"deviceId,omitempty"`
	// APIVersion pins the peer API version; 0 means negotiate.
	APIVersion int `json:"apiVersion,omitempty"`
	// Token is a ready bearer token, used instead of signing in.
	Token string     `json:"token,omitempty"`
	TLS   TLSOptions `json:"tls,omitzero"`
}

// DefaultProvider is the identity provider used when the connection names none.
const DefaultProvider = "local"

// deviceNamespace roots the derived device ids, so they cannot collide with
// UUIDv5s other software derives from the same names.
var deviceNamespace = uuid.NewSHA1(uuid.NameSpaceURL, []byte("https://tokenwarden.dev/appgate/admin-device"))

// DeriveDeviceID returns the device id the sidecar signs in with when the
// connection sets none: a UUIDv5 of the controller URL, provider and user, so
// the same connection is always the same admin device on the controller, and
// every sidecar replica with that connection shares it.
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

// normalized fills in the defaults (provider, device id) and checks the
// connection as a whole, naming every bad field at once.
func (c Connection) normalized() (Connection, error) {
	var errs []action.FieldError
	bad := func(field, format string, args ...any) {
		errs = append(errs, action.FieldError{Field: "connection." + field, Message: fmt.Sprintf(format, args...)})
	}
	u, err := url.Parse(c.BaseURL)
	switch {
	case err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "":
		bad("baseUrl", "must be an http(s) URL such as https://controller.example.com:8443/admin")
	case u.User != nil:
		bad("baseUrl", "must not carry credentials; use username and password")
	}
	c.BaseURL = controllerKey(c.BaseURL)
	if c.ProviderName == "" {
		c.ProviderName = DefaultProvider
	}
	if c.Token == "" {
		if c.Username == "" {
			bad("username", "is required unless a token is given")
		}
		if c.Password == "" {
			bad("password", "is required unless a token is given")
		}
	}
	if c.APIVersion != 0 && c.APIVersion < MinVersion {
		bad("apiVersion", "must be %d or more: older peer API versions cannot revoke device tokens", MinVersion)
	}
	if c.DeviceID == "" {
		c.DeviceID = DeriveDeviceID(c.BaseURL, c.ProviderName, c.Username)
	} else if id, err := uuid.Parse(c.DeviceID); err != nil {
		bad("deviceId", "must be a UUID")
	} else {
		c.DeviceID = id.String()
	}
	if len(errs) > 0 {
		return c, action.InvalidInput(errs)
	}
	return c, nil
}
