package upstream

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"sync"
	"time"
)

// Credential is what one sign-in yields.
type Credential struct {
	// Token is the bearer token the upstream accepts.
	Token string
	// Expiry is when the holder stops handing the token out. The provider
	// sets it early enough that a token never dies in flight. Zero means
	// the upstream gave no lifetime: the token is kept until it is refused.
	Expiry time.Time
}

// SignInFunc signs in to the upstream once. The holder calls it with a
// context that carries the caller's values but not its cancellation, and a
// deadline of the holder's own, so one caller giving up fails nobody else.
type SignInFunc func(ctx context.Context) (Credential, error)

// Holder keeps the sign-in of one upstream client (one 3CX client id, one
// Appgate admin on one controller) and runs at most one sign-in for it at a
// time: 3CX allows one active token per client, so two racing sign-ins
// would knock each other out.
type Holder interface {
	// Token returns a token to send. stale is the token the caller was
	// just refused with, or "": a held token equal to stale is not handed
	// out again, so any number of callers that saw the same 401 cause
	// exactly one new sign-in. A caller waits for a sign-in under way no
	// longer than its own ctx allows.
	Token(ctx context.Context, stale string) (string, error)
	// Forget drops the held token, so the next Token signs in (the secrets
	// it was made with have changed, say).
	Forget(ctx context.Context)
}

// HolderKey names one upstream client. Every sidecar that signs in as the
// same upstream account must compute the same key, and a fleet's holder
// may store it outside the process, so it never holds a secret in clear.
type HolderKey struct {
	Provider string // the provider id, e.g. "threecx"
	// Account identifies the account and everything its sign-in depends
	// on; build it with AccountDigest.
	Account string
}

// AccountDigest is a HolderKey.Account for the given parts (base URL,
// client id, secret, ...): a SHA-256 over each part with its length, so no
// two different lists of parts collide by concatenation.
func AccountDigest(parts ...string) string {
	h := sha256.New()
	var n [8]byte
	for _, p := range parts {
		binary.BigEndian.PutUint64(n[:], uint64(len(p)))
		h.Write(n[:])
		h.Write([]byte(p))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Holders hands out the holder of each upstream client. The same key gives
// the same holder, whichever session asks, and the sign-in function of the
// first request for a key is the one used: the key must name everything the
// sign-in depends on. LocalHolders keeps sign-ins in this process; a fleet
// shares them through Redis behind the same interface.
type Holders interface {
	Holder(key HolderKey, signIn SignInFunc) Holder
}

// LocalHolders keeps each upstream client's sign-in in this process.
type LocalHolders struct {
	now     func() time.Time
	timeout time.Duration

	mu      sync.Mutex
	holders map[HolderKey]*localHolder
}

// NewLocalHolders returns holders that read expiry from now (nil: the wall
// clock) and give each sign-in at most timeout (0: 30 s).
func NewLocalHolders(now func() time.Time, timeout time.Duration) *LocalHolders {
	if now == nil {
		now = time.Now
	}
	if timeout <= 0 {
		timeout = DefaultConfig().RequestTimeout
	}
	return &LocalHolders{now: now, timeout: timeout, holders: map[HolderKey]*localHolder{}}
}

// Holder implements Holders.
func (l *LocalHolders) Holder(key HolderKey, signIn SignInFunc) Holder {
	l.mu.Lock()
	defer l.mu.Unlock()
	h, ok := l.holders[key]
	if !ok {
		h = &localHolder{signIn: signIn, now: l.now, timeout: l.timeout}
		l.holders[key] = h
	}
	return h
}

type localHolder struct {
	signIn  SignInFunc
	now     func() time.Time
	timeout time.Duration

	mu     sync.Mutex
	held   Credential
	flight *signInCall // the sign-in under way, if any
}

// signInCall is one sign-in that any number of callers wait for.
type signInCall struct {
	done chan struct{}
	cred Credential
	err  error
}

func (h *localHolder) Token(ctx context.Context, stale string) (string, error) {
	h.mu.Lock()
	if t := h.usable(stale); t != "" {
		h.mu.Unlock()
		return t, nil
	}
	call := h.flight
	if call == nil {
		call = &signInCall{done: make(chan struct{})}
		h.flight = call
		go h.run(ctx, call)
	}
	h.mu.Unlock()
	select {
	case <-call.done:
		return call.cred.Token, call.err
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// run signs in for everyone waiting on call. It holds no lock while the
// upstream answers, so waiters can give up on their own deadlines.
func (h *localHolder) run(ctx context.Context, call *signInCall) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), h.timeout)
	defer cancel()
	cred, err := h.signIn(ctx)
	h.mu.Lock()
	if err == nil {
		h.held = cred
	}
	call.cred, call.err = cred, err
	h.flight = nil
	h.mu.Unlock()
	close(call.done)
}

// usable is the held token unless it is the refused one or has expired;
// h.mu must be held.
func (h *localHolder) usable(stale string) string {
	t := h.held
	if t.Token == "" || t.Token == stale || (!t.Expiry.IsZero() && !h.now().Before(t.Expiry)) {
		return ""
	}
	return t.Token
}

func (h *localHolder) Forget(context.Context) {
	h.mu.Lock()
	h.held = Credential{}
	h.mu.Unlock()
}
