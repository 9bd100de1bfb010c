package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"testing"

	"github.com/tokenwarden/tokenwarden/sidecar/demo"
	"github.com/tokenwarden/tokenwarden/sidecar/httpapi"
	"github.com/tokenwarden/tokenwarden/sidecar/internal/sidecartest"
	"github.com/tokenwarden/tokenwarden/sidecar/metrics"
)

// BenchmarkInvoke runs one action through the whole router (access log,
// metrics, validation, session lookup, upstream call to the 3CX emulator on
// loopback, encoding) as serve wires it. Profile it with
// go test -run '^$' -bench Invoke/nexus -cpuprofile cpu.out -memprofile mem.out ./sidecar/httpapi
func BenchmarkInvoke(b *testing.B) {
	up, err := demo.Start()
	if err != nil {
		b.Fatal(err)
	}
	defer up.Close(context.Background())
	quiet := slog.New(slog.NewJSONHandler(io.Discard, nil))
	m := metrics.New()
	reg := sidecartest.MeteredRegistry(b, m, quiet)
	reg.CheckOutput = false // serve does not check outputs
	srv := sidecartest.Serve(b, httpapi.Options{Registry: reg, Actions: m, Metrics: m.Handler(), Logger: quiet})
	calls := []struct{ name, connection, action string }{
		{"threecx", "threecx", "threecx.revokeSecurityToken"},
		{"appgate", "appgate", "appgate.revokeDeviceTokens"},
		{"nexus", "nexus", "oauth.revokeToken"},
	}
	for _, c := range calls {
		conn, _ := json.Marshal(up.Connections[c.connection])
		input, _ := json.Marshal(up.Try[c.action])
		for _, e := range up.Examples {
			if e.Connection == c.connection && e.Action == c.action {
				input, _ = json.Marshal(e.Input)
			}
		}
		body := []byte(`{"connection":` + string(conn) + `,"input":` + string(input) + `}`)
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				resp, err := http.Post(srv.URL+"/v1/actions/"+c.action, "application/json", bytes.NewReader(body))
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Fatalf("%s: HTTP %d", c.action, resp.StatusCode)
				}
			}
		})
	}
}
