package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// checkpointEvery is how often the write-ahead log is copied back into
// the database file.
var checkpointEvery = time.Second

// walRestartFrames is how long the write-ahead log may grow (in pages,
// 4 KiB each) before the checkpointer makes the writer start it afresh.
var walRestartFrames = 4096

// restartWaitMillis is how long a restarting checkpoint waits for readers
// to leave the log, holding up the writers meanwhile.
const restartWaitMillis = 250

// walSizeLimit is what the log's file is cut back to, in bytes, when the
// writer starts it afresh (SQLite otherwise keeps the file at its largest).
var walSizeLimit = 64 << 20

// checkpointer copies SQLite's write-ahead log into the database file on
// a connection of its own. Left to the writer (SQLite's automatic
// checkpoint), the copy and its fsync ran inside a commit every few
// hundred visits, and every phone waiting on that commit waited for the
// disk too. A passive checkpoint waits for no reader or writer.
//
// But the writer starts the log again from its beginning only when it
// finds every page of the log already copied, and under a steady stream
// of writes a checkpoint from outside is always a commit or two behind:
// building the demo city grew the log to half a gigabyte. So once the log
// is longer than walRestartFrames, the checkpointer takes the write
// connection itself, in its turn among the writers waiting for it, and
// makes a restarting checkpoint there: it copies the last commits and
// waits (briefly: a long read makes it give up and try a second later)
// for readers to leave the log, and the next write starts the log afresh.
type checkpointer struct {
	conn   *sql.DB
	writer *sql.DB
	quit   chan struct{}
	done   chan struct{}
}

func startCheckpointer(conn, writer *sql.DB) *checkpointer {
	conn.SetMaxOpenConns(1)
	c := &checkpointer{conn: conn, writer: writer, quit: make(chan struct{}), done: make(chan struct{})}
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
			if err := c.checkpoint(); err != nil {
				slog.Warn("checkpoint of the write-ahead log failed; retrying", "err", err)
			}
		}
	}
}

func (c *checkpointer) checkpoint() error {
	ctx := context.Background()
	var busy, logFrames, copied int
	if err := c.conn.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &logFrames, &copied); err != nil {
		return err
	}
	if logFrames < walRestartFrames {
		return nil
	}
	w, err := c.writer.Conn(ctx)
	if err != nil {
		return err
	}
	defer w.Close()
	if _, err := w.ExecContext(ctx, fmt.Sprintf("PRAGMA busy_timeout = %d", restartWaitMillis)); err != nil {
		return err
	}
	// A busy result is not an error: the next tick tries again.
	err = w.QueryRowContext(ctx, "PRAGMA wal_checkpoint(RESTART)").Scan(&busy, &logFrames, &copied)
	if _, e := w.ExecContext(ctx, fmt.Sprintf("PRAGMA busy_timeout = %d", busyTimeoutMillis)); e != nil {
		// A writer that gives up on a lock after 250 ms would fail visits.
		return errors.Join(err, e, w.Raw(func(any) error { return driver.ErrBadConn }))
	}
	return err
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
