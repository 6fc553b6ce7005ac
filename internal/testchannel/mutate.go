package testchannel

import (
	"encoding/base64"
	"encoding/json"
	"testing"
)

// MutateJSON decodes doc, a JSON object such as a bundle, applies fn to it
// and encodes it again: for tests that tamper with one field of a valid
// bundle. Numbers decode as float64; a bundle's int64 fields are strings in
// its JSON form, so they survive unchanged.
func MutateJSON(t testing.TB, doc []byte, fn func(m map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(doc, &m); err != nil {
		t.Fatalf("testchannel: decoding the document to mutate: %v", err)
	}
	fn(m)
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatalf("testchannel: encoding the mutated document: %v", err)
	}
	return out
}

// Object returns the object reached from m by following the keys of path,
// failing the test when a step is missing or not an object. For the
// tlogEntries array, see [TlogEntry].
func Object(t testing.TB, m map[string]any, path ...string) map[string]any {
	t.Helper()
	for _, key := range path {
		next, ok := m[key].(map[string]any)
		if !ok {
			t.Fatalf("testchannel: %q is not an object", key)
		}
		m = next
	}
	return m
}

// TlogEntry returns the i-th transparency-log entry of a decoded bundle.
func TlogEntry(t testing.TB, bundle map[string]any, i int) map[string]any {
	t.Helper()
	entries, ok := Object(t, bundle, "verificationMaterial")["tlogEntries"].([]any)
	if !ok || i >= len(entries) {
		t.Fatalf("testchannel: the bundle has no tlog entry %d", i)
	}
	e, ok := entries[i].(map[string]any)
	if !ok {
		t.Fatalf("testchannel: tlog entry %d is not an object", i)
	}
	return e
}

// FlipBase64 decodes the standard base64 string s, flips the lowest bit of
// its byte at offset at (counted from the end when negative) and encodes it
// again: a one-bit change to the bytes, not to their encoding.
func FlipBase64(t testing.TB, s string, at int) string {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatalf("testchannel: %v", err)
	}
	if at < 0 {
		at += len(b)
	}
	if at < 0 || at >= len(b) {
		t.Fatalf("testchannel: offset %d outside %d bytes", at, len(b))
	}
	b[at] ^= 0x01
	return base64.StdEncoding.EncodeToString(b)
}

// SwapTlogEntries returns bundles a and b with their transparency-log
// entries exchanged: each then carries a genuine entry of a trusted log,
// for another signature and body.
func SwapTlogEntries(t testing.TB, a, b []byte) ([]byte, []byte) {
	t.Helper()
	entries := func(doc []byte) any {
		var m map[string]any
		if err := json.Unmarshal(doc, &m); err != nil {
			t.Fatalf("testchannel: %v", err)
		}
		return Object(t, m, "verificationMaterial")["tlogEntries"]
	}
	ea, eb := entries(a), entries(b)
	set := func(doc []byte, e any) []byte {
		return MutateJSON(t, doc, func(m map[string]any) { Object(t, m, "verificationMaterial")["tlogEntries"] = e })
	}
	return set(a, eb), set(b, ea)
}
