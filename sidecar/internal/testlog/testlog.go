// Package testlog collects log output in tests, most often to prove that
// no secret was logged. It imports nothing of the project, so any package's
// internal tests can use it.
package testlog

import (
	"bytes"
	"log/slog"
	"sync"
)

// Buffer collects log lines written from many goroutines.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Logger is a debug-level JSON logger, the process's format, writing to b.
func (b *Buffer) Logger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
