package condasigstest

import (
	"bytes"
	"encoding/json"

	"github.com/condasigs/condasigs/attest"
)

type statementJSON struct {
	Type          string            `json:"_type"`
	Subject       []subjectJSON     `json:"subject"`
	PredicateType string            `json:"predicateType"`
	Predicate     map[string]string `json:"predicate,omitempty"`
}

type subjectJSON struct {
	Name   string            `json:"name"`
	Digest map[string]string `json:"digest"`
}

// Statement returns a CEP 27 in-toto Statement v1 as JSON: one subject
// {name: filename, digest: {sha256: sha256hex}}, predicate type
// [attest.PublishPredicateType] and predicate {"targetChannel": targetChannel}, or
// no predicate at all when targetChannel is empty.
func Statement(filename, sha256hex, targetChannel string) []byte {
	st := statementJSON{
		Type:          attest.StatementType,
		Subject:       []subjectJSON{{Name: filename, Digest: map[string]string{"sha256": sha256hex}}},
		PredicateType: attest.PublishPredicateType,
	}
	if targetChannel != "" {
		st.Predicate = map[string]string{"targetChannel": targetChannel}
	}
	out, err := json.Marshal(st)
	if err != nil {
		panic(err) // cannot happen: only strings
	}
	return out
}

// Sidecar joins bundles (JSON documents) into a CEP 50 sidecar: a JSON array.
// With no bundles it returns the empty array "[]", which CEP 50 forbids.
func Sidecar(bundles ...[]byte) []byte {
	return append(append([]byte("["), bytes.Join(bundles, []byte(","))...), ']')
}
