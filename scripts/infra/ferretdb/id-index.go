package main

// FerretDB 1.24's SQLite backend creates each collection's unique _id index on the expression
// _ferretdb_sjson->"_id", but its queries, updates and deletes filter on _ferretdb_sjson->'$._id'
// (metadata.IDColumn). Both expressions extract the same value, yet SQLite uses an expression index only when the
// query's expression is written the same way, so every {_id: ...} lookup scanned the whole table: updateOne by _id
// fell from ~750/s at 100 documents to ~40/s at 10,000. FerretDB's code cannot be patched here, so this file adds a
// second, non-unique index on exactly the expression the queries use (uniqueness stays with FerretDB's own index):
//
//	CREATE INDEX IF NOT EXISTS "<table>__id_path" ON "<table>" (_ferretdb_sjson->'$._id')
//
// on every collection table (listed in each <db>.sqlite's _ferretdb_collections): all of them at start-up, before
// FerretDB opens the files, and at run time through the write gate, which calls afterCommand while it still holds
// the write lock after a command that can create a table (insert, update, findAndModify, create, createIndexes),
// so no FerretDB write races the DDL. FerretDB keeps its index list in its own metadata, so it never sees this index;
// DROP TABLE (drop, dropDatabase) removes it with the table.
//
// Each indexing pass opens the database file with its own connection and closes it again: FerretDB deletes the file
// on dropDatabase, so it must never be held open. A failure only logs a warning; the command has already been
// answered and the server carries on (lookups are then merely slow, as before).

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	_ "modernc.org/sqlite" // database/sql driver "sqlite", the one FerretDB itself uses
)

const (
	sqliteExtension     = ".sqlite"               // FerretDB's database file: <data dir>/<db>.sqlite
	collectionsTable    = "_ferretdb_collections" // FerretDB's metadata table: name, table_name, settings
	idIndexSuffix       = "__id_path"
	idIndexPassDeadline = 30 * time.Second
)

// idIndexer remembers which collections already have the index, so that the write path costs one map lookup.
// The write gate calls it only while holding its write lock, which therefore also guards indexed; indexAll runs
// before the gate starts.
type idIndexer struct {
	dir     string
	logger  *slog.Logger
	indexed map[string]map[string]bool // database -> collection -> index present
}

func newIDIndexer(dir string, logger *slog.Logger) *idIndexer {
	return &idIndexer{dir: dir, logger: logger, indexed: map[string]map[string]bool{}}
}

// indexAll indexes every collection table of every database file in the data directory.
func (x *idIndexer) indexAll() {
	files, err := filepath.Glob(filepath.Join(x.dir, "*"+sqliteExtension))
	if err != nil {
		x.logger.Warn("_id index: cannot list database files", "dir", x.dir, "err", err)
		return
	}
	for _, file := range files {
		x.indexDatabase(strings.TrimSuffix(filepath.Base(file), sqliteExtension))
	}
}

// afterCommand is called by the write gate, with the write lock held, once FerretDB has answered a gated command
// (or, for an unacknowledged one, once it has been sent). doc is the OP_MSG command document.
func (x *idIndexer) afterCommand(name string, doc bson.Raw) {
	switch name {
	case "insert", "update", "findAndModify", "findandmodify", "create", "createIndexes":
		db, coll, ok := commandTarget(doc)
		if !ok || x.indexed[db][coll] {
			return
		}
		x.indexDatabase(db)
	case "drop", "dropDatabase":
		// The tables are gone; a collection re-created under the same name gets a new table to index.
		if db, ok := doc.Lookup("$db").StringValueOK(); ok {
			delete(x.indexed, db)
		}
	case "renameCollection":
		// {renameCollection: "db.from", to: "db.to"}: "from" no longer names an indexed table, and "to" (if it
		// existed and dropTarget was set) was dropped. Forget both databases; their next write re-checks them.
		for _, key := range []string{"renameCollection", "to"} {
			if ns, ok := doc.Lookup(key).StringValueOK(); ok {
				db, _, _ := strings.Cut(ns, ".")
				delete(x.indexed, db)
			}
		}
	}
}

// commandTarget returns the database ($db) and collection (the value of the first key) a command applies to.
func commandTarget(doc bson.Raw) (db, coll string, ok bool) {
	first, err := doc.IndexErr(0)
	if err != nil {
		return "", "", false
	}
	if coll, ok = first.Value().StringValueOK(); !ok || coll == "" {
		return "", "", false
	}
	if db, ok = doc.Lookup("$db").StringValueOK(); !ok {
		return "", "", false
	}
	return db, coll, true
}

// indexDatabase indexes every collection table of one database and records the collections now indexed.
// A database whose file does not exist (never created, or dropped) is skipped silently.
func (x *idIndexer) indexDatabase(db string) {
	if db == "" || strings.ContainsAny(db, "/\\.\x00") { // not a FerretDB database name; never a path
		return
	}
	file := filepath.Join(x.dir, db+sqliteExtension)
	if _, err := os.Stat(file); errors.Is(err, fs.ErrNotExist) {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), idIndexPassDeadline)
	defer cancel()
	start := time.Now()
	colls, err := indexFile(ctx, file)
	for _, c := range colls {
		if x.indexed[db] == nil {
			x.indexed[db] = map[string]bool{}
		}
		x.indexed[db][c] = true
	}
	if err != nil {
		x.logger.Warn("_id index: could not index all collections; _id lookups on them scan the table", "db", db, "err", err)
		return
	}
	x.logger.Debug("_id index: database checked", "db", db, "collections", len(colls), "took", time.Since(start))
}

// indexFile creates the index on every table listed in the file's _ferretdb_collections and returns the names of
// the collections that have it. The connection is closed before it returns.
func indexFile(ctx context.Context, file string) ([]string, error) {
	// mode=rw: never create a file FerretDB has not (a dropped database stays dropped). The busy timeout covers a
	// FerretDB write that is not behind the gate (or an unacknowledged one still running). The file is already in
	// WAL mode (FerretDB sets it and it persists), so FerretDB's readers are not blocked by the DDL.
	dsn := (&url.URL{Scheme: "file", Path: file, RawQuery: "mode=rw&_pragma=busy_timeout(10000)"}).String()
	conn, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	conn.SetMaxOpenConns(1)

	rows, err := conn.QueryContext(ctx, "SELECT name, table_name FROM "+quoteIdent(collectionsTable))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", collectionsTable, err)
	}
	type collection struct{ name, table string }
	var colls []collection
	for rows.Next() {
		var c collection
		if err := rows.Scan(&c.name, &c.table); err != nil {
			rows.Close()
			return nil, err
		}
		colls = append(colls, c)
	}
	if err := rows.Close(); err != nil {
		return nil, err
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}

	var done []string
	var errs []error
	for _, c := range colls {
		q := fmt.Sprintf("CREATE INDEX IF NOT EXISTS %s ON %s (_ferretdb_sjson->'$._id')",
			quoteIdent(c.table+idIndexSuffix), quoteIdent(c.table))
		if _, err := conn.ExecContext(ctx, q); err != nil {
			errs = append(errs, fmt.Errorf("collection %q (table %s): %w", c.name, c.table, err))
			continue
		}
		done = append(done, c.name)
	}
	return done, errors.Join(errs...)
}

// quoteIdent quotes an SQLite identifier.
func quoteIdent(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}
