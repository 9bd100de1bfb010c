package main

import (
	"context"
	"encoding/json"

	"github.com/tokenwarden/tokenwarden/sidecar/emulator/appgateemu"
)

// startAppgate runs the Appgate SDP controller emulator with its seeded
// devices. The revocation targets one device by its full DN (a starts-with
// filter that matches exactly it), as a flow revoking one laptop would.
func startAppgate(ctx context.Context) (*upstreamUnderTest, error) {
	emu := appgateemu.New(appgateemu.Options{})
	devices := emu.Devices()
	dn, _ := json.Marshal(devices[0].DistinguishedName)
	revoke := benchAction{"appgate.revokeDeviceTokens", `{"distinguishedNameFilter": ` + string(dn) + `, "revocationReason": "twbench"}`}
	u := &upstreamUnderTest{
		Provider: "appgate",
		SignIns:  func() int64 { return int64(emu.Logins()) },
		Latency: []benchAction{
			revoke,
			{"appgate.listOnboardedDevices", `{"range": "0-9", "orderBy": "lastSeenAt", "descending": true}`},
		},
		Hot:   revoke,
		Burst: revoke,
	}
	if err := u.serve(ctx, emu); err != nil {
		return nil, err
	}
	creds := emu.Credentials()
	u.Connection = func() any {
		return map[string]any{"baseUrl": u.URL + "/admin", "providerName": creds.ProviderName, "username": creds.Username, "password": creds.Password}
	}
	return u, nil
}
