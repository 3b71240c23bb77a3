package meta

// EscapeNonASCII rewrites every non-ASCII character of a JSON text as a
// \uXXXX escape, as the provider writes its bodies. The JSON means the
// same; only its bytes change.
func EscapeNonASCII(b []byte) []byte { return escapeNonASCII(b) }
