package store

import (
	"context"
	"database/sql"
	"sync"
)

// stmtCache keeps prepared statements of one pool by query text. The pure-Go
// SQLite driver parses every query anew otherwise, which was the largest
// cost of recording a visit. PostgreSQL's driver caches on its own.
type stmtCache struct {
	pool *sql.DB
	mu   sync.Mutex
	m    map[string]*sql.Stmt
}

// maxCachedStmts bounds the cache: queries built with a varying number of
// placeholders would otherwise grow it without end.
const maxCachedStmts = 1000

func newStmtCache(pool *sql.DB) *stmtCache {
	return &stmtCache{pool: pool, m: map[string]*sql.Stmt{}}
}

// lookup returns the cached statement for q without preparing one.
func (c *stmtCache) lookup(q string) *sql.Stmt {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[q]
}

// get returns a prepared statement for q, preparing it on the pool, or nil
// when the cache is full (the caller then runs the query unprepared). It
// must not be called while the calling goroutine holds the write pool's
// only connection in a transaction: preparing needs a connection.
func (c *stmtCache) get(ctx context.Context, q string) (*sql.Stmt, error) {
	if c == nil {
		return nil, nil
	}
	c.mu.Lock()
	st, ok := c.m[q]
	full := len(c.m) >= maxCachedStmts
	c.mu.Unlock()
	if ok || full {
		return st, nil
	}
	// Prepare without holding the lock: preparing waits for a connection,
	// and a transaction holding SQLite's only write connection may need
	// the lock to look up its next statement.
	st, err := c.pool.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.m[q]; ok {
		st.Close()
		return old, nil
	}
	if c.m == nil { // closed meanwhile
		st.Close()
		return nil, nil
	}
	c.m[q] = st
	return st, nil
}

func (c *stmtCache) close() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.m {
		st.Close()
	}
	c.m = nil
}
