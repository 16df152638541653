package registry

import (
	"context"
	"strconv"
	"time"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/errs"
	"github.com/hivellm/modelgov/internal/policy"
	"github.com/hivellm/modelgov/internal/schema"
	"github.com/hivellm/modelgov/internal/store"
)

// MoveAlias points alias name at a model, creating the alias if needed.
// Every move is kept in the alias's history.
func (s *Service) MoveAlias(ctx context.Context, name string, mv api.AliasMove, opts WriteOptions) (*Result, error) {
	if err := validAliasName(name); err != nil {
		return nil, err
	}
	if len(mv.Reason) > 1024 {
		return nil, errs.InvalidFields("the reason is too long", []api.FieldError{{Pointer: "/reason", Message: "must be at most 1024 characters"}})
	}
	return s.commit(ctx, write{opts: opts, do: func(ctx context.Context, tx store.Tx, now time.Time) (*Result, error) {
		cur, next, err := s.aliasChange(ctx, tx, name, opts, now, mv.Reason)
		if err != nil {
			return nil, err
		}
		if _, err := tx.GetModel(ctx, name); err == nil {
			return nil, errs.E(errs.Conflict, "%s is a model; an alias cannot take its name", name)
		} else if !errs.Is(err, errs.NotFound) {
			return nil, err
		}
		target, err := tx.GetModel(ctx, mv.Target)
		if errs.Is(err, errs.NotFound) {
			return nil, errs.InvalidFields("the alias must point at a model", []api.FieldError{{
				Pointer: "/target", Message: "model " + quote(mv.Target) + " does not exist"}})
		} else if err != nil {
			return nil, err
		}
		if cur != nil && cur.Target == target.ModelID {
			return &Result{Outcome: Unchanged, Alias: cur}, nil
		}
		e := entry(opts, now, string(policy.ActionAliasMove), name)
		e.Reason = mv.Reason
		prog, err := s.decideWrite(ctx, tx, &policy.Input{Action: policy.ActionAliasMove, Caller: policyCaller(opts.Caller), Now: now}, e)
		if err != nil {
			return nil, err
		}
		next.Target = target.ModelID
		if err := tx.PutAlias(ctx, next); err != nil {
			return nil, err
		}
		stampPolicy(e, prog)
		e.Reason = "→ " + next.Target + " " + mv.Reason
		if err := s.record(ctx, tx, e); err != nil {
			return nil, err
		}
		if cur == nil {
			return &Result{Outcome: Created, Alias: next}, nil
		}
		return &Result{Outcome: Updated, Alias: next}, nil
	}})
}

// DeleteAlias removes an alias; its history stays.
func (s *Service) DeleteAlias(ctx context.Context, name, reason string, opts WriteOptions) (*Result, error) {
	return s.commit(ctx, write{opts: opts, do: func(ctx context.Context, tx store.Tx, now time.Time) (*Result, error) {
		cur, next, err := s.aliasChange(ctx, tx, name, opts, now, reason)
		if err != nil {
			return nil, err
		}
		if cur == nil {
			return nil, errs.E(errs.NotFound, "alias %s not found", name)
		}
		e := entry(opts, now, string(policy.ActionAliasDelete), name)
		e.Reason = reason
		prog, err := s.decideWrite(ctx, tx, &policy.Input{Action: policy.ActionAliasDelete, Caller: policyCaller(opts.Caller), Now: now}, e)
		if err != nil {
			return nil, err
		}
		if err := tx.DeleteAlias(ctx, next); err != nil {
			return nil, err
		}
		stampPolicy(e, prog)
		if err := s.record(ctx, tx, e); err != nil {
			return nil, err
		}
		return &Result{Outcome: Deleted, Alias: cur}, nil
	}})
}

// aliasChange loads an alias, checks If-Match, and prepares its next version.
func (s *Service) aliasChange(ctx context.Context, tx store.Tx, name string, opts WriteOptions, now time.Time, reason string) (cur, next *api.Alias, err error) {
	if !isGovernor(opts.Caller) {
		// Aliases are the names other systems route by (hivellm/chair):
		// moving one is a governance act.
		return nil, nil, deny(opts, now, "alias.write", name, forbidden("only governors and admins may move or delete aliases"))
	}
	cur, err = tx.GetAlias(ctx, name)
	if errs.Is(err, errs.NotFound) {
		cur = nil
	} else if err != nil {
		return nil, nil, err
	}
	var curVersion string
	if cur != nil {
		curVersion = cur.ResourceVersion
	}
	if err := checkIfMatch(opts.IfMatch, curVersion, "alias "+name); err != nil {
		return nil, nil, err
	}
	hist, err := tx.AliasHistory(ctx, name)
	if err != nil {
		return nil, nil, err
	}
	var last int64
	if len(hist) > 0 {
		last, _ = strconv.ParseInt(hist[0].ResourceVersion, 10, 64)
	}
	next = &api.Alias{Name: name, ResourceVersion: strconv.FormatInt(last+1, 10),
		UpdatedAt: now, UpdatedBy: actor(opts.Caller), Reason: reason}
	return cur, next, nil
}

// GetAlias returns an alias.
func (s *Service) GetAlias(ctx context.Context, name string) (*api.Alias, error) {
	return s.store.GetAlias(ctx, name)
}

// ListAliases returns one page of aliases in name order; with target, only
// those that point at it.
func (s *Service) ListAliases(ctx context.Context, target string, size int, token string) (*api.AliasList, error) {
	size, err := pageSize(size)
	if err != nil {
		return nil, err
	}
	after, err := decodeCursor(token)
	if err != nil {
		return nil, err
	}
	items, err := s.store.ListAliases(ctx, target, after, size+1)
	if err != nil {
		return nil, err
	}
	list := &api.AliasList{Items: items}
	if len(items) > size {
		list.Items = items[:size]
		list.NextPageToken = encodeCursor(items[size-1].Name)
	}
	if list.Items == nil {
		list.Items = []*api.Alias{}
	}
	return list, nil
}

// AliasHistory returns every move of an alias, newest first.
func (s *Service) AliasHistory(ctx context.Context, name string) (*api.AliasHistory, error) {
	hist, err := s.store.AliasHistory(ctx, name)
	if err != nil {
		return nil, err
	}
	if len(hist) == 0 {
		return nil, errs.E(errs.NotFound, "alias %s not found", name)
	}
	return &api.AliasHistory{Items: hist}, nil
}

func validAliasName(name string) error {
	if !schema.ValidID(name) {
		return errs.E(errs.Malformed, "alias %q must be a lowercase slug \"namespace/name\", such as \"hivellm/chair\"", name)
	}
	return nil
}

func quote(s string) string { return strconv.Quote(s) }
