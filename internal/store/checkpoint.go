package store

import (
	"context"
	"database/sql"
	"log/slog"
	"time"
)

// checkpointEvery is how often the write-ahead log is copied back into
// the database file.
const checkpointEvery = time.Second

// checkpointer copies SQLite's write-ahead log into the database file on
// a connection of its own. Left to the writer (SQLite's automatic
// checkpoint), the copy and its fsync ran inside a commit every few
// hundred visits, and every phone waiting on that commit waited for the
// disk too. A passive checkpoint waits for no reader or writer.
type checkpointer struct {
	conn *sql.DB
	quit chan struct{}
	done chan struct{}
}

func startCheckpointer(conn *sql.DB) *checkpointer {
	conn.SetMaxOpenConns(1)
	c := &checkpointer{conn: conn, quit: make(chan struct{}), done: make(chan struct{})}
	go c.run()
	return c
}

func (c *checkpointer) run() {
	defer close(c.done)
	t := time.NewTicker(checkpointEvery)
	defer t.Stop()
	for {
		select {
		case <-c.quit:
			return
		case <-t.C:
			if _, err := c.conn.ExecContext(context.Background(), "PRAGMA wal_checkpoint(PASSIVE)"); err != nil {
				slog.Warn("checkpoint of the write-ahead log failed; retrying", "err", err)
			}
		}
	}
}

// stop ends the checkpoints; the writer's close makes the last one.
func (c *checkpointer) stop() error {
	if c == nil {
		return nil
	}
	close(c.quit)
	<-c.done
	return c.conn.Close()
}
