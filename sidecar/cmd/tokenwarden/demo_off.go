//go:build nodemo

package main

import "errors"

// startDemo refuses: this build leaves the emulators out so a production
// binary carries none of their code or memory.
func startDemo() (*demoEnv, error) {
	return nil, errors.New("this tokenwarden was built without the demo (-tags nodemo); use a full build (make build) or make run")
}
