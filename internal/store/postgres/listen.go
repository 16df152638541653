package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Listen calls wake each time a transaction that appended events commits,
// in this process or any other on the database (the notification of
// EventChannel), until ctx ends. It listens on a connection of its own, not
// one of the pool's; when that connection drops it connects again, waiting
// a little longer each time up to 5 s, and calls wake once it listens again,
// since events may have committed meanwhile. onError, when not nil, hears of
// each lost connection.
func (s *Store) Listen(ctx context.Context, wake func(), onError func(error)) error {
	pause := 100 * time.Millisecond
	for {
		err := s.listen(ctx, wake)
		if ctx.Err() != nil {
			return nil
		}
		if onError != nil {
			onError(err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(pause):
		}
		pause = min(2*pause, 5*time.Second)
	}
}

func (s *Store) listen(ctx context.Context, wake func()) error {
	conn, err := pgx.ConnectConfig(ctx, s.pool.Config().ConnConfig.Copy())
	if err != nil {
		return fmt.Errorf("postgres: listen: connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{EventChannel}.Sanitize()); err != nil {
		return fmt.Errorf("postgres: listen: %w", err)
	}
	wake()
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return fmt.Errorf("postgres: listen: %w", err)
		}
		wake()
	}
}
