package pii

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func secret(b byte) []byte { return bytes.Repeat([]byte{b}, SecretSize) }

func mustKeys(t *testing.T, current []byte, old ...[]byte) *Keys {
	t.Helper()
	k, err := New(current, old...)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// DOMAIN §7: numbers are stored sealed, and what is sealed opens again.
func TestSealOpenRoundTrip(t *testing.T) {
	k := mustKeys(t, secret(1))
	for _, v := range []string{"11010519491231002X", "13800138000", "0518-85812345", "x"} {
		ct := k.Seal("id_number", v)
		// A one-byte value turns up in random ciphertext by chance; only
		// numbers long enough to mean something are checked for.
		if len(v) > 4 && bytes.Contains(ct, []byte(v)) {
			t.Fatalf("sealed %q still contains it", v)
		}
		got, err := k.Open("id_number", ct)
		if err != nil || got != v {
			t.Fatalf("Open = %q, %v; want %q", got, err, v)
		}
	}
	if ct := k.Seal("phone", ""); ct != nil {
		t.Fatalf("empty value sealed to %x, want nil", ct)
	}
	if got, err := k.Open("phone", nil); got != "" || err != nil {
		t.Fatalf("Open(nil) = %q, %v", got, err)
	}
	a, b := k.Seal("phone", "13800138000"), k.Seal("phone", "13800138000")
	if bytes.Equal(a, b) {
		t.Fatal("two seals of one value are equal: the nonce is not random")
	}
}

func TestTamperDetected(t *testing.T) {
	k := mustKeys(t, secret(1))
	ct := k.Seal("id_number", "11010519491231002X")
	for i := range ct {
		bad := bytes.Clone(ct)
		bad[i] ^= 0x01
		if _, err := k.Open("id_number", bad); !errors.Is(err, ErrDecrypt) {
			t.Fatalf("byte %d flipped: err = %v, want ErrDecrypt", i, err)
		}
	}
	if _, err := k.Open("id_number", ct[:len(ct)-1]); !errors.Is(err, ErrDecrypt) {
		t.Fatalf("truncated: err = %v", err)
	}
	if _, err := k.Open("id_number", ct[:5]); !errors.Is(err, ErrDecrypt) {
		t.Fatalf("short: err = %v", err)
	}
	// A phone ciphertext moved into the ID column does not open as an ID.
	if _, err := k.Open("phone", ct); !errors.Is(err, ErrDecrypt) {
		t.Fatalf("wrong kind: err = %v", err)
	}
}

func TestWrongKey(t *testing.T) {
	ct := mustKeys(t, secret(1)).Seal("phone", "13800138000")
	other := mustKeys(t, secret(2))
	if _, err := other.Open("phone", ct); !errors.Is(err, ErrDecrypt) {
		t.Fatalf("err = %v, want ErrDecrypt", err)
	}
	// Even when the one-byte key ids collide, the tag rejects the wrong key.
	forged := bytes.Clone(ct)
	forged[0] = other.ring[0].id
	if _, err := other.Open("phone", forged); !errors.Is(err, ErrDecrypt) {
		t.Fatalf("colliding id: err = %v, want ErrDecrypt", err)
	}
}

func TestLookup(t *testing.T) {
	k := mustKeys(t, secret(1))
	a := k.Lookup("id_number", "11010519491231002X")
	if a != k.Lookup("id_number", "11010519491231002X") {
		t.Fatal("lookup is not deterministic")
	}
	if len(a) != 64 {
		t.Fatalf("lookup %q is not 64 hex digits", a)
	}
	if a == k.Lookup("phone", "11010519491231002X") {
		t.Fatal("kinds do not separate lookups")
	}
	if a == mustKeys(t, secret(2)).Lookup("id_number", "11010519491231002X") {
		t.Fatal("lookup does not depend on the key")
	}
	if a == k.Lookup("id_number", "110105194912310021") {
		t.Fatal("different values share a lookup")
	}
}

// Key rotation (docs/operations.md): the new key seals, the old one still
// opens, and look-ups under both find rows not yet re-keyed.
func TestRotation(t *testing.T) {
	oldKeys := mustKeys(t, secret(1))
	oldCT := oldKeys.Seal("id_number", "11010519491231002X")
	oldHash := oldKeys.Lookup("id_number", "11010519491231002X")

	newOnly := mustKeys(t, secret(2))
	if _, err := newOnly.Open("id_number", oldCT); !errors.Is(err, ErrDecrypt) {
		t.Fatal("new key alone opened data sealed under the old one")
	}
	ring, err := newOnly.WithOld(base64.StdEncoding.EncodeToString(secret(1)))
	if err != nil {
		t.Fatal(err)
	}
	got, err := ring.Open("id_number", oldCT)
	if err != nil || got != "11010519491231002X" {
		t.Fatalf("old ciphertext: %q, %v", got, err)
	}
	if ring.Current(oldCT) {
		t.Fatal("old ciphertext reported as current")
	}
	fresh := ring.Seal("id_number", got)
	if !ring.Current(fresh) || oldKeys.Current(fresh) {
		t.Fatal("a fresh seal is not under the new key")
	}
	if _, err := oldKeys.Open("id_number", fresh); err == nil {
		t.Fatal("re-sealed data still opens under the old key alone")
	}
	hs := ring.Lookups("id_number", "11010519491231002X")
	if len(hs) != 2 || hs[0] != newOnly.Lookup("id_number", "11010519491231002X") || hs[1] != oldHash {
		t.Fatalf("Lookups = %v", hs)
	}
	if same, _ := newOnly.WithOld("  "); same != newOnly {
		t.Fatal("WithOld of nothing made new keys")
	}
	if _, err := newOnly.WithOld("short"); err == nil {
		t.Fatal("WithOld accepted a bad key")
	}
}

func TestParseSecret(t *testing.T) {
	raw := secret(7)
	for _, s := range []string{
		hex.EncodeToString(raw),
		base64.StdEncoding.EncodeToString(raw),
		base64.RawURLEncoding.EncodeToString(raw),
		" " + base64.StdEncoding.EncodeToString(raw) + "\n",
	} {
		got, err := ParseSecret(s)
		if err != nil || !bytes.Equal(got, raw) {
			t.Fatalf("ParseSecret(%q) = %x, %v", s, got, err)
		}
	}
	for _, s := range []string{"", "abc", base64.StdEncoding.EncodeToString(raw[:16]), strings.Repeat("g", 64)} {
		if _, err := ParseSecret(s); err == nil {
			t.Fatalf("ParseSecret(%q) accepted", s)
		}
	}
}

func TestLoadOrCreateFromEnv(t *testing.T) {
	path := filepath.Join(t.TempDir(), "key")
	k, err := LoadOrCreate(path, hex.EncodeToString(secret(3)))
	if err != nil {
		t.Fatal(err)
	}
	if k.Lookup("x", "y") != mustKeys(t, secret(3)).Lookup("x", "y") {
		t.Fatal("env key not used")
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatal("a key file was created although TANFANG_KEY was set")
	}
	if _, err := LoadOrCreate(path, "not a key"); err == nil || !strings.Contains(err.Error(), "TANFANG_KEY") {
		t.Fatalf("bad env key: err = %v", err)
	}
}

func TestKeyFileCreatedOnceWithMode0600(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys", "tanfang.key")
	k1, err := LoadOrCreate(path, "")
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		t.Fatalf("key file mode %04o", st.Mode().Perm())
	}
	ct := k1.Seal("phone", "13800138000")
	k2, err := LoadOrCreate(path, "")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := k2.Open("phone", ct); err != nil || got != "13800138000" {
		t.Fatalf("second start does not read the first key: %q, %v", got, err)
	}
}

func TestKeyFileReadableByOthersRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tanfang.key")
	if err := os.WriteFile(path, []byte(NewSecret()), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, mode := range []os.FileMode{0o644, 0o640, 0o604} {
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
		_, err := LoadOrCreate(path, "")
		if err == nil || !strings.Contains(err.Error(), "chmod 600") {
			t.Fatalf("mode %04o: err = %v, want a refusal naming chmod 600", mode, err)
		}
	}
	if err := os.Chmod(path, 0o400); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreate(path, ""); err != nil {
		t.Fatalf("mode 0400: %v", err)
	}
}

func TestKeyFileGarbageRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tanfang.key")
	if err := os.WriteFile(path, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreate(path, ""); err == nil {
		t.Fatal("garbage key file accepted")
	}
}
