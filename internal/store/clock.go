package store

import "time"

// nowUTC is only used for bookkeeping columns of the store itself
// (migration times); domain code takes its clock from the caller.
func nowUTC() time.Time { return time.Now().UTC() }
