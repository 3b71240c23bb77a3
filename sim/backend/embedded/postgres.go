package embedded

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/dedupsim/dedupsim/core/store"
)

const (
	superuser    = "postgres"
	templateDB   = "dedupsim_template"
	adminDB      = "postgres"
	adminMaxConn = 4
)

// startPostgres copies the template and starts a server on the copy. A
// missing template is built; one found damaged, by its manifest or by a
// server that will not start from it, is rebuilt once.
func (b *Backend) startPostgres(ctx context.Context) error {
	rebuilt := false
	for range 3 {
		id, err := b.startFromTemplate(ctx)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, errTemplateMissing):
		case errors.Is(err, errTemplateDamaged) && !rebuilt:
			rebuilt = true
			b.log.Warn("template damaged, rebuilding",
				"template", b.tmpl.dir(), "err", err)
		default:
			return err
		}
		start := time.Now()
		built, err := b.tmpl.rebuild(ctx, id, b.buildTemplate)
		if err != nil {
			return err
		}
		if built {
			b.log.Info("postgres template built", "template", b.tmpl.dir(),
				"duration", time.Since(start))
		}
	}
	return fmt.Errorf("start postgres: template %s: %w",
		b.tmpl.dir(), errTemplateMissing)
}

// startFromTemplate makes an instance, copies the template into it and
// starts a server there. It returns the ID of the template it used.
func (b *Backend) startFromTemplate(ctx context.Context) (string, error) {
	in, err := createInstance(b.cfg.RuntimeDir, b.acct)
	if err != nil {
		return "", err
	}
	m, err := b.tmpl.copyTo(ctx, in.dataDir(), b.acct)
	if err != nil {
		_ = in.remove()
		return m.ID, err
	}
	srv, err := startServer(ctx, b.bins, b.acct, in, b.cfg.StartTimeout)
	if errors.Is(err, errExitedEarly) {
		err = fmt.Errorf("start from template: %w: %w", errTemplateDamaged, err)
	}
	if err != nil {
		_ = in.remove()
		return m.ID, err
	}
	admin, err := connectAdmin(ctx, srv.port)
	if err != nil {
		_ = srv.stop(b.cfg.StopTimeout)
		_ = in.remove()
		return m.ID, err
	}
	b.in, b.srv, b.admin, b.templateID = in, srv, admin, m.ID
	return m.ID, nil
}

// connectAdmin opens the pool for DDL and checks that the server has the
// template database: a copy without it comes from a damaged template.
func connectAdmin(ctx context.Context, port int) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(dsn(port, adminDB))
	if err != nil {
		return nil, fmt.Errorf("parse admin DSN: %w", err)
	}
	cfg.MaxConns = adminMaxConn
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect admin pool: %w", err)
	}
	var found bool
	err = pool.QueryRow(ctx, "SELECT EXISTS (SELECT FROM pg_database "+
		"WHERE datname = $1 AND datistemplate)", templateDB).Scan(&found)
	if err == nil && !found {
		err = fmt.Errorf("no database %s: %w", templateDB, errTemplateDamaged)
	}
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("check template database: %w", err)
	}
	return pool, nil
}

// dsn connects to database db of the server on port.
func dsn(port int, db string) string {
	return fmt.Sprintf("postgres://%s@127.0.0.1:%d/%s?sslmode=disable",
		superuser, port, db)
}

// buildTemplate makes a fresh data directory at dst: initdb, the
// template database migrated to the current schema, a clean shutdown.
func (b *Backend) buildTemplate(ctx context.Context, dst string) error {
	in, err := createInstance(b.cfg.RuntimeDir, b.acct)
	if err != nil {
		return err
	}
	defer func() { _ = in.remove() }()
	if err := b.initdb(ctx, in); err != nil {
		return err
	}
	srv, err := startServer(ctx, b.bins, b.acct, in, b.cfg.StartTimeout)
	if err != nil {
		return err
	}
	err = migrateTemplate(ctx, srv.port)
	if err := errors.Join(err, srv.stop(b.cfg.StopTimeout)); err != nil {
		return err
	}

	// The build ran as the server's account; the cache is this user's.
	files, err := scanTree(in.dataDir(), volatile)
	if err != nil {
		return err
	}
	return copyTree(ctx, in.dataDir(), dst, files, account{uid: -1})
}

// initdb makes a new cluster in in's data directory and appends the
// server settings to its postgresql.conf.
func (b *Backend) initdb(ctx context.Context, in instance) error {
	if err := makeDir(in.dataDir(), b.acct); err != nil {
		return err
	}
	args := []string{"-D", in.dataDir(), "--no-sync", "-A", "trust",
		"-E", "UTF8", "--locale=C", "-U", superuser,
		// 1 MB WAL segments rather than 16: less to copy per start.
		"--wal-segsize=1"}
	if b.bins.major() >= 14 {
		args = append(args, "--no-instructions")
	}
	cmd := exec.Command(b.bins.initdb(), args...)
	var out bytes.Buffer
	cmd.Dir, cmd.Env = in.dir, childEnv()
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = b.acct.sysProcAttr()
	if err := runProcess(ctx, cmd); err != nil {
		return fmt.Errorf("initdb: %w\n%s", err, bytes.TrimSpace(out.Bytes()))
	}

	conf := filepath.Join(in.dataDir(), "postgresql.conf")
	f, err := os.OpenFile(conf, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return fmt.Errorf("configure server: %w", err)
	}
	_, err = f.WriteString(serverConf)
	if err := errors.Join(err, f.Close()); err != nil {
		return fmt.Errorf("configure server: %w", err)
	}
	return nil
}

// migrateTemplate creates the template database and migrates it, then
// closes it to connections: CREATE DATABASE needs a template no one uses.
func migrateTemplate(ctx context.Context, port int) error {
	admin, err := pgx.Connect(ctx, dsn(port, adminDB))
	if err != nil {
		return fmt.Errorf("connect to build server: %w", err)
	}
	defer admin.Close(context.WithoutCancel(ctx))
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+templateDB); err != nil {
		return fmt.Errorf("create template database: %w", err)
	}

	conn, err := pgx.Connect(ctx, dsn(port, templateDB))
	if err != nil {
		return fmt.Errorf("connect to template database: %w", err)
	}
	err = store.Migrate(ctx, conn)
	if err := errors.Join(err, conn.Close(ctx)); err != nil {
		return fmt.Errorf("migrate template database: %w", err)
	}

	_, err = admin.Exec(ctx, "ALTER DATABASE "+templateDB+
		" WITH IS_TEMPLATE true ALLOW_CONNECTIONS false")
	if err != nil {
		return fmt.Errorf("seal template database: %w", err)
	}
	return nil
}

// volatile reports whether a file of a stopped data directory is one the
// server rewrites, throws away or makes again when needed, so that a
// template need not carry it: lock and options files, the log, relation
// cache init files, temporary statistics, and the free space and
// visibility maps (many relations lack them anyway; both are made again
// on demand). Fewer files make each start's copy faster.
func volatile(rel string) bool {
	switch rel {
	case "postmaster.pid", "postmaster.opts", serverLogFile:
		return true
	}
	base := path.Base(rel)
	return base == "pg_internal.init" ||
		strings.HasPrefix(rel, "pg_stat_tmp/") ||
		strings.HasPrefix(rel, "base/") &&
			(strings.HasSuffix(base, "_fsm") || strings.HasSuffix(base, "_vm"))
}
