package idempotency

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tokenwarden/tokenwarden/sidecar/internal/redistest"
)

func TestRedisStore(t *testing.T) {
	url := redistest.Start(t).URL
	for name, check := range contract {
		t.Run(name, func(t *testing.T) {
			r, err := NewRedis(context.Background(), url, time.Hour, time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			r.prefix += name + ":" // each check starts with no keys
			check(t, r)
		})
	}
}

func TestRedisURLIsNotEchoed(t *testing.T) {
	_, err := NewRedis(context.Background(), "http://user:CANARY-pass@host", time.Hour, time.Minute)
	if err == nil || strings.Contains(err.Error(), "CANARY") {
		t.Fatalf("%v", err)
	}
}

func TestRedisGoneIsUnavailableNotACallerGoneAway(t *testing.T) {
	srv := redistest.Start(t)
	r, err := NewRedis(context.Background(), srv.URL, time.Hour, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	srv.Kill()
	ran := false
	_, _, err = r.Do(context.Background(), "k", [32]byte{1}, func() Answer { ran = true; return Answer{Status: 200} })
	if !errors.Is(err, ErrUnavailable) || ran {
		t.Fatalf("%v ran=%v", err, ran)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err = r.Do(ctx, "k", [32]byte{1}, func() Answer { return Answer{} }); errors.Is(err, ErrUnavailable) || !errors.Is(err, context.Canceled) {
		t.Fatalf("%v", err)
	}
}
