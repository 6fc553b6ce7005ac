package trustroot

import (
	"github.com/condasigs/condasigs/internal/textsafe"
	"github.com/condasigs/condasigs/internal/trustdoc"
)

// tufMetadata says what b is when it is TUF metadata given where a
// trusted_root.json belongs, else "".
func tufMetadata(b []byte) string {
	switch kind, role := trustdoc.Classify(b); kind {
	case trustdoc.TUFRoot:
		return "this is a TUF root.json (the metadata that starts a TUF repository's chain of trust), not a Sigstore trusted_root.json: use it as the initial root of the TUF repository the trusted root is fetched from (TUFOptions.Root), or give the trusted_root.json that repository serves"
	case trustdoc.TUFOther:
		return "this is TUF " + textsafe.Quote(role) + " metadata, not a Sigstore trusted_root.json: give the trusted_root.json the TUF repository serves"
	}
	return ""
}
