package attest

// ParseSidecar lets the fuzz tests compare VerifySidecar with the parser.
var ParseSidecar = parseSidecar
