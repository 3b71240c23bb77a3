package cli

import (
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"

	"github.com/dedupsim/dedupsim/capture"
)

type scrubOptions struct {
	secret, appSecret, key string
}

func scrubFlags(o *scrubOptions) *flag.FlagSet {
	fs := flag.NewFlagSet("scrub", flag.ContinueOnError)
	fs.StringVar(&o.secret, "secret", "",
		"the app `SECRET` that signs the scrubbed bodies (required)")
	fs.StringVar(&o.appSecret, "app-secret", "",
		"the `SECRET` the capture was signed with: a delivery whose signature "+
			"fails under it is signed to fail again")
	fs.StringVar(&o.key, "key", "",
		"the pseudonym `KEY`: the same key gives the same pseudonyms in every "+
			"file (default: a random key, so pseudonyms differ between runs)")
	fs.Usage = usage(fs, "dedupsim scrub -secret SECRET IN.jsonl OUT.jsonl", `
Turns a capture holding personal details into one that can be shared and
replayed: phone numbers (wa_id, from, display_phone_number, recipient_id),
profile and contact names, ids (message ids, entry ids, phone number ids,
media ids) and free text (bodies, captions, file names, addresses) are
replaced by pseudonyms, an HMAC of each value, so that a value becomes the
same pseudonym wherever it appears and copies stay identical. Ids and
phone numbers keep their shape. Timing is kept; of the headers, only
Content-Type and User-Agent. Every body is signed anew with -secret.
A body that is not JSON keeps only its length. The fields replaced are
listed in docs/capture-format.md.`)
	return fs
}

func scrubCmd(args []string, stdout, stderr io.Writer) int {
	var o scrubOptions
	fs := scrubFlags(&o)
	files, err := parseInterleaved(fs, args, stderr)
	if err != nil {
		return helpOrBad(err)
	}
	if err := o.check(files); err != nil {
		fmt.Fprintf(stderr, "dedupsim scrub: %v\n", err)
		return ExitBadInput
	}
	ds, err := capture.ReadFile(files[0])
	if err != nil {
		fmt.Fprintf(stderr, "dedupsim scrub: %v\n", err)
		return ExitBadInput
	}
	key := []byte(o.key)
	if len(key) == 0 {
		key = []byte(rand.Text())
	}
	out, err := capture.Scrub(ds, capture.ScrubOptions{Key: key, Secret: o.secret,
		AppSecret: o.appSecret})
	if err == nil {
		err = writeFile(files[1], func(w io.Writer) error {
			return capture.Write(w, out)
		})
	}
	if err != nil {
		fmt.Fprintf(stderr, "dedupsim scrub: %v\n", err)
		return ExitFailed
	}
	fmt.Fprintf(stdout, "scrubbed %d deliveries of %s into %s, signed with -secret\n",
		len(out), files[0], files[1])
	return ExitOK
}

func (o scrubOptions) check(files []string) error {
	switch {
	case len(files) != 2:
		return errors.New("name the capture to read and the file to write")
	case o.secret == "":
		return errors.New("-secret is required: the secret that signs the " +
			"scrubbed bodies")
	}
	in, _ := filepath.Abs(files[0])
	out, _ := filepath.Abs(files[1])
	if in == out {
		return errors.New("write the scrubbed capture to another file")
	}
	return checkWritable(files[1])
}
