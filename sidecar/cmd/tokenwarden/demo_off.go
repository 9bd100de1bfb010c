//go:build nodemo

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
)

// startDemo refuses: this build leaves the emulators out so a production
// binary carries none of their code or memory.
func startDemo() (*demoEnv, error) {
	return nil, errors.New("this tokenwarden was built without the demo (-tags nodemo); use a full build (make build) or make run")
}

// emulatorsCmd refuses for the same reason.
func emulatorsCmd(_ context.Context, _ []string, _, stderr io.Writer) int {
	fmt.Fprintln(stderr, "tokenwarden: this tokenwarden was built without the emulators (-tags nodemo); use a full build (make build)")
	return 1
}
