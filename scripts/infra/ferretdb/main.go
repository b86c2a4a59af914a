// Command ferretdb runs an embedded FerretDB (MongoDB wire protocol on SQLite files) for local runs and tests.
// It exists because no mongod binary can be installed on the project's build machines; see docs/infrastructure.md.
//
// FerretDB 1.24's SQLite handler reads and rewrites a document in separate steps, so two concurrent updates of
// one document can both match a version condition, or lose an $inc. The services rely on single-document updates
// being atomic (as they are on MongoDB), so this command puts a small wire-protocol proxy in front of FerretDB that
// runs write commands one at a time (see write-gate.go). Reads pass through untouched.
//
// FerretDB 1.24's SQLite backend also never uses its own _id index (the index and the queries spell the JSON path
// differently), so every lookup or update by _id scans the collection. This command adds a matching index on every
// collection table, at start-up and after each command that can create one (see id-index.go).
//
// Finally, that backend pushes a filter down to SQL only when it is exactly {_id: <string|ObjectID>}, so a
// conditional update such as {_id, version} read and decoded the whole collection. That one needs FerretDB's own
// code changed: patches/*.patch are unified diffs against the FerretDB version go.mod requires, which
// scripts/infra.sh applies to a copy of the module and builds this module against (a replace in a temporary go.mod,
// never in this one). patches/0001-push-down-id-equality.patch pushes the _id equality down whenever the filter has
// one; FerretDB's handlers re-apply the whole filter to what the backend returns, so that is safe. A plain
// `go build` or `go test` here uses unpatched FerretDB: correct, only slower on such filters.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:27017", "TCP address to listen on (loopback only)")
	dataDir := flag.String("data", "", "directory for the SQLite files (created if missing)")
	logLevel := flag.String("log-level", "warn", "debug, info, warn or error")
	// WAL with synchronous=NORMAL: a commit survives a crash of any process (the tests kill -9 services, never the
	// machine) without an fsync per write, which FULL does and which caps writes at the disk's flush rate.
	sqliteParams := flag.String("sqlite-params", "_pragma=synchronous(normal)", "extra SQLite URI parameters")
	serialWrites := flag.Bool("serial-writes", true, "run write commands one at a time so single-document updates are atomic")
	idIndex := flag.Bool("id-index", true, "index the _id path FerretDB's queries use (new collections only with -serial-writes)")
	flag.Parse()

	if *dataDir == "" {
		fmt.Fprintln(os.Stderr, "ferretdb: -data is required")
		os.Exit(2)
	}
	abs, err := filepath.Abs(*dataDir)
	if err != nil {
		fmt.Fprintf(os.Stderr, "ferretdb: bad -data: %v\n", err)
		os.Exit(2)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		fmt.Fprintf(os.Stderr, "ferretdb: cannot create %s: %v\n", abs, err)
		os.Exit(1)
	}

	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintf(os.Stderr, "ferretdb: bad -log-level: %v\n", err)
		os.Exit(2)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	// Existing tables are indexed before FerretDB opens the files; new ones by the write gate.
	var ids *idIndexer
	if *idIndex {
		ids = newIDIndexer(abs, logger)
		ids.indexAll()
	}

	listener := ferretdb.ListenerConfig{TCP: *listen}
	var socket string
	if *serialWrites {
		// FerretDB itself listens on a private Unix socket; the gate owns the TCP address.
		socket = filepath.Join(os.TempDir(), fmt.Sprintf("o2o-ferretdb-%d.sock", os.Getpid()))
		_ = os.Remove(socket)
		listener = ferretdb.ListenerConfig{Unix: socket}
	}

	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  listener,
		Logger:    logger,
		Handler:   "sqlite",
		SQLiteURL: "file:" + abs + "/?" + *sqliteParams,
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "ferretdb: %v\n", err)
		os.Exit(1)
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	if *serialWrites {
		tcp, err := net.Listen("tcp", *listen)
		if err != nil {
			fmt.Fprintf(os.Stderr, "ferretdb: %v\n", err)
			os.Exit(1)
		}
		defer os.Remove(socket)
		go serveWriteGate(ctx, tcp, socket, ids, logger)
	}

	// Printed whatever the log level: FerretDB logs every failed command at warn, so the scripts run it at error.
	fmt.Fprintf(os.Stderr, "ferretdb listening on %s (data %s, serial writes %v, _id index %v)\n", *listen, abs, *serialWrites, *idIndex)
	if err := f.Run(ctx); err != nil && ctx.Err() == nil {
		fmt.Fprintf(os.Stderr, "ferretdb: %v\n", err)
		os.Exit(1)
	}
}
