package external

import (
	"github.com/dedupsim/dedupsim/sim/backend"

	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// staleRun is a run's schema whose owner died without cleaning up.
type staleRun struct {
	id    string
	owner Owner
}

// sweep removes the schemas and keys of runs whose owner is known to be
// dead. It logs what it removed and what it could not, and never fails
// New: leftovers are untidy, not wrong.
func (b *Backend) sweep(ctx context.Context) {
	stale, err := b.staleRuns(ctx)
	if err != nil {
		b.log.Warn("sweep skipped", "err", err)
		return
	}
	for _, s := range stale {
		err := b.dropSchema(ctx, s.id)
		if err == nil {
			err = backend.DeleteKeys(ctx, b.redis, runPrefix(s.id))
		}
		if err != nil {
			b.log.Warn("stale run not swept", "run_id", s.id, "err", err)
			continue
		}
		b.log.Info("swept stale run", "run_id", s.id, "owner", s.owner.String())
	}
}

// staleRuns lists the run schemas whose comment names a dead owner.
func (b *Backend) staleRuns(ctx context.Context) ([]staleRun, error) {
	rows, err := b.admin.Query(ctx, `SELECT nspname,
			coalesce(obj_description(oid, 'pg_namespace'), '')
		FROM pg_namespace
		WHERE starts_with(nspname, $1)`, schemaPrefix)
	if err != nil {
		return nil, fmt.Errorf("list run schemas: %w", err)
	}
	type schema struct{ name, comment string }
	all, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (schema, error) {
		var s schema
		return s, r.Scan(&s.name, &s.comment)
	})
	if err != nil {
		return nil, fmt.Errorf("list run schemas: %w", err)
	}
	var stale []staleRun
	for _, s := range all {
		o, ok := parseOwner(s.comment)
		if ok && o.Dead() {
			stale = append(stale, staleRun{
				id: strings.TrimPrefix(s.name, schemaPrefix), owner: o})
		}
	}
	return stale, nil
}

// parseOwner reads the owner from a run schema's comment. Schemas
// without one are not ours to judge.
func parseOwner(comment string) (Owner, bool) {
	text, ok := strings.CutPrefix(comment, ownerTag)
	if !ok {
		return Owner{}, false
	}
	var o Owner
	if err := json.Unmarshal([]byte(text), &o); err != nil {
		return Owner{}, false
	}
	return o, true
}
