package turnero

import "time"

// Clock tells the time. Tests set it; production uses SystemClock.
type Clock interface {
	Now() time.Time
}

// SystemClock is the machine's clock.
type SystemClock struct{}

func (SystemClock) Now() time.Time { return time.Now() }
