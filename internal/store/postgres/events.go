package postgres

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/store"
)

func (s queries) LastEventSeq(ctx context.Context) (int64, error) {
	var n int64
	if err := s.q.QueryRow(ctx, `SELECT COALESCE(MAX(seq), 0) FROM events`).Scan(&n); err != nil {
		return 0, fmt.Errorf("postgres: last event seq: %w", err)
	}
	return n, nil
}

func (s queries) ListEvents(ctx context.Context, q store.EventQuery) ([]*api.Event, error) {
	if q.Limit <= 0 {
		return nil, fmt.Errorf("postgres: list events: limit %d is not positive", q.Limit)
	}
	query, args := eventsSQL(q)
	rows, err := s.q.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: list events: %w", err)
	}
	return collectList(rows, "list events", func(row pgx.Row) (*api.Event, error) {
		var (
			e    api.Event
			data []byte
		)
		if err := row.Scan(&e.Seq, &e.ID, &e.Source, &e.Type, &e.Subject, (*stamp)(&e.Time), &e.DataContentType, &data); err != nil {
			return nil, err
		}
		if len(data) > 0 {
			e.Data = data
		}
		e.SpecVersion = api.CloudEventsVersion
		return &e, nil
	})
}

// eventsSQL builds the query of ListEvents: in seq order, so that it walks
// the primary key or the (column, seq) index of a filter and stops after
// the page.
func eventsSQL(q store.EventQuery) (string, []any) {
	var p params
	where := []string{"seq > " + p.add(q.After)}
	if len(q.Types) > 0 {
		where = append(where, "type = ANY("+p.add(q.Types)+")")
	}
	if q.Subject != "" {
		where = append(where, "subject = "+p.add(q.Subject))
	}
	return `SELECT seq, id, source, type, subject, time, content_type, data FROM events
		WHERE ` + strings.Join(where, " AND ") + ` ORDER BY seq LIMIT ` + p.add(q.Limit), p
}

// AppendEvent numbers the event inside the write transaction: write
// transactions hold the write lock, so max + 1 is gap-free and unique
// across every process.
func (t *txn) AppendEvent(ctx context.Context, e *api.Event) error {
	last, err := t.LastEventSeq(ctx)
	if err != nil {
		return err
	}
	seq := last + 1
	id := strconv.FormatInt(seq, 10)
	var data []byte
	if len(e.Data) > 0 {
		data = e.Data
	}
	_, err = t.q.Exec(ctx, `INSERT INTO events (seq, id, source, type, subject, time, content_type, data)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, seq, id, e.Source, e.Type, e.Subject, stamp(e.Time), e.DataContentType, data)
	if err != nil {
		return failed(fmt.Sprintf("append event %d", seq), err)
	}
	e.Seq, e.ID = seq, id
	t.lastEvent = seq
	return nil
}
