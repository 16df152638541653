package sqlite

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/store"
)

func (s queries) LastEventSeq(ctx context.Context) (int64, error) {
	var n int64
	if err := s.queryRow(ctx, `SELECT COALESCE(MAX(seq), 0) FROM events`).Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlite: last event seq: %w", err)
	}
	return n, nil
}

func (s queries) ListEvents(ctx context.Context, q store.EventQuery) ([]*api.Event, error) {
	if q.Limit <= 0 {
		return nil, fmt.Errorf("sqlite: list events: limit %d is not positive", q.Limit)
	}
	where := []string{"seq > ?"}
	args := []any{q.After}
	if len(q.Types) > 0 {
		where = append(where, "type IN ("+placeholders(len(q.Types))+")")
		for _, typ := range q.Types {
			args = append(args, typ)
		}
	}
	if q.Subject != "" {
		where = append(where, "subject = ?")
		args = append(args, q.Subject)
	}
	args = append(args, q.Limit)
	rows, err := s.query(ctx, `SELECT seq, id, source, type, subject, time, content_type, data FROM events
		WHERE `+strings.Join(where, " AND ")+` ORDER BY seq LIMIT ?`, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list events: %w", err)
	}
	out, err := scanAll(rows, "list events", func(sc interface{ Scan(...any) error }) (*api.Event, error) {
		var (
			e    api.Event
			at   string
			data []byte
		)
		if err := sc.Scan(&e.Seq, &e.ID, &e.Source, &e.Type, &e.Subject, &at, &e.DataContentType, &data); err != nil {
			return nil, err
		}
		t, err := parseTime(at)
		if err != nil {
			return nil, err
		}
		e.Time = t
		if len(data) > 0 {
			e.Data = data
		}
		e.SpecVersion = api.CloudEventsVersion
		return &e, nil
	})
	if out == nil && err == nil {
		out = []*api.Event{}
	}
	return out, err
}

// AppendEvent numbers the event inside the write transaction: write
// transactions never interleave, so max + 1 is gap-free and unique.
func (t *txn) AppendEvent(ctx context.Context, e *api.Event) error {
	last, err := t.LastEventSeq(ctx)
	if err != nil {
		return err
	}
	seq := last + 1
	id := strconv.FormatInt(seq, 10)
	_, err = t.exec(ctx, `INSERT INTO events (seq, id, source, type, subject, time, content_type, data)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, seq, id, e.Source, e.Type, e.Subject, formatTime(e.Time), e.DataContentType, []byte(e.Data))
	if err != nil {
		return fmt.Errorf("sqlite: append event %d: %w", seq, err)
	}
	e.Seq, e.ID = seq, id
	return nil
}
