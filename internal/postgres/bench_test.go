package postgres_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/turnero/turnero/internal/postgres/pgtest"
	"github.com/turnero/turnero/internal/storetest"
	"github.com/turnero/turnero/internal/turnero"
)

// BenchmarkInsertMethods compares the ways of writing a batch of new
// registrations in one transaction (one commit, one WAL flush each), to pick
// the one InsertRegistrations uses:
//
//	TURNERO_TEST_PG=... go test -run '^$' -bench InsertMethods -benchtime 20x ./internal/postgres/
func BenchmarkInsertMethods(b *testing.B) {
	methods := []struct {
		name   string
		insert func(ctx context.Context, tx pgx.Tx, rows []turnero.Registration) error
	}{
		{"copy", insertCopy},
		{"unnest", insertUnnest},
		{"batch", insertBatch},
	}
	for _, size := range []int{100, 1000} {
		for _, m := range methods {
			b.Run(fmt.Sprintf("%s/batch=%d", m.name, size), func(b *testing.B) {
				url := pgtest.URL(b)
				openDB(b, url) // creates the schema
				pool, err := pgxpool.New(context.Background(), url)
				if err != nil {
					b.Fatal(err)
				}
				defer pool.Close()
				ctx := context.Background()
				seq := 0
				b.ResetTimer()
				for b.Loop() {
					rows := make([]turnero.Registration, size)
					for i := range rows {
						seq++
						rows[i] = turnero.Registration{NewRegistration: storetest.NewRegistration(seq, "1960-01-01", "g1"),
							Sequence: int64(seq), GroupOrdinal: int64(seq), Status: turnero.StatusWaiting}
					}
					tx, err := pool.Begin(ctx)
					if err != nil {
						b.Fatal(err)
					}
					if err := m.insert(ctx, tx, rows); err != nil {
						b.Fatal(err)
					}
					if err := tx.Commit(ctx); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(seq)/b.Elapsed().Seconds(), "rows/s")
			})
		}
	}
}

// BenchmarkInsertRegistrations is the whole engine path: lock, reads,
// COPY, commit.
func BenchmarkInsertRegistrations(b *testing.B) {
	for _, size := range []int{1, 100, 1000} {
		b.Run(fmt.Sprintf("batch=%d", size), func(b *testing.B) {
			db := openDB(b, pgtest.URL(b))
			ctx := context.Background()
			n := 0
			batch := make([]turnero.NewRegistration, size)
			for b.Loop() {
				for i := range batch {
					n++
					batch[i] = storetest.NewRegistration(n, "1960-01-01", []string{"a", "b", "c"}[n%3])
					batch[i].ReceivedAt = time.Now()
				}
				if _, err := db.InsertRegistrations(ctx, batch); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

func values(r *turnero.Registration) []any {
	return []any{r.Sequence, r.DocumentHash, r.IdentityHash, r.Group, r.GroupOrdinal, r.Department,
		int32(r.Age), r.Channel, r.Status, r.KeyID, r.Sealed, r.ReceivedAt}
}

var columns = []string{"sequence", "document_hash", "identity_hash", "grp", "group_ordinal",
	"department", "age", "channel", "status", "key_id", "personal_data", "received_at"}

func insertCopy(ctx context.Context, tx pgx.Tx, rows []turnero.Registration) error {
	_, err := tx.CopyFrom(ctx, pgx.Identifier{"registrations"}, columns,
		pgx.CopyFromSlice(len(rows), func(i int) ([]any, error) { return values(&rows[i]), nil }))
	return err
}

func insertUnnest(ctx context.Context, tx pgx.Tx, rows []turnero.Registration) error {
	cols := make([][]any, len(columns))
	for i := range rows {
		for c, v := range values(&rows[i]) {
			cols[c] = append(cols[c], v)
		}
	}
	_, err := tx.Exec(ctx, `INSERT INTO registrations (sequence, document_hash, identity_hash, grp, group_ordinal,
		department, age, channel, status, key_id, personal_data, received_at)
		SELECT * FROM unnest($1::bigint[], $2::bytea[], $3::bytea[], $4::text[], $5::bigint[], $6::text[],
			$7::int[], $8::text[], $9::text[], $10::text[], $11::bytea[], $12::timestamptz[])
		ON CONFLICT (document_hash) DO NOTHING`, cols[0], cols[1], cols[2], cols[3], cols[4], cols[5],
		cols[6], cols[7], cols[8], cols[9], cols[10], cols[11])
	return err
}

func insertBatch(ctx context.Context, tx pgx.Tx, rows []turnero.Registration) error {
	b := &pgx.Batch{}
	for i := range rows {
		b.Queue(`INSERT INTO registrations (sequence, document_hash, identity_hash, grp, group_ordinal,
			department, age, channel, status, key_id, personal_data, received_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT (document_hash) DO NOTHING`,
			values(&rows[i])...)
	}
	return tx.SendBatch(ctx, b).Close()
}
