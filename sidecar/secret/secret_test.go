package secret

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestValueNeverPrints(t *testing.T) {
	const canary = "canary-s3cr3t-value"
	v := Value(canary)
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("x", "secret", v)
	js, err := json.Marshal(struct{ S Value }{v})
	if err != nil {
		t.Fatal(err)
	}
	for name, out := range map[string]string{
		//lint:ignore S1025 what fmt's %s verb prints is the point of the test
		"%s": fmt.Sprintf("%s", v), "%v": fmt.Sprintf("%v", v), "%#v": fmt.Sprintf("%#v", v),
		"%+v struct": fmt.Sprintf("%+v", struct{ S Value }{v}), "json": string(js), "slog": logs.String(),
	} {
		if strings.Contains(out, canary) {
			t.Errorf("%s printed the secret: %s", name, out)
		}
	}
	if v.Reveal() != canary {
		t.Fatalf("Reveal = %q", v.Reveal())
	}
	var back Value
	if err := json.Unmarshal([]byte(`"`+canary+`"`), &back); err != nil || back.Reveal() != canary {
		t.Fatalf("UnmarshalJSON = %q, %v", back.Reveal(), err)
	}
}
