package upstream

import (
	"context"
	"sync/atomic"
)

// HandOver is a Holder that can be pointed at another one. A session whose
// secret was rotated is replaced, but calls already running keep it; when
// the new session's sign-in ends their token (3CX keeps one per client),
// their one new sign-in must not use the old secret, which the upstream
// now refuses. Handing the old session's holder over to the new session's
// makes that sign-in (or the token already held there) the new one.
type HandOver struct {
	to atomic.Pointer[heldBy]
}

type heldBy struct{ h Holder }

// NewHandOver starts out as h.
func NewHandOver(h Holder) *HandOver {
	o := &HandOver{}
	o.to.Store(&heldBy{h})
	return o
}

// Token implements Holder through the holder handed over to last.
func (o *HandOver) Token(ctx context.Context, stale string) (string, error) {
	return o.to.Load().h.Token(ctx, stale)
}

// Forget implements Holder through the holder handed over to last.
func (o *HandOver) Forget(ctx context.Context) { o.to.Load().h.Forget(ctx) }

// To hands every later sign-in over to next.
func (o *HandOver) To(next Holder) {
	if next != nil && next != Holder(o) {
		o.to.Store(&heldBy{next})
	}
}
