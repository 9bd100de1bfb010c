package audit

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestFileSinkAppendsOneLinePerEvent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	sink, closer, err := OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"r1", "r2"} {
		if err := sink.Write(Event{Time: time.Unix(0, 0).UTC(), RequestID: id, Action: "threecx.revokeSecurityToken", Outcome: "succeeded", Status: 200}); err != nil {
			t.Fatal(err)
		}
	}
	closer.Close()
	st, _ := os.Stat(path)
	if st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", st.Mode().Perm())
	}
	f, _ := os.Open(path)
	defer f.Close()
	var ids []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var e Event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, e.RequestID)
	}
	if strings.Join(ids, ",") != "r1,r2" {
		t.Fatalf("lines %v", ids)
	}
}

func TestFingerprintHidesTheSecret(t *testing.T) {
	fp := Fingerprint("canary-token-value")
	if strings.Contains(fp, "canary") || fp != Fingerprint("canary-token-value") || fp == Fingerprint("other") {
		t.Fatal(fp)
	}
}
