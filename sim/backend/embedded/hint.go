package embedded

import (
	"fmt"
	"strings"
)

// keepHint tells a person how to open a kept run once the backend has
// stopped: the command that starts a server on the kept data directory,
// the URL of the run's database, and how to remove it all afterwards.
func (b *Backend) keepHint(db string) string {
	args := append([]string{b.bins.postgres()}, serverArgs(b.in, b.srv.port)...)
	cmd := shellJoin(args)
	if b.acct.switches() {
		// The data directory belongs to the server's account.
		cmd = shellJoin([]string{"su", b.acct.name, "-s", "/bin/sh",
			"-c", "exec " + cmd})
	}
	return fmt.Sprintf("start the kept server: %s; then connect to %s; "+
		"when done: rm -rf %s",
		cmd, dsn(b.srv.port, db), shellQuote(b.in.dir))
}

// shellJoin quotes each argument for a POSIX shell and joins them.
func shellJoin(args []string) string {
	quoted := make([]string, len(args))
	for i, a := range args {
		quoted[i] = shellQuote(a)
	}
	return strings.Join(quoted, " ")
}

// shellQuote leaves plain words alone and single-quotes the rest.
func shellQuote(s string) string {
	plain := s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' ||
			r >= '0' && r <= '9' || strings.ContainsRune("-_./:=@%+,", r))
	}) < 0
	if plain {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
