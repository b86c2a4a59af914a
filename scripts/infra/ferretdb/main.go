// Command ferretdb runs an embedded FerretDB (MongoDB wire protocol on SQLite files) for local runs and tests.
// It exists because no mongod binary can be installed on the project's build machines; see docs/infrastructure.md.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
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

	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: *listen},
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

	logger.Warn("ferretdb listening", "addr", *listen, "data", abs)
	if err := f.Run(ctx); err != nil && ctx.Err() == nil {
		fmt.Fprintf(os.Stderr, "ferretdb: %v\n", err)
		os.Exit(1)
	}
}
