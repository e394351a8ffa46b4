package postgres

import (
	"context"
	"strings"
	"testing"

	"github.com/turnero/turnero/internal/postgres/pgtest"
	"github.com/turnero/turnero/internal/storetest"
	"github.com/turnero/turnero/internal/turnero"
)

// TestWriterPlansForTheTableAsItIs: a node that started on an empty schema
// keeps finding duplicates through the index as the table grows. Left to
// itself, PostgreSQL gives a statement prepared on a connection a generic
// plan after five runs; made on a nearly empty table, the plan of
// "document_hash = ANY($1)" was a sequential scan, kept as the table grew:
// one read of every registration per batch (3,000 registrations/s at 200
// connections instead of 14,000).
func TestWriterPlansForTheTableAsItIs(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	const lookup = `SELECT sequence FROM registrations WHERE document_hash = ANY($1)`
	hashes := func(n int) string {
		var b strings.Builder
		b.WriteString("ARRAY[")
		for i := range n {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString("gen_random_uuid()::text::bytea")
		}
		b.WriteString("]")
		return b.String()
	}
	onWriter := func(sql string) string {
		t.Helper()
		conn, err := db.write.Acquire(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Release()
		rows, err := conn.Query(ctx, sql)
		if err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		var out strings.Builder
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err == nil {
				out.WriteString(line + "\n")
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		return out.String()
	}
	// Prepared and run on the empty table, as in a node's first batches.
	onWriter(`PREPARE lookup_by_document(bytea[]) AS ` + lookup)
	for range 8 {
		onWriter(`EXECUTE lookup_by_document(` + hashes(100) + `)`)
	}
	next := 0
	for range 100 {
		batch := make([]turnero.NewRegistration, 500)
		for i := range batch {
			batch[i] = storetest.NewRegistration(next, "1960-01-01", "g1")
			next++
		}
		if _, err := db.InsertRegistrations(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	plan := onWriter(`EXPLAIN EXECUTE lookup_by_document(` + hashes(100) + `)`)
	if strings.Contains(plan, "Seq Scan") || !strings.Contains(plan, "registrations_document_hash_key") {
		t.Fatalf("a batch's lookup of 100 documents among %d registrations, on the writer's connection:\n%s", next, plan)
	}
}
