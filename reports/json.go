package reports

import (
	"encoding/json"
	"io"

	"github.com/dedupsim/dedupsim/sim"
)

// JSONVersion is the version of the JSON report's layout. It changes only
// when a field changes meaning or goes away.
const JSONVersion = 1

// Document is the JSON report: every scenario's result and the overall
// outcome.
type Document struct {
	Version int                  `json:"version"`
	Held    bool                 `json:"held"`
	Results []sim.ScenarioResult `json:"results"`
}

// JSON writes results as one indented JSON document.
func JSON(w io.Writer, results []sim.ScenarioResult) error {
	doc := Document{Version: JSONVersion, Held: true, Results: results}
	for _, r := range results {
		doc.Held = doc.Held && r.Held
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}
