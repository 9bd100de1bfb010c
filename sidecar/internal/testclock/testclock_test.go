package testclock

import (
	"testing"
	"time"
)

func TestStartsAtTheWallClockMovedByTheShift(t *testing.T) {
	for _, shift := range []string{"", "-8760h", "8760h"} {
		t.Setenv(ShiftVariable, shift)
		want, _ := time.ParseDuration(shift + "0s")
		if shift == "" {
			want = 0
		}
		got := New().Now().Sub(time.Now().UTC()) - want
		if got < -2*time.Second || got > time.Second {
			t.Errorf("shift %q: clock is %v away from wall clock + shift", shift, got)
		}
	}
}

func TestAnUnreadableShiftPanics(t *testing.T) {
	t.Setenv(ShiftVariable, "a year")
	defer func() {
		if recover() == nil {
			t.Fatal("a typo in the shift turned the guard off silently")
		}
	}()
	New()
}

func TestAdvance(t *testing.T) {
	c := New()
	start := c.Now()
	c.Advance(90 * time.Second)
	if got := c.Now().Sub(start); got != 90*time.Second {
		t.Fatalf("advanced %v", got)
	}
}
