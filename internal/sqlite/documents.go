package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
)

// documentIndex maps the blind index of every registered document to its
// registration's sequence. It lives in memory instead of a UNIQUE index on
// disk: document hashes are random, so each registration in a B-tree index
// dirtied a different page, and at a few thousand registrations a second the
// writer spent most of its time writing those pages to the WAL. Rows are only
// appended (sequences increase, hashes never change), so the index is kept
// exact by reading the rows past the last sequence it has seen: inside the
// write transaction before deduplicating (SQLite's write lock makes that
// complete even if another process wrote), and before answering a miss.
type documentIndex struct {
	mu     sync.RWMutex
	seqs   map[[hashKeyLen]byte]int64
	loaded int64 // highest sequence whose row has been read
}

// hashKeyLen is the length of the blind indexes turnero stores.
const hashKeyLen = 16

func newDocumentIndex() *documentIndex {
	return &documentIndex{seqs: make(map[[hashKeyLen]byte]int64)}
}

func hashKey(h []byte) ([hashKeyLen]byte, bool) {
	var k [hashKeyLen]byte
	if len(h) != hashKeyLen {
		return k, false
	}
	copy(k[:], h)
	return k, true
}

func (x *documentIndex) lookup(h []byte) (int64, bool) {
	k, ok := hashKey(h)
	if !ok {
		return 0, false
	}
	x.mu.RLock()
	seq, ok := x.seqs[k]
	x.mu.RUnlock()
	return seq, ok
}

// catchUp reads the rows appended since the last call. q runs the query on
// the connection the caller holds (the write transaction, or a reader).
func (x *documentIndex) catchUp(ctx context.Context, q func(ctx context.Context, after int64) (*sql.Rows, error)) error {
	x.mu.RLock()
	after := x.loaded
	x.mu.RUnlock()
	rows, err := q(ctx, after)
	if err != nil {
		return fmt.Errorf("read new documents: %w", err)
	}
	defer rows.Close()
	var fresh []struct {
		k   [hashKeyLen]byte
		seq int64
	}
	var h []byte
	var seq int64
	for rows.Next() {
		if err := rows.Scan(&h, &seq); err != nil {
			return fmt.Errorf("read new documents: %w", err)
		}
		k, ok := hashKey(h)
		if !ok {
			return fmt.Errorf("registration %d: document hash of %d bytes", seq, len(h))
		}
		fresh = append(fresh, struct {
			k   [hashKeyLen]byte
			seq int64
		}{k, seq})
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read new documents: %w", err)
	}
	if len(fresh) == 0 {
		return nil
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	for _, f := range fresh {
		if f.seq > x.loaded {
			x.seqs[f.k] = f.seq
			x.loaded = f.seq
		}
	}
	return nil
}

// add records registrations that are now committed.
func (x *documentIndex) add(keys [][hashKeyLen]byte, seqs []int64) {
	x.mu.Lock()
	defer x.mu.Unlock()
	for i, k := range keys {
		x.seqs[k] = seqs[i]
		if seqs[i] > x.loaded {
			x.loaded = seqs[i]
		}
	}
}

// last returns the highest sequence known.
func (x *documentIndex) last() int64 {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.loaded
}
