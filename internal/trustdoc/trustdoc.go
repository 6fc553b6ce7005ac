// Package trustdoc tells apart the JSON documents people give as trust
// roots: a Sigstore trusted_root.json and the TUF metadata (root.json and
// the other roles) that distributes one. Each is easily mistaken for the
// other, and the parser of one says nothing useful about the other.
package trustdoc

import (
	"encoding/json"
	"strings"
)

// Kind is what a document is.
type Kind int

// Kinds of document.
const (
	Unknown     Kind = iota // neither, or not JSON
	TrustedRoot             // a Sigstore trusted_root.json
	TUFRoot                 // TUF root metadata: root.json
	TUFOther                // TUF metadata of another role: timestamp, snapshot, targets
)

// trustedRootMediaType is the media type a trusted_root.json declares,
// without its version parameter.
const trustedRootMediaType = "application/vnd.dev.sigstore.trustedroot"

// Classify says what b is, from its shape: TUF metadata is a "signed"
// object with a "_type" beside a "signatures" list; a trusted root
// declares its media type.
func Classify(b []byte) (Kind, string) {
	var doc struct {
		MediaType string `json:"mediaType"`
		Signed    *struct {
			Type string `json:"_type"`
		} `json:"signed"`
		Signatures json.RawMessage `json:"signatures"`
	}
	if json.Unmarshal(b, &doc) != nil {
		return Unknown, ""
	}
	switch {
	case doc.Signed != nil && len(doc.Signatures) > 0:
		if strings.EqualFold(doc.Signed.Type, "root") {
			return TUFRoot, "root"
		}
		return TUFOther, doc.Signed.Type
	case strings.HasPrefix(doc.MediaType, trustedRootMediaType):
		return TrustedRoot, ""
	}
	return Unknown, ""
}
