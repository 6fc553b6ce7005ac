package condasigstest

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/condasigs/condasigs/attest"
	intoto "github.com/in-toto/attestation/go/v1"
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
		Type:          intoto.StatementTypeUri,
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

// sidecar joins bundles (JSON documents) into a CEP 50 sidecar: a JSON array.
// With no bundles it returns the empty array "[]", which CEP 50 forbids.
func sidecar(bundles ...[]byte) []byte {
	return append(append([]byte("["), bytes.Join(bundles, []byte(","))...), ']')
}

// fileTarget returns the first file:// targetChannel that a bundle of
// sidecar attests, or "". What does not parse is skipped: tests serve
// garbage on purpose.
func fileTarget(sidecar []byte) string {
	var bundles []json.RawMessage
	if json.Unmarshal(sidecar, &bundles) != nil {
		return ""
	}
	for _, raw := range bundles {
		var b struct {
			DSSE struct {
				Payload []byte `json:"payload"` // base64 in JSON
			} `json:"dsseEnvelope"`
		}
		var st struct {
			Predicate struct {
				TargetChannel string `json:"targetChannel"`
			} `json:"predicate"`
		}
		if json.Unmarshal(raw, &b) != nil || json.Unmarshal(b.DSSE.Payload, &st) != nil {
			continue
		}
		if target := st.Predicate.TargetChannel; len(target) >= 5 && strings.EqualFold(target[:5], "file:") {
			return target
		}
	}
	return ""
}
