package schedule

import (
	"encoding/base64"
	"errors"
	"fmt"
	"hash/crc32"
	"slices"
	"strconv"
	"strings"

	"github.com/dedupsim/dedupsim/core/checkpoint"
)

// tokenVersion opens every replay token.
const tokenVersion = "dedupsim1"

// ErrToken is wrapped by the error for a replay token that cannot be read.
var ErrToken = errors.New("bad replay token")

// Token is what replays a serialized run: the configuration it ran, the
// scheduler and its settings, and the exact order of its steps.
type Token struct {
	// Config names the configuration, such as "legacy".
	Config string
	// Scheduler is the scheduler and its settings, such as
	// "pct depth=2 seed=1 run=4".
	Scheduler string
	Steps     []ScriptStep
}

// Encode gives the token as URL-safe base64 of a readable string:
// "dedupsim1|legacy|pct depth=2 seed=1|1b2b1d…|3f0a91c2", each step the
// worker's number and the checkpoint as a letter (a = checkpoint.All[0]),
// and last a CRC-32 of the rest, so that a token cut short or edited is
// refused rather than replayed as a different schedule.
func (t Token) Encode() string {
	var b strings.Builder
	for _, s := range t.Steps {
		b.WriteString(strings.TrimPrefix(s.Worker, "W"))
		b.WriteByte(byte('a' + slices.Index(checkpoint.All, s.At)))
	}
	raw := strings.Join([]string{tokenVersion, t.Config, t.Scheduler, b.String()}, "|")
	raw += fmt.Sprintf("|%08x", crc32.ChecksumIEEE([]byte(raw)))
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

// TokenOf makes the token of a run's schedule.
func TokenOf(config, scheduler string, steps []Step) Token {
	t := Token{Config: config, Scheduler: scheduler}
	for _, s := range steps {
		t.Steps = append(t.Steps, ScriptStep{Worker: s.Worker, At: s.At})
	}
	return t
}

// ParseToken reads a token made by Encode. A token with no steps, or
// whose scheduler it cannot read, is refused: it replays nothing.
func ParseToken(s string) (Token, error) {
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil {
		return Token{}, fmt.Errorf("%w: %w", ErrToken, err)
	}
	parts := strings.Split(string(raw), "|")
	if len(parts) != 5 || parts[0] != tokenVersion {
		return Token{}, fmt.Errorf("%w: not a %s token (cut short, or not one at all)",
			ErrToken, tokenVersion)
	}
	body := string(raw[:len(raw)-len(parts[4])-1])
	if parts[4] != fmt.Sprintf("%08x", crc32.ChecksumIEEE([]byte(body))) {
		return Token{}, fmt.Errorf("%w: damaged: its check does not match its steps",
			ErrToken)
	}
	t := Token{Config: parts[1], Scheduler: parts[2]}
	num := ""
	for _, r := range parts[3] {
		if r >= '0' && r <= '9' {
			num += string(r)
			continue
		}
		i := int(r - 'a')
		if _, err := strconv.Atoi(num); err != nil || i < 0 || i >= len(checkpoint.All) {
			return Token{}, fmt.Errorf("%w: bad step %q", ErrToken, num+string(r))
		}
		t.Steps = append(t.Steps, ScriptStep{Worker: "W" + num, At: checkpoint.All[i]})
		num = ""
	}
	if num != "" {
		return Token{}, fmt.Errorf("%w: truncated after worker %s", ErrToken, num)
	}
	if len(t.Steps) == 0 {
		return Token{}, fmt.Errorf("%w: it has no steps", ErrToken)
	}
	if err := readScheduler(t.Scheduler); err != nil {
		return Token{}, fmt.Errorf("%w: scheduler %q: %w", ErrToken, t.Scheduler, err)
	}
	return t, nil
}

// schedulerKinds lists the schedulers a token's steps can come from.
var schedulerKinds = []string{"script", "random", "pct", "exhaustive"}

// readScheduler checks a token's scheduler: any number of "replay of "
// and "shrunk from ", then one of schedulerKinds and its settings, each
// name=number, such as "replay of pct depth=2 k=32 seed=1 run=4". The
// settings say where the steps came from; a replay follows the steps and
// uses none of them.
func readScheduler(s string) error {
	for {
		rest, replay := strings.CutPrefix(s, "replay of ")
		if !replay {
			rest, replay = strings.CutPrefix(s, "shrunk from ")
		}
		if !replay {
			break
		}
		s = rest
	}
	fields := strings.Split(s, " ")
	if !slices.Contains(schedulerKinds, fields[0]) {
		return fmt.Errorf("unknown kind %q (known: %s)", fields[0],
			strings.Join(schedulerKinds, ", "))
	}
	for _, f := range fields[1:] {
		name, value, ok := strings.Cut(f, "=")
		if _, err := strconv.ParseInt(value, 10, 64); !ok || name == "" || err != nil {
			return fmt.Errorf("setting %q is not name=number", f)
		}
	}
	return nil
}
