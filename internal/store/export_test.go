package store

// SetWALLimits lowers the log length that makes the checkpointer restart
// the log and the size its file is cut back to, so a test reaches them
// quickly; it returns the undo.
func SetWALLimits(frames, bytes int) func() {
	oldFrames, oldBytes := walRestartFrames, walSizeLimit
	walRestartFrames, walSizeLimit = frames, bytes
	return func() { walRestartFrames, walSizeLimit = oldFrames, oldBytes }
}
