package upstream_test

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tokenwarden/tokenwarden/sidecar/upstream"
)

// An on-premise upstream with a certificate no public CA signed.
func TestUpstreamTLSOptions(t *testing.T) {
	var sawClientCert bool
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sawClientCert = r.TLS != nil && len(r.TLS.PeerCertificates) > 0
	}))
	srv.TLS = &tls.Config{ClientAuth: tls.RequestClientCert}
	srv.StartTLS()
	defer srv.Close()
	caPEM := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}))
	f := upstream.NewFactory(upstream.Config{Destinations: upstream.Destinations{AllowLoopback: true}, Retry: upstream.RetryPolicy{MaxAttempts: 1}})
	get := func(opts *upstream.TLSOptions) error {
		c, err := f.Client(opts)
		if err != nil {
			return err
		}
		resp, err := c.Get(srv.URL)
		if err == nil {
			resp.Body.Close()
		}
		return err
	}
	if err := get(nil); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("an unknown certificate was trusted: %v", err)
	}
	if err := get(&upstream.TLSOptions{CACertPEM: caPEM}); err != nil {
		t.Fatalf("with the CA bundle: %v", err)
	}
	if err := get(&upstream.TLSOptions{AllowUnauthorizedCerts: true}); err != nil {
		t.Fatalf("with allowUnauthorizedCerts: %v", err)
	}
	certPEM, keyPEM := clientCertificate(t)
	if err := get(&upstream.TLSOptions{CACertPEM: caPEM, ClientCertPEM: certPEM, ClientKeyPEM: keyPEM}); err != nil || !sawClientCert {
		t.Fatalf("client certificate not presented: %v", err)
	}
	_, err := f.Client(&upstream.TLSOptions{CACertPEM: "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----"})
	if oe, ok := err.(*upstream.OptionError); !ok || oe.Field != "tls.caCertPem" {
		t.Fatalf("bad CA bundle: %v", err)
	}
	_, err = f.Client(&upstream.TLSOptions{ClientCertPEM: certPEM, ClientKeyPEM: "-----BEGIN PRIVATE KEY-----\nCANARY\n-----END PRIVATE KEY-----"})
	if oe, ok := err.(*upstream.OptionError); !ok || oe.Field != "tls.clientCertPem" || strings.Contains(oe.Message, "CANARY") {
		t.Fatalf("bad client key: %v", err)
	}
}

func clientCertificate(t *testing.T) (string, string) {
	t.Helper()
	// httptest's own certificate and key serve as a client certificate.
	cert := httptest.NewTLSServer(http.NotFoundHandler())
	defer cert.Close()
	c := cert.TLS.Certificates[0]
	key, err := x509.MarshalPKCS8PrivateKey(c.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Certificate[0]})),
		string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: key}))
}
