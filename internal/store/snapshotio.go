package store

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/hivellm/modelgov/api"
)

// The snapshot file format: JSON lines. The first line is the header,
// {"format":"modelgov-snapshot","version":1,"created":...}; each following
// line is one record, {"kind":"<kind>","<kind>":{...}}. Byte strings that
// the store keeps verbatim (policy bundles, event data, audit leaves,
// token hashes) are base64 strings, so that they come back byte for byte;
// audit tree hashes are hex.
const (
	// SnapshotFormat is the header's format.
	SnapshotFormat = "modelgov-snapshot"
	// SnapshotVersion is the version of the format this package writes
	// and reads.
	SnapshotVersion = 1
	// MaxSnapshotLine is the longest line a SnapshotReader accepts.
	MaxSnapshotLine = 64 << 20
)

type snapshotHeader struct {
	Format  string    `json:"format"`
	Version int       `json:"version"`
	Created time.Time `json:"created"`
}

// wireRecord is a Record as written.
type wireRecord struct {
	Kind       string           `json:"kind"`
	Policy     *wirePolicy      `json:"policy,omitempty"`
	Activation *Activation      `json:"activation,omitempty"`
	Model      *api.Model       `json:"model,omitempty"`
	Revision   *api.Revision    `json:"revision,omitempty"`
	Alias      *api.Alias       `json:"alias,omitempty"`
	AliasMove  *api.Alias       `json:"alias_move,omitempty"`
	Token      *wireToken       `json:"token,omitempty"`
	Claim      *Claim           `json:"claim,omitempty"`
	Benchmark  *api.Benchmark   `json:"benchmark,omitempty"`
	Evaluation *api.Evaluation  `json:"evaluation,omitempty"`
	Audit      *wireAudit       `json:"audit,omitempty"`
	AuditHash  *wireHash        `json:"audit_hash,omitempty"`
	Event      *wireEvent       `json:"event,omitempty"`
	Webhook    *wireWebhook     `json:"webhook,omitempty"`
	Delivery   *api.Delivery    `json:"delivery,omitempty"`
	Import     *api.ImportBatch `json:"import,omitempty"`
}

// wirePolicy writes the bundle as base64: encoding/json would compact a
// json.RawMessage.
type wirePolicy struct {
	api.Policy
	Bundle []byte `json:"bundle"`
}

// wireEvent writes the data as base64, for the same reason.
type wireEvent struct {
	api.Event
	Data []byte `json:"data"`
}

type wireToken struct {
	api.Token
	Hash []byte `json:"hash"`
}

// wireWebhook's Secret (the stored secret) hides api.Webhook's (which a
// stored subscription never sets).
type wireWebhook struct {
	api.Webhook
	Secret string `json:"secret"`
}

type wireAudit struct {
	Seq       int64     `json:"seq"`
	Time      time.Time `json:"time"`
	Principal string    `json:"principal"`
	Action    string    `json:"action"`
	Target    string    `json:"target"`
	Outcome   string    `json:"outcome"`
	Leaf      []byte    `json:"leaf"`
}

type wireHash struct {
	Index int64  `json:"index"`
	Hash  string `json:"hash"`
}

func toWire(r *Record) *wireRecord {
	w := &wireRecord{Kind: r.Kind, Activation: r.Activation, Model: r.Model, Revision: r.Revision, Alias: r.Alias,
		AliasMove: r.AliasMove, Claim: r.Claim, Benchmark: r.Benchmark, Evaluation: r.Evaluation, Delivery: r.Delivery, Import: r.Import}
	if p := r.Policy; p != nil {
		w.Policy = &wirePolicy{Policy: *p, Bundle: p.Bundle}
	}
	if t := r.Token; t != nil {
		w.Token = &wireToken{Token: t.Token, Hash: t.Hash}
	}
	if a := r.Audit; a != nil {
		w.Audit = &wireAudit{Seq: a.Seq, Time: a.Time, Principal: a.Principal, Action: a.Action, Target: a.Target,
			Outcome: a.Outcome, Leaf: a.Leaf}
	}
	if h := r.AuditHash; h != nil {
		w.AuditHash = &wireHash{Index: h.Index, Hash: hex.EncodeToString(h.Hash[:])}
	}
	if e := r.Event; e != nil {
		w.Event = &wireEvent{Event: *e, Data: e.Data}
	}
	if wh := r.Webhook; wh != nil {
		w.Webhook = &wireWebhook{Webhook: wh.Webhook, Secret: wh.Secret}
	}
	return w
}

func fromWire(w *wireRecord) (*Record, error) {
	r := &Record{Kind: w.Kind, Activation: w.Activation, Model: w.Model, Revision: w.Revision, Alias: w.Alias,
		AliasMove: w.AliasMove, Claim: w.Claim, Benchmark: w.Benchmark, Evaluation: w.Evaluation, Delivery: w.Delivery, Import: w.Import}
	if p := w.Policy; p != nil {
		r.Policy = &p.Policy
		r.Policy.Bundle = p.Bundle
	}
	if t := w.Token; t != nil {
		r.Token = &Token{Token: t.Token, Hash: t.Hash}
	}
	if a := w.Audit; a != nil {
		r.Audit = &AuditRecord{Seq: a.Seq, Time: a.Time, Principal: a.Principal, Action: a.Action, Target: a.Target,
			Outcome: a.Outcome, Leaf: a.Leaf}
	}
	if h := w.AuditHash; h != nil {
		b, err := hex.DecodeString(h.Hash)
		if err != nil || len(b) != 32 {
			return nil, fmt.Errorf("audit hash %d: %q is not 32 bytes of hex", h.Index, h.Hash)
		}
		r.AuditHash = &AuditHash{Index: h.Index}
		copy(r.AuditHash.Hash[:], b)
	}
	if e := w.Event; e != nil {
		r.Event = &e.Event
		r.Event.Data = e.Data
	}
	if wh := w.Webhook; wh != nil {
		r.Webhook = &Webhook{Webhook: wh.Webhook, Secret: wh.Secret}
	}
	return r, r.Check()
}

// SnapshotWriter writes a snapshot file: the header, then one line per
// record.
type SnapshotWriter struct {
	w       *bufio.Writer
	enc     *json.Encoder
	started bool
	err     error
}

// NewSnapshotWriter returns a writer of a snapshot to w. Nothing is written
// before the first Write or Close, and everything is flushed by Close.
func NewSnapshotWriter(w io.Writer) *SnapshotWriter {
	bw := bufio.NewWriterSize(w, 1<<16)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	return &SnapshotWriter{w: bw, enc: enc}
}

func (sw *SnapshotWriter) start() error {
	if sw.started || sw.err != nil {
		return sw.err
	}
	sw.started = true
	sw.err = sw.enc.Encode(snapshotHeader{Format: SnapshotFormat, Version: SnapshotVersion, Created: time.Now().UTC()})
	if sw.err != nil {
		sw.err = fmt.Errorf("write snapshot header: %w", sw.err)
	}
	return sw.err
}

// Write writes one record. After an error every call fails.
func (sw *SnapshotWriter) Write(r *Record) error {
	if err := sw.start(); err != nil {
		return err
	}
	if err := r.Check(); err != nil {
		return err
	}
	if err := sw.enc.Encode(toWire(r)); err != nil {
		sw.err = fmt.Errorf("write snapshot %s record: %w", r.Kind, err)
		return sw.err
	}
	return nil
}

// Close writes the header if no record was written, and flushes. It does
// not close the underlying writer.
func (sw *SnapshotWriter) Close() error {
	if err := sw.start(); err != nil {
		return err
	}
	if err := sw.w.Flush(); err != nil {
		sw.err = fmt.Errorf("write snapshot: %w", err)
		return sw.err
	}
	return nil
}

// SnapshotReader reads a snapshot file that a SnapshotWriter wrote.
type SnapshotReader struct {
	sc      *bufio.Scanner
	line    int
	started bool
	err     error
	// Created is when the snapshot was made, from its header; it is set
	// once Next has read the header.
	Created time.Time
}

// NewSnapshotReader returns a reader of the snapshot in r. It refuses a
// line longer than MaxSnapshotLine.
func NewSnapshotReader(r io.Reader) *SnapshotReader {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1<<16), MaxSnapshotLine)
	return &SnapshotReader{sc: sc}
}

// scan reads the next non-empty line; io.EOF at the end.
func (sr *SnapshotReader) scan() ([]byte, error) {
	for sr.sc.Scan() {
		sr.line++
		if b := bytes.TrimSpace(sr.sc.Bytes()); len(b) > 0 {
			return b, nil
		}
	}
	if err := sr.sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("snapshot line %d: longer than %d bytes", sr.line+1, MaxSnapshotLine)
		}
		return nil, fmt.Errorf("snapshot line %d: %w", sr.line+1, err)
	}
	return nil, io.EOF
}

// Next returns the next record, or io.EOF after the last one. It checks the
// header first, and refuses an unknown format, version or record kind, or a
// malformed record, with an error naming the line. After an error every
// call fails.
func (sr *SnapshotReader) Next() (*Record, error) {
	if sr.err != nil {
		return nil, sr.err
	}
	r, err := sr.next()
	if err != nil {
		sr.err = err
	}
	return r, err
}

func (sr *SnapshotReader) next() (*Record, error) {
	if !sr.started {
		sr.started = true
		b, err := sr.scan()
		if err == io.EOF {
			return nil, errors.New("snapshot is empty: no header line")
		}
		if err != nil {
			return nil, err
		}
		var h snapshotHeader
		if err := json.Unmarshal(b, &h); err != nil {
			return nil, fmt.Errorf("snapshot line %d: header: %w", sr.line, err)
		}
		if h.Format != SnapshotFormat {
			return nil, fmt.Errorf("snapshot line %d: format %q is not %q", sr.line, h.Format, SnapshotFormat)
		}
		if h.Version != SnapshotVersion {
			return nil, fmt.Errorf("snapshot line %d: version %d is not supported (this build reads version %d)",
				sr.line, h.Version, SnapshotVersion)
		}
		sr.Created = h.Created
	}
	b, err := sr.scan()
	if err != nil {
		return nil, err
	}
	var w wireRecord
	if err := json.Unmarshal(b, &w); err != nil {
		return nil, fmt.Errorf("snapshot line %d: %w", sr.line, err)
	}
	r, err := fromWire(&w)
	if err != nil {
		return nil, fmt.Errorf("snapshot line %d: %w", sr.line, err)
	}
	return r, nil
}
