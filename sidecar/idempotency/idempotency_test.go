package idempotency

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var fpA, fpB = [32]byte{1}, [32]byte{2}

func ok(body string) func() Answer {
	return func() Answer { return Answer{Status: 200, ContentType: "application/json", Body: []byte(body)} }
}

func checkSameKeySameRequestIsReplayed(t *testing.T, m Store) {
	a, replayed, err := m.Do(context.Background(), "k", fpA, ok("first"))
	if err != nil || replayed || string(a.Body) != "first" {
		t.Fatal(a, replayed, err)
	}
	a, replayed, err = m.Do(context.Background(), "k", fpA, func() Answer { t.Fatal("ran twice"); return Answer{} })
	if err != nil || !replayed || string(a.Body) != "first" || a.Status != 200 {
		t.Fatal(a, replayed, err)
	}
}

func checkSameKeyOtherRequestIsAMismatch(t *testing.T, m Store) {
	_, _, _ = m.Do(context.Background(), "k", fpA, ok("first"))
	if _, _, err := m.Do(context.Background(), "k", fpB, ok("second")); !errors.Is(err, ErrMismatch) {
		t.Fatal(err)
	}
}

func checkServerFailuresAreNotKept(t *testing.T, m Store) {
	_, _, _ = m.Do(context.Background(), "k", fpA, func() Answer { return Answer{Status: 503} })
	a, replayed, _ := m.Do(context.Background(), "k", fpA, ok("retried"))
	if replayed || string(a.Body) != "retried" {
		t.Fatal(a, replayed)
	}
	for _, s := range []int{401, 408, 429, 500, 502, 504} {
		if Keep(Answer{Status: s}) {
			t.Errorf("%d kept", s)
		}
	}
	for _, s := range []int{200, 400, 404, 409, 422} {
		if !Keep(Answer{Status: s}) {
			t.Errorf("%d not kept", s)
		}
	}
}

// Every Store keeps the same promises.
var contract = map[string]func(*testing.T, Store){
	"replay":     checkSameKeySameRequestIsReplayed,
	"mismatch":   checkSameKeyOtherRequestIsAMismatch,
	"5xx":        checkServerFailuresAreNotKept,
	"concurrent": checkConcurrentDuplicatesWaitForTheFirst,
}

func TestMemoryStore(t *testing.T) {
	for name, check := range contract {
		t.Run(name, func(t *testing.T) { check(t, NewMemory(time.Hour, 10, 1<<20)) })
	}
}

func TestAnswersExpire(t *testing.T) {
	m := NewMemory(time.Minute, 10, 1<<20)
	now := time.Unix(1000, 0)
	m.now = func() time.Time { return now }
	_, _, _ = m.Do(context.Background(), "k", fpA, ok("first"))
	now = now.Add(2 * time.Minute)
	if _, replayed, _ := m.Do(context.Background(), "k", fpB, ok("new")); replayed {
		t.Fatal("expired answer replayed")
	}
}

func checkConcurrentDuplicatesWaitForTheFirst(t *testing.T, m Store) {
	var runs atomic.Int32
	started, release := make(chan struct{}), make(chan struct{})
	go func() {
		_, _, _ = m.Do(context.Background(), "k", fpA, func() Answer {
			runs.Add(1)
			close(started)
			<-release
			return Answer{Status: 200, Body: []byte("only")}
		})
	}()
	<-started
	var wg sync.WaitGroup
	replays := make([]bool, 5)
	for i := range replays {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a, replayed, err := m.Do(context.Background(), "k", fpA, ok("duplicate ran"))
			replays[i] = err == nil && replayed && string(a.Body) == "only"
		}()
	}
	close(release)
	wg.Wait()
	for i, r := range replays {
		if !r {
			t.Errorf("duplicate %d did not get the first answer", i)
		}
	}
	if runs.Load() != 1 {
		t.Fatalf("work ran %d times", runs.Load())
	}
}

func TestFullStoreDropsOldestKeptAnswer(t *testing.T) {
	m := NewMemory(time.Hour, 2, 1<<20)
	now := time.Unix(1000, 0)
	m.now = func() time.Time { return now }
	for _, k := range []string{"a", "b", "c"} {
		now = now.Add(time.Second)
		_, _, _ = m.Do(context.Background(), k, fpA, ok(k))
	}
	if m.Len() != 2 {
		t.Fatalf("%d entries", m.Len())
	}
	if _, replayed, _ := m.Do(context.Background(), "c", fpA, ok("x")); !replayed {
		t.Fatal("newest answer dropped")
	}
}

func TestByteBudgetDropsOldestAndRefusesHugeAnswers(t *testing.T) {
	m := NewMemory(time.Hour, 100, 10)
	now := time.Unix(1000, 0)
	m.now = func() time.Time { return now }
	for _, k := range []string{"a", "b", "c"} {
		now = now.Add(time.Second)
		_, _, _ = m.Do(context.Background(), k, fpA, ok("1234"))
	}
	if _, replayed, _ := m.Do(context.Background(), "a", fpA, ok("1234")); replayed {
		t.Fatal("the oldest answer outlived the byte budget")
	}
	if _, replayed, _ := m.Do(context.Background(), "c", fpA, ok("x")); !replayed {
		t.Fatal("the newest answer was dropped")
	}
	_, _, _ = m.Do(context.Background(), "huge", fpA, ok("01234567890"))
	if _, replayed, _ := m.Do(context.Background(), "huge", fpA, ok("again")); replayed {
		t.Fatal("an answer over the whole budget was kept")
	}
}
