package fleet

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/tokenwarden/tokenwarden/sidecar/upstream"
)

// BenchmarkFleetSignInsPerBurst: each iteration, 100 callers on each of 3
// replicas ask for a token no replica holds yet. Reports sign-ins per
// burst (the target is 1).
func BenchmarkFleetSignInsPerBurst(b *testing.B) {
	_, clock, _, replicas := benchFleet(b, 3)
	total := 0
	for i := 0; b.Loop(); i++ {
		u := &upstreamSignIns{life: time.Hour, now: clock.Now}
		key := upstream.HolderKey{Provider: "threecx", Account: fmt.Sprint("burst-", i)}
		var wg sync.WaitGroup
		for _, r := range replicas {
			h := r.holders.Holder(key, u.signIn)
			for range 100 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if _, err := h.Token(context.Background(), ""); err != nil {
						b.Error(err)
					}
				}()
			}
		}
		wg.Wait()
		total += int(u.n.Load())
	}
	b.ReportMetric(float64(total)/float64(b.N), "signins/burst")
}

// BenchmarkTokenFromMemory is a caller whose replica holds the token.
func BenchmarkTokenFromMemory(b *testing.B) {
	_, clock, _, replicas := benchFleet(b, 1)
	u := &upstreamSignIns{life: time.Hour, now: clock.Now}
	h := replicas[0].holder(u)
	if _, err := h.Token(context.Background(), ""); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := h.Token(context.Background(), ""); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTokenFromRedis is a caller whose replica has not seen the
// fleet's token yet: one GET and one AES-GCM open.
func BenchmarkTokenFromRedis(b *testing.B) {
	_, clock, _, replicas := benchFleet(b, 1)
	u := &upstreamSignIns{life: time.Hour, now: clock.Now}
	if _, err := replicas[0].holder(u).Token(context.Background(), ""); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		// A fresh set of holders is a replica that has not read it yet.
		if _, err := replicas[0].f.Holders().Holder(holderKey, u.signIn).Token(context.Background(), ""); err != nil {
			b.Fatal(err)
		}
	}
	if u.n.Load() != 1 {
		b.Fatalf("%d sign-ins", u.n.Load())
	}
}
