package attest

// MissingTrust lets the tests see what a bundle relies on that the trusted
// material lacks, whether or not it fails.
func (v *Verifier) MissingTrust(raw []byte) []string {
	b, _, err := parseBundle(raw)
	if err != nil {
		return nil
	}
	return v.missingTrust(b)
}
