package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/bson"
)

// MongoDB wire protocol facts used here: every message starts with a 16-byte header (length, requestID,
// responseTo, opCode, little-endian int32s); OP_MSG (2013) carries flagBits then sections, and section kind 0 is
// the command document whose first key is the command name.
const (
	opMsg           = 2013
	moreToCome      = 1 << 1
	maxMessageBytes = 48 * 1024 * 1024
)

// gatedCommands run one at a time: the writes, plus the commands that create, drop or rename collection tables, so
// that the _id index pass (id-index.go) that follows them under the same lock sees a settled set of tables.
var gatedCommands = map[string]bool{
	"insert": true, "update": true, "delete": true, "findAndModify": true, "findandmodify": true,
	"create": true, "createIndexes": true, "drop": true, "dropDatabase": true, "renameCollection": true,
}

// serveWriteGate accepts client connections and proxies each to FerretDB's Unix socket, holding one process-wide
// lock from the moment a write command is forwarded until its reply comes back. Writes are thereby serialised
// (SQLite serialises them anyway), which makes FerretDB's read-then-rewrite of a document atomic. Before releasing
// the lock, the gate lets the _id indexer (id-index.go) index a collection the command may have created.
func serveWriteGate(ctx context.Context, listener net.Listener, socket string, ids *idIndexer, logger *slog.Logger) {
	var writes sync.Mutex
	go func() {
		<-ctx.Done()
		listener.Close()
	}()
	for {
		client, err := listener.Accept()
		if err != nil {
			if ctx.Err() == nil {
				logger.Error("write gate: accept failed", "err", err)
			}
			return
		}
		go gateConnection(client, socket, &writes, ids, logger)
	}
}

func gateConnection(client net.Conn, socket string, writes *sync.Mutex, ids *idIndexer, logger *slog.Logger) {
	defer client.Close()
	var backend net.Conn
	var err error
	// FerretDB may still be opening its socket right after start-up.
	for i := 0; i < 50; i++ {
		if backend, err = net.Dial("unix", socket); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		logger.Error("write gate: cannot reach ferretdb", "err", err)
		return
	}
	defer backend.Close()

	var mu sync.Mutex
	waiting := map[int32]chan struct{}{}
	done := make(chan struct{})

	// Replies: copy to the client; wake the writer waiting for this responseTo.
	go func() {
		defer close(done)
		defer client.Close()
		for {
			msg, err := readMessage(backend)
			if err != nil {
				return
			}
			if _, err := client.Write(msg); err != nil {
				return
			}
			responseTo := int32(binary.LittleEndian.Uint32(msg[8:12]))
			mu.Lock()
			if ch, ok := waiting[responseTo]; ok {
				close(ch)
				delete(waiting, responseTo)
			}
			mu.Unlock()
		}
	}()

	for {
		msg, err := readMessage(client)
		if err != nil {
			if !errors.Is(err, io.EOF) {
				logger.Debug("write gate: client read", "err", err)
			}
			return
		}
		name, doc, expectsReply := classify(msg)
		if !gatedCommands[name] {
			if _, err := backend.Write(msg); err != nil {
				return
			}
			continue
		}
		requestID := int32(binary.LittleEndian.Uint32(msg[4:8]))
		replied := make(chan struct{})
		if expectsReply {
			mu.Lock()
			waiting[requestID] = replied
			mu.Unlock()
		} else {
			close(replied)
		}
		writes.Lock()
		_, err = backend.Write(msg)
		if err == nil {
			select {
			case <-replied:
			case <-done:
				err = io.ErrUnexpectedEOF
			}
		}
		if err == nil && ids != nil {
			ids.afterCommand(name, doc)
		}
		writes.Unlock()
		if err != nil {
			return
		}
	}
}

// classify returns an OP_MSG's command name and command document ("" and nil for anything else) and whether the
// client expects a reply to it.
func classify(msg []byte) (name string, doc bson.Raw, expectsReply bool) {
	if len(msg) < 21 || int32(binary.LittleEndian.Uint32(msg[12:16])) != opMsg {
		return "", nil, true
	}
	flags := binary.LittleEndian.Uint32(msg[16:20])
	expectsReply = flags&moreToCome == 0
	if msg[20] != 0 { // first section is not the command document
		return "", nil, expectsReply
	}
	doc = msg[21:]
	if len(doc) >= 4 {
		if n := int(binary.LittleEndian.Uint32(doc[:4])); n >= 5 && n <= len(doc) {
			doc = doc[:n]
		}
	}
	return firstKey(doc), doc, expectsReply
}

// firstKey returns the name of a BSON document's first element (4-byte length, type byte, cstring name).
func firstKey(doc []byte) string {
	if len(doc) < 6 {
		return ""
	}
	end := bytes.IndexByte(doc[5:], 0)
	if end < 0 {
		return ""
	}
	return string(doc[5 : 5+end])
}

func readMessage(r io.Reader) ([]byte, error) {
	var header [4]byte
	if _, err := io.ReadFull(r, header[:]); err != nil {
		return nil, err
	}
	length := int(binary.LittleEndian.Uint32(header[:]))
	if length < 16 || length > maxMessageBytes {
		return nil, fmt.Errorf("bad message length %d", length)
	}
	msg := make([]byte, length)
	copy(msg, header[:])
	if _, err := io.ReadFull(r, msg[4:]); err != nil {
		return nil, err
	}
	return msg, nil
}
