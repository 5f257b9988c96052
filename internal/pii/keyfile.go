package pii

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// LoadOrCreate returns the keys for a master secret taken from env (the
// value of TANFANG_KEY, passed in so tests need no environment) or, when env
// is empty, from keyFile, which is created with a fresh secret and mode 0600
// on first start. A key file that group or others may read is refused: a
// copy of it and of the database together reveal every number.
func LoadOrCreate(keyFile, env string) (*Keys, error) {
	if strings.TrimSpace(env) != "" {
		secret, err := ParseSecret(env)
		if err != nil {
			return nil, fmt.Errorf("TANFANG_KEY: %w", err)
		}
		return New(secret)
	}
	if keyFile == "" {
		return nil, errors.New("no key: set TANFANG_KEY or give a key file path")
	}
	secret, err := readKeyFile(keyFile)
	if errors.Is(err, fs.ErrNotExist) {
		if err := createKeyFile(keyFile); err != nil {
			return nil, err
		}
		secret, err = readKeyFile(keyFile)
	}
	if err != nil {
		return nil, err
	}
	return New(secret)
}

// WithOld returns keys that also open (and look up) data sealed under the
// older master secrets listed in old (the value of TANFANG_KEY_OLD: one or
// more secrets separated by commas or white space). Empty old returns k.
func (k *Keys) WithOld(old string) (*Keys, error) {
	fields := strings.FieldsFunc(old, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\t' })
	if len(fields) == 0 {
		return k, nil
	}
	out := &Keys{ring: append([]keySet(nil), k.ring...)}
	for i, f := range fields {
		secret, err := ParseSecret(f)
		if err != nil {
			return nil, fmt.Errorf("TANFANG_KEY_OLD key %d: %w", i+1, err)
		}
		ks, err := derive(secret)
		if err != nil {
			return nil, fmt.Errorf("TANFANG_KEY_OLD key %d: %w", i+1, err)
		}
		out.ring = append(out.ring, ks)
	}
	return out, nil
}

func readKeyFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("key file %s: %w", path, err)
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("key file %s has mode %04o, so other users may read it; run: chmod 600 %s", path, perm, path)
	}
	buf := make([]byte, 512)
	n, err := f.Read(buf)
	if err != nil {
		return nil, fmt.Errorf("key file %s: %w", path, err)
	}
	secret, err := ParseSecret(string(buf[:n]))
	if err != nil {
		return nil, fmt.Errorf("key file %s: %w", path, err)
	}
	return secret, nil
}

// createKeyFile writes a fresh secret with O_EXCL, so a second server
// starting at the same moment never overwrites the first one's key.
func createKeyFile(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("create key folder: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("create key file: %w", err)
	}
	if _, err := f.WriteString(NewSecret() + "\n"); err != nil {
		f.Close()
		return fmt.Errorf("write key file: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("write key file: %w", err)
	}
	return f.Close()
}
