// Package pii protects personal numbers at rest (DOMAIN §7, DESIGN "Privacy
// by construction"): ID, phone and certificate numbers are sealed with
// AES-256-GCM, and a keyed hash (HMAC-SHA256 "blind index") stored beside
// them finds a record by exact value without decrypting every row.
//
// Both keys are derived from one 32-byte master secret. Each ciphertext
// starts with a byte naming the master it was sealed under, so an old master
// can be kept for reading while everything is re-sealed under a new one.
package pii

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// SecretSize is the length of a master secret in bytes.
const SecretSize = 32

// ErrDecrypt means a ciphertext was sealed under none of the known keys, or
// was altered; GCM cannot tell the two apart, and neither should callers.
var ErrDecrypt = errors.New("pii: cannot decrypt: unknown key or altered data")

const nonceSize = 12

// keySet is what one master secret yields.
type keySet struct {
	id   byte
	aead cipher.AEAD
	mac  []byte
}

// Keys seals and looks up personal numbers. The first key set is current:
// it seals and hashes; older ones only open and look up. A Keys value is
// immutable and safe for concurrent use.
type Keys struct {
	ring []keySet
}

// New builds Keys from the current master secret and any older ones still
// needed to read data sealed before a rotation.
func New(current []byte, old ...[]byte) (*Keys, error) {
	k := &Keys{}
	for i, secret := range append([][]byte{current}, old...) {
		ks, err := derive(secret)
		if err != nil {
			if i == 0 {
				return nil, fmt.Errorf("current key: %w", err)
			}
			return nil, fmt.Errorf("old key %d: %w", i, err)
		}
		k.ring = append(k.ring, ks)
	}
	return k, nil
}

// derive splits a master secret into an encryption key, a MAC key and a
// one-byte key id, each under its own HKDF label so none reveals another.
func derive(secret []byte) (keySet, error) {
	if len(secret) != SecretSize {
		return keySet{}, fmt.Errorf("a key must be %d bytes, got %d", SecretSize, len(secret))
	}
	sub := func(label string, n int) []byte {
		b, err := hkdf.Key(sha256.New, secret, nil, "tanfang pii "+label, n)
		if err != nil {
			panic(err) // only for lengths HKDF-SHA256 cannot produce
		}
		return b
	}
	block, err := aes.NewCipher(sub("aes-256-gcm", 32))
	if err != nil {
		return keySet{}, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return keySet{}, err
	}
	return keySet{id: sub("key id", 1)[0], aead: aead, mac: sub("hmac-sha256 lookup", 32)}, nil
}

// Seal encrypts value under the current key. kind ("id_number", "phone", …)
// is bound in as associated data, so a sealed phone number cannot be passed
// off as an ID number. An empty value seals to nil (stored as NULL).
func (k *Keys) Seal(kind, value string) []byte {
	if value == "" {
		return nil
	}
	cur := k.ring[0]
	out := make([]byte, 1+nonceSize, 1+nonceSize+len(value)+cur.aead.Overhead())
	out[0] = cur.id
	if _, err := rand.Read(out[1:]); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return cur.aead.Seal(out, out[1:], []byte(value), []byte(kind))
}

// Open decrypts what Seal produced for the same kind. Nil opens to "".
func (k *Keys) Open(kind string, sealed []byte) (string, error) {
	if len(sealed) == 0 {
		return "", nil
	}
	if len(sealed) < 1+nonceSize {
		return "", ErrDecrypt
	}
	// Key ids are one byte, so two masters may share one; GCM's tag tells
	// which of them really sealed the value.
	for _, ks := range k.ring {
		if ks.id != sealed[0] {
			continue
		}
		plain, err := ks.aead.Open(nil, sealed[1:1+nonceSize], sealed[1+nonceSize:], []byte(kind))
		if err == nil {
			return string(plain), nil
		}
	}
	return "", ErrDecrypt
}

// Current reports whether sealed was made with the current key, so a
// re-keying pass can skip what is already done.
func (k *Keys) Current(sealed []byte) bool {
	return len(sealed) == 0 || sealed[0] == k.ring[0].id
}

// Lookup returns the hex blind index of a normalised value under the
// current key. kind keeps equal strings of different kinds apart.
func (k *Keys) Lookup(kind, value string) string {
	return lookup(k.ring[0].mac, kind, value)
}

// Lookups returns the blind index under every known key, current first, so
// a search still finds rows not yet re-keyed after a rotation.
func (k *Keys) Lookups(kind, value string) []string {
	out := make([]string, len(k.ring))
	for i, ks := range k.ring {
		out[i] = lookup(ks.mac, kind, value)
	}
	return out
}

func lookup(key []byte, kind, value string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(kind))
	m.Write([]byte{0})
	m.Write([]byte(value))
	return hex.EncodeToString(m.Sum(nil))
}

// ParseSecret reads a master secret written as 64 hex digits or as base64
// (standard or URL alphabet, padded or not) of 32 bytes.
func ParseSecret(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if len(s) == 2*SecretSize {
		if b, err := hex.DecodeString(s); err == nil {
			return b, nil
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			if len(b) != SecretSize {
				return nil, fmt.Errorf("the key decodes to %d bytes; it must be %d (generate one with: openssl rand -base64 32)", len(b), SecretSize)
			}
			return b, nil
		}
	}
	return nil, fmt.Errorf("the key is neither 64 hex digits nor base64 of %d bytes (generate one with: openssl rand -base64 32)", SecretSize)
}

// NewSecret returns a fresh random master secret, base64-encoded.
func NewSecret() string {
	b := make([]byte, SecretSize)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.StdEncoding.EncodeToString(b)
}
