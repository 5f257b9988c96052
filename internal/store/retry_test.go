package store

import (
	"errors"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

// A grouped job that PostgreSQL ended to break a deadlock or a
// serialization conflict runs again alone; any other failure is the
// caller's to see.
func TestRetryAlone(t *testing.T) {
	for _, c := range []struct {
		err  error
		want bool
	}{
		{&pgconn.PgError{Code: "40P01"}, true},
		{fmt.Errorf("apply contact: %w", &pgconn.PgError{Code: "40001"}), true},
		{&pgconn.PgError{Code: "23505"}, false},
		{errors.New("deadlock"), false},
		{nil, false},
	} {
		if got := retryAlone(c.err); got != c.want {
			t.Errorf("retryAlone(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}
