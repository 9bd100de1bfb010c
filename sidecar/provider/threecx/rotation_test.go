package threecx_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/tokenwarden/tokenwarden/sidecar/action"
	"github.com/tokenwarden/tokenwarden/sidecar/emulator/threecxemu"
)

// A call still running on the session of the old API key when the key is
// rotated: the new session signs in with the new key, which ends the old
// session's access token, so the running call meets a 401. Its one new
// sign-in must use the new key (the PBX refuses the old one since Generate
// App Token), not fail the call.
func TestCallRunningDuringRotationSignsInWithTheNewKey(t *testing.T) {
	held, release := make(chan struct{}), make(chan struct{})
	var holdOnce sync.Once
	// The running call is the list searching "inflight": its first request
	// waits at the PBX's door until the rotation is done.
	hold := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.Contains(r.URL.RawQuery, "inflight") {
				holdOnce.Do(func() { close(held); <-release })
			}
			next.ServeHTTP(w, r)
		})
	}
	p := newPBXWith(t, threecxemu.Options{}, action.Env{}, hold)
	id, key := p.emu.Credentials()
	profile := func(secret string) map[string]action.Profile {
		b, _ := json.Marshal(map[string]string{"baseUrl": p.srv.URL, "clientId": id, "clientSecret": secret})
		return map[string]action.Profile{"pbx": {Provider: "threecx", Connection: b}}
	}
	if err := p.reg.SetProfiles(profile(key)); err != nil {
		t.Fatal(err)
	}
	call := func(action, input string) (action.Result, error) {
		return p.reg.Invoke(context.Background(), action, envelope("pbx", input))
	}
	// The old session signs in and finds its own principal.
	res, err := call("threecx.listServicePrincipals", `{"filter": "Number eq '`+id+`'"}`)
	if err != nil {
		t.Fatal(err)
	}
	self := items(t, res)[0]["Id"]

	running := make(chan error, 1)
	go func() {
		_, err := call("threecx.listSecurityTokens", `{"search": "inflight"}`)
		running <- err
	}()
	<-held

	res, err = call("threecx.generateAppToken", `{"id": `+jsonNumber(self)+`}`)
	if err != nil {
		t.Fatal(err)
	}
	newKey := data(t, res)["appToken"].(string)
	if _, err := p.reg.ReplaceProfiles(profile(newKey)); err != nil {
		t.Fatal(err)
	}
	// The new session signs in with the new key: the PBX ends the old
	// session's access token (one active token per client).
	if _, err := call("threecx.listRefreshTokens", `{"top": 1}`); err != nil {
		t.Fatalf("the new session: %v", err)
	}
	close(release)
	if err := <-running; err != nil {
		t.Fatalf("the call running during the rotation failed: %v", err)
	}
}

func envelope(profile, input string) action.Envelope {
	return action.Envelope{Profile: profile, Input: json.RawMessage(input)}
}

func jsonNumber(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
