package action

// Verification is what re-reading the upstream after a revocation showed
// (schemas/defs/lifecycle.json#/$defs/verification). A failed verification
// is not a Verification but the problem revocation-unverified (Unverified).
type Verification struct {
	Status   string `json:"status"`
	Method   string `json:"method,omitempty"`
	Evidence any    `json:"evidence,omitempty"`
	Detail   string `json:"detail"`
}

// The statuses of a Verification.
const (
	// VerificationVerified: the upstream shows the revocation.
	VerificationVerified = "verified"
	// VerificationUnverifiable: the upstream has no read that could show it.
	VerificationUnverifiable = "unverifiable"
	// VerificationNotChecked: the re-read failed; the revocation itself was
	// reported done and is not reported as failed.
	VerificationNotChecked = "not-checked"
)

// Verified reports whether v shows the revocation.
func (v *Verification) Verified() bool { return v != nil && v.Status == VerificationVerified }

// NotChecked is the verification of a revocation whose re-read failed.
func NotChecked(method string, err error) *Verification {
	return &Verification{Status: VerificationNotChecked, Method: method,
		Detail: "the revocation was reported done, but re-reading the upstream to verify it failed: " + err.Error()}
}

// HandsOver is implemented by sessions that can hand the calls still
// running on them over to the session replacing them after a secret
// rotation (Registry.ReplaceProfiles), so that a running call's new
// sign-in uses the new secret rather than the old one the upstream now
// refuses.
type HandsOver interface {
	HandOver(next Session)
}
