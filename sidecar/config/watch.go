package config

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"
)

// settle is how long the watcher waits after the last change before it
// reports: a secret store or an editor writes a file in several steps
// (truncate, write, rename), and the reload should see the last one.
const settle = 150 * time.Millisecond

// Watch calls changed whenever one of files is written, created, replaced
// or removed, until ctx ends. It watches the files' folders, not the files:
// secret stores replace a file by renaming a new one over it (Kubernetes
// swaps a ..data symlink), which a watch on the old file would miss. A burst
// of events yields one call. failed hears the watcher's own errors.
func Watch(ctx context.Context, files []string, changed func(), failed func(error)) error {
	if len(files) == 0 {
		return nil
	}
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("watching secret files: %w", err)
	}
	names := map[string]map[string]bool{} // folder → base names watched in it
	for _, f := range files {
		abs, err := filepath.Abs(f)
		if err != nil {
			w.Close()
			return fmt.Errorf("watching %s: %w", f, err)
		}
		dir, base := filepath.Split(abs)
		dir = filepath.Clean(dir)
		if names[dir] == nil {
			if err := w.Add(dir); err != nil {
				w.Close()
				return fmt.Errorf("watching the folder of %s: %w", f, err)
			}
			names[dir] = map[string]bool{}
		}
		names[dir][base] = true
	}
	go func() {
		defer w.Close()
		timer := time.NewTimer(time.Hour)
		timer.Stop()
		for {
			select {
			case <-ctx.Done():
				timer.Stop()
				return
			case ev, ok := <-w.Events:
				if !ok {
					return
				}
				dir, base := filepath.Split(ev.Name)
				watched := names[filepath.Clean(dir)]
				// ..data and friends: Kubernetes' atomic writer.
				if watched[base] || strings.HasPrefix(base, "..") {
					timer.Reset(settle)
				}
			case err, ok := <-w.Errors:
				if !ok {
					return
				}
				failed(err)
			case <-timer.C:
				changed()
			}
		}
	}()
	return nil
}
