// Package store holds the reference flow's Postgres schema and queries.
package store

import (
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"sort"

	"github.com/jackc/pgx/v5"
)

//go:embed migrations/*.sql
var migrations embed.FS

// migrationNames lists the migration files in the order they run.
func migrationNames() []string {
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		panic(err) // the pattern is constant
	}
	sort.Strings(names)
	return names
}

// SchemaVersion is a short hash of every migration. Two databases migrated
// by the same SchemaVersion have the same schema.
func SchemaVersion() string {
	h := sha256.New()
	for _, name := range migrationNames() {
		b, _ := migrations.ReadFile(name)
		fmt.Fprintf(h, "%s\n%d\n", name, len(b))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// Migrate creates the schema in the database conn is connected to, in the
// schema first on its search_path.
func Migrate(ctx context.Context, conn *pgx.Conn) error {
	for _, name := range migrationNames() {
		b, err := migrations.ReadFile(name)
		if err != nil {
			return fmt.Errorf("read migration %s: %w", name, err)
		}
		if _, err := conn.Exec(ctx, string(b)); err != nil {
			return fmt.Errorf("run migration %s: %w", name, err)
		}
	}
	return nil
}
