// Package testclock is a settable time source shared by a test and every
// emulator, client and cache it drives, so expiry can be tested without
// sleeping.
//
// A clock starts at the current time, never at a fixed date: a component
// that forgets the test's clock and reads the wall clock then only drifts by
// what the test advanced, instead of by the days since the date was written
// (the 2026-11-22 Appgate failure). To catch such a component, CI runs the
// suites that use test clocks again with TOKENWARDEN_TEST_CLOCK_SHIFT set a
// year either way (.ci/run): every test clock then starts that far from the
// wall clock, and anything still reading time.Now disagrees with it by a year.
package testclock

import (
	"fmt"
	"os"
	"sync"
	"time"
)

// ShiftVariable names the environment variable that moves every test clock's
// start away from the wall clock (a Go duration such as "-8760h").
const ShiftVariable = "TOKENWARDEN_TEST_CLOCK_SHIFT"

// Clock is safe for concurrent use.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// New starts a clock at the current time (whole seconds, UTC), moved by
// TOKENWARDEN_TEST_CLOCK_SHIFT when that is set.
func New() *Clock {
	return &Clock{now: time.Now().UTC().Truncate(time.Second).Add(Shift())}
}

// Shift is the offset New applies. An unreadable value panics, so a typo in
// CI cannot silently turn the guard off.
func Shift() time.Duration {
	v := os.Getenv(ShiftVariable)
	if v == "" {
		return 0
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		panic(fmt.Sprintf("%s=%q: %v", ShiftVariable, v, err))
	}
	return d
}

// Now reads the clock.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}
