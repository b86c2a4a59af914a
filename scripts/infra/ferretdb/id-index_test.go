package main

import (
	"database/sql"
	"encoding/binary"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/bson"
)

// ferretDBFile creates a database file shaped like FerretDB 1.24's: the collections table and one collection table
// with FerretDB's own unique index on _ferretdb_sjson->"_id".
func ferretDBFile(t *testing.T, dir, db string) {
	t.Helper()
	conn, err := sql.Open("sqlite", "file:"+filepath.Join(dir, db+sqliteExtension))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, q := range []string{
		`PRAGMA journal_mode=WAL`,
		`CREATE TABLE "_ferretdb_collections" (name TEXT NOT NULL UNIQUE, table_name TEXT NOT NULL UNIQUE, settings TEXT NOT NULL) STRICT`,
		`CREATE TABLE "stock_c20c8395" (_ferretdb_sjson TEXT NOT NULL CHECK(_ferretdb_sjson != '')) STRICT`,
		`CREATE UNIQUE INDEX "stock_c20c8395__id_" ON "stock_c20c8395" (_ferretdb_sjson->"_id")`,
		`INSERT INTO "_ferretdb_collections" VALUES ('stock', 'stock_c20c8395', '{}')`,
		`INSERT INTO "stock_c20c8395" VALUES ('{"_id":"a","n":1}'), ('{"_id":"b","n":2}')`,
	} {
		if _, err := conn.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// queryPlan returns EXPLAIN QUERY PLAN for the statement FerretDB runs for {_id: ...}.
func queryPlan(t *testing.T, file string) string {
	t.Helper()
	conn, err := sql.Open("sqlite", "file:"+file)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	rows, err := conn.Query(`EXPLAIN QUERY PLAN SELECT _ferretdb_sjson FROM "stock_c20c8395" WHERE _ferretdb_sjson->'$._id' = ?`, `"a"`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	return strings.Join(plan, "; ")
}

func TestIndexAllMakesIDLookupsUseAnIndex(t *testing.T) {
	dir := t.TempDir()
	ferretDBFile(t, dir, "shop")
	file := filepath.Join(dir, "shop"+sqliteExtension)
	if plan := queryPlan(t, file); !strings.Contains(plan, "SCAN") {
		t.Fatalf("before: expected a table scan, got %q", plan)
	}

	x := newIDIndexer(dir, slog.New(slog.NewTextHandler(io.Discard, nil)))
	x.indexAll()
	x.indexAll() // idempotent

	if plan := queryPlan(t, file); !strings.Contains(plan, "USING INDEX stock_c20c8395__id_path") {
		t.Fatalf("after: expected the _id path index, got %q", plan)
	}
	if !x.indexed["shop"]["stock"] {
		t.Fatalf("stock not recorded as indexed: %v", x.indexed)
	}
}

func TestAfterCommand(t *testing.T) {
	dir := t.TempDir()
	x := newIDIndexer(dir, slog.New(slog.NewTextHandler(io.Discard, nil)))

	// A database that does not exist is neither created nor recorded.
	x.afterCommand("insert", mustMarshal(t, bson.D{{Key: "insert", Value: "stock"}, {Key: "$db", Value: "shop"}}))
	if _, err := os.Stat(filepath.Join(dir, "shop"+sqliteExtension)); !os.IsNotExist(err) {
		t.Fatalf("database file created: %v", err)
	}

	ferretDBFile(t, dir, "shop")
	insert := mustMarshal(t, bson.D{{Key: "insert", Value: "stock"}, {Key: "documents", Value: bson.A{bson.D{{Key: "_id", Value: "c"}}}}, {Key: "$db", Value: "shop"}})
	x.afterCommand("insert", insert)
	if !x.indexed["shop"]["stock"] {
		t.Fatalf("not indexed after insert: %v", x.indexed)
	}

	x.afterCommand("dropDatabase", mustMarshal(t, bson.D{{Key: "dropDatabase", Value: 1}, {Key: "$db", Value: "shop"}}))
	if x.indexed["shop"]["stock"] {
		t.Fatal("still recorded after dropDatabase")
	}

	// Path-like database names are ignored.
	x.afterCommand("insert", mustMarshal(t, bson.D{{Key: "insert", Value: "stock"}, {Key: "$db", Value: "../shop"}}))
	if len(x.indexed) != 0 {
		t.Fatalf("unexpected: %v", x.indexed)
	}
}

func TestClassify(t *testing.T) {
	doc := mustMarshal(t, bson.D{{Key: "update", Value: "stock"}, {Key: "updates", Value: bson.A{}}, {Key: "$db", Value: "shop"}})
	msg := make([]byte, 21, 21+len(doc)+8)
	msg = append(msg, doc...)
	msg = append(msg, 1, 0, 0, 0, 0) // trailing bytes after the command document (e.g. another section)
	binary.LittleEndian.PutUint32(msg[0:4], uint32(len(msg)))
	binary.LittleEndian.PutUint32(msg[12:16], opMsg)

	name, got, expectsReply := classify(msg)
	if name != "update" || !expectsReply || !gatedCommands[name] {
		t.Fatalf("classify: %q %v", name, expectsReply)
	}
	db, coll, ok := commandTarget(got)
	if !ok || db != "shop" || coll != "stock" {
		t.Fatalf("commandTarget: %q %q %v", db, coll, ok)
	}
	if _, _, ok := commandTarget(bson.Raw{1, 2, 3}); ok {
		t.Fatal("commandTarget accepted a malformed document")
	}
}

func mustMarshal(t *testing.T, d bson.D) bson.Raw {
	t.Helper()
	b, err := bson.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestIndexFailureOnlyWarns(t *testing.T) {
	dir := t.TempDir()
	ferretDBFile(t, dir, "shop")
	conn, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "shop"+sqliteExtension))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(`INSERT INTO "_ferretdb_collections" VALUES ('ghost', 'ghost_00000000', '{}')`); err != nil {
		t.Fatal(err)
	}
	conn.Close()

	var log strings.Builder
	x := newIDIndexer(dir, slog.New(slog.NewTextHandler(&log, nil)))
	x.afterCommand("insert", mustMarshal(t, bson.D{{Key: "insert", Value: "ghost"}, {Key: "$db", Value: "shop"}}))
	if !strings.Contains(log.String(), "level=WARN") || !strings.Contains(log.String(), "ghost") {
		t.Fatalf("expected a warning naming the collection, got %q", log.String())
	}
	if !x.indexed["shop"]["stock"] || x.indexed["shop"]["ghost"] {
		t.Fatalf("indexed: %v", x.indexed)
	}
}
