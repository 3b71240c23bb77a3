package meta_test

import (
	"bytes"
	"fmt"
	"time"

	"github.com/dedupsim/dedupsim/core/meta"
)

// A receiver checks the signature over the bytes it received, then parses
// them.
func Example() {
	body := meta.BuildText("200000000000001", "15550000001", "100000000000001",
		meta.TextMessage{
			ID:        "wamid.EXAMPLE1",
			From:      "15550000002",
			Name:      "Test User",
			Text:      "Olá",
			Timestamp: time.Unix(1767225600, 0),
		})
	header := meta.Sign("example-secret", body)

	if err := meta.Verify("example-secret", body, header); err != nil {
		fmt.Println(err)
		return
	}
	d, err := meta.Parse(body)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, m := range d.Messages {
		fmt.Println(m.ID, m.ContactName, m.Parts[0].Content)
	}

	// The body escapes non-ASCII text as the provider does.
	i := bytes.Index(body, []byte(`"text":{`))
	j := i + bytes.IndexByte(body[i:], '}') + 1
	fmt.Println(string(body[i:j]))
	// Output:
	// wamid.EXAMPLE1 Test User Olá
	// "text":{"body":"Ol\u00e1"}
}
