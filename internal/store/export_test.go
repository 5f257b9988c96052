package store

import "time"

// SetCheckpointing makes checkpoints more frequent, the log length that
// makes the checkpointer restart the log shorter, and the size its file
// is cut back to smaller, so a test sees them work quickly; it returns
// the undo.
func SetCheckpointing(every time.Duration, frames, bytes int) func() {
	oldEvery, oldFrames, oldBytes := checkpointEvery, walRestartFrames, walSizeLimit
	checkpointEvery, walRestartFrames, walSizeLimit = every, frames, bytes
	return func() { checkpointEvery, walRestartFrames, walSizeLimit = oldEvery, oldFrames, oldBytes }
}
