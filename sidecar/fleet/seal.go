package fleet

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
)

// sealer encrypts what the fleet stores and names where it is stored. One
// token key does both, each through its own derived key.
type sealer struct {
	aead  cipher.AEAD
	kid   string // names the token key in each record, so a rotated key is recognised
	names []byte // HMAC key for Redis key names
}

var (
	errUnknownKey = errors.New("the record was sealed with another token key")
	errCorrupt    = errors.New("the record does not open with the token key")
)

// newSealer uses key, the config field named field (for errors).
func newSealer(key []byte, field string) (*sealer, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("fleet: redis.%s must be 32 bytes, not %d", field, len(key))
	}
	enc := derive(key, "tokenwarden fleet: record encryption")
	block, err := aes.NewCipher(enc)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	id := derive(key, "tokenwarden fleet: key id")
	return &sealer{aead: aead, kid: hex.EncodeToString(id[:8]), names: derive(key, "tokenwarden fleet: key names")}, nil
}

func derive(key []byte, purpose string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(purpose))
	return m.Sum(nil)
}

// name is the Redis key part for one fleet entry: an HMAC of what names it,
// so Redis never sees a connection's digest, which an attacker with Redis
// access could otherwise test guessed secrets against.
func (s *sealer) name(kind, key string) string {
	m := hmac.New(sha256.New, s.names)
	m.Write([]byte(kind))
	m.Write([]byte{0})
	m.Write([]byte(key))
	return hex.EncodeToString(m.Sum(nil))
}

// sealed is a record as stored.
type sealed struct {
	V     int    `json:"v"`
	KeyID string `json:"kid"`
	Nonce []byte `json:"n"`
	Data  []byte `json:"ct"`
}

// seal encrypts plain. where (the Redis key) is authenticated with it, so
// a record copied under another key does not open.
func (s *sealer) seal(where string, plain []byte) []byte {
	nonce := make([]byte, s.aead.NonceSize())
	_, _ = rand.Read(nonce)
	out, _ := json.Marshal(sealed{V: 1, KeyID: s.kid, Nonce: nonce, Data: s.aead.Seal(nil, nonce, plain, []byte(where))})
	return out
}

func (s *sealer) open(where string, raw []byte) ([]byte, error) {
	var r sealed
	if err := json.Unmarshal(raw, &r); err != nil || r.V != 1 {
		return nil, errCorrupt
	}
	if r.KeyID != s.kid {
		return nil, errUnknownKey
	}
	if len(r.Nonce) != s.aead.NonceSize() {
		return nil, errCorrupt
	}
	plain, err := s.aead.Open(nil, r.Nonce, r.Data, []byte(where))
	if err != nil {
		return nil, errCorrupt
	}
	return plain, nil
}
