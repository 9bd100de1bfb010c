package action

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"sync"
)

// Stream is a list answer sent while it is read: a handler returns one
// instead of a Result when the list may be long (returnAll), so items go
// from the upstream's pages to the caller without the sidecar holding the
// whole list. The document is the same as a Result's, {"data": [...],
// "meta": {...}}, with meta written after the data.
//
// The status line goes out with the first item. A failure before it is an
// ordinary problem answer; a failure after it cannot change the status any
// more, so the document is ended properly and meta says what happened:
// "truncated": true and "problem" (the problem document), beside the
// counts of what was delivered.
type Stream struct {
	// Each reads the list, handing every item to sink in order, and returns
	// the meta that closes the document. When it fails after items went
	// out, the meta it returns with the error counts what was delivered.
	// An error from sink (the caller went away) is returned as it is.
	Each func(ctx context.Context, sink *Sink) (meta any, err error)
}

// Sink receives a stream's items. Items are raw JSON values the handler
// has checked against the action's item schema (or its upstream's, where
// they are the same); they are written as they are and may be reused by
// the handler once Item returns.
type Sink struct {
	item  func(raw json.RawMessage) error
	flush func() error
	sent  int
}

// Item sends one item.
func (s *Sink) Item(raw json.RawMessage) error {
	if err := s.item(raw); err != nil {
		return err
	}
	s.sent++
	return nil
}

// Flush pushes what was sent so far to the caller; a handler calls it at
// the end of each upstream page, so the caller sees items before the next
// page is asked for.
func (s *Sink) Flush() error { return s.flush() }

// Sent counts the items sent so far.
func (s *Sink) Sent() int { return s.sent }

// callerGone wraps a write to the caller that failed, so it is told apart
// from the handler's own failures.
type callerGone struct{ err error }

func (e *callerGone) Error() string { return "writing to the caller: " + e.err.Error() }
func (e *callerGone) Unwrap() error { return e.err }

// Send writes the stream to w. begin is called once, before the first
// byte (the caller's status line goes out then); flush pushes w's bytes to
// the caller. A failure before begin comes back as err and nothing was
// written: answer it as a problem. A failure after begin ends the document
// with meta.truncated and meta.problem, and comes back as cut (for the
// access log and metrics); err is then nil unless the caller went away.
func (st *Stream) Send(ctx context.Context, w io.Writer, begin func(), flush func() error) (cut *Problem, err error) {
	buf := writers.Get().(*bufio.Writer)
	buf.Reset(w)
	defer func() {
		buf.Reset(nil)
		writers.Put(buf)
	}()
	started := false
	start := func() error {
		if started {
			return nil
		}
		started = true
		begin()
		_, err := buf.WriteString(`{"data":[`)
		return err
	}
	sink := &Sink{}
	sink.item = func(raw json.RawMessage) error {
		if err := start(); err != nil {
			return &callerGone{err}
		}
		if sink.sent > 0 {
			if err := buf.WriteByte(','); err != nil {
				return &callerGone{err}
			}
		}
		if _, err := buf.Write(raw); err != nil {
			return &callerGone{err}
		}
		return nil
	}
	sink.flush = func() error {
		if !started {
			return nil
		}
		if err := buf.Flush(); err != nil {
			return &callerGone{err}
		}
		if err := flush(); err != nil {
			return &callerGone{err}
		}
		return nil
	}
	meta, runErr := st.Each(ctx, sink)
	var gone *callerGone
	if errors.As(runErr, &gone) {
		return nil, gone.err
	}
	if runErr != nil && !started {
		return nil, asProblem(ctx, runErr)
	}
	if runErr != nil {
		cut = asProblem(ctx, runErr)
		if meta, err = truncatedMeta(meta, cut); err != nil {
			return cut, err
		}
	}
	tail, err := json.Marshal(meta)
	if err != nil {
		return cut, err
	}
	if err := start(); err != nil {
		return cut, err
	}
	for _, part := range [][]byte{[]byte(`],"meta":`), tail, []byte("}\n")} {
		if _, err := buf.Write(part); err != nil {
			return cut, err
		}
	}
	if err := buf.Flush(); err != nil {
		return cut, err
	}
	return cut, flush()
}

// writers gathers items into writes of a few KiB, so the layers between a
// stream and the connection are passed once per few items rather than per
// item; pooled, as many lists may be sent at once.
var writers = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 8<<10) }}

// Collect reads the whole stream into a Result, for callers that want the
// answer in one piece (the command line, tests). It gives the document
// Send writes: a failure after the first item is a Result whose meta is
// marked truncated, with the problem.
func (st *Stream) Collect(ctx context.Context) (Result, error) {
	items := []json.RawMessage{}
	sink := &Sink{
		item: func(raw json.RawMessage) error {
			items = append(items, append(json.RawMessage(nil), raw...))
			return nil
		},
		flush: func() error { return nil },
	}
	meta, err := st.Each(ctx, sink)
	if err != nil && len(items) == 0 {
		return Result{}, asProblem(ctx, err)
	}
	var cut *Problem
	if err != nil {
		cut = asProblem(ctx, err)
		if meta, err = truncatedMeta(meta, cut); err != nil {
			return Result{}, NewProblem(KindInternal, "%v", err)
		}
	}
	return Result{Data: items, Meta: meta, Incomplete: cut}, nil
}

// truncatedMeta is meta (a JSON object) with "truncated": true and the
// problem that cut the list short.
func truncatedMeta(meta any, p *Problem) (map[string]json.RawMessage, error) {
	fields := map[string]json.RawMessage{}
	if meta != nil {
		b, err := json.Marshal(meta)
		if err != nil {
			return nil, err
		}
		if err := json.Unmarshal(b, &fields); err != nil {
			return nil, err
		}
	}
	problem, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	fields["truncated"], fields["problem"] = json.RawMessage("true"), problem
	return fields, nil
}
