package main

import (
	"io"
	"os"

	"github.com/condasigs/condasigs/internal/textsafe"
	"github.com/condasigs/condasigs/internal/trustdoc"
)

// maxTrustDocSize bounds what is read of a file to tell what it is:
// trusted roots and TUF root metadata are a few KiB.
const maxTrustDocSize = 16 << 20

// classifyFile says what the file at path is, reading at most
// maxTrustDocSize bytes; Unknown when it cannot be read, or is not a
// regular file: a pipe (bash's <(...), /dev/stdin) can be read once only,
// by the trusted-root parser, which names TUF metadata too.
func classifyFile(path string) (trustdoc.Kind, string) {
	if fi, err := os.Stat(path); err != nil || !fi.Mode().IsRegular() {
		return trustdoc.Unknown, ""
	}
	file, err := os.Open(path)
	if err != nil {
		return trustdoc.Unknown, ""
	}
	defer file.Close()
	if fi, err := file.Stat(); err != nil || !fi.Mode().IsRegular() {
		return trustdoc.Unknown, ""
	}
	b, err := io.ReadAll(io.LimitReader(file, maxTrustDocSize))
	if err != nil {
		return trustdoc.Unknown, ""
	}
	return trustdoc.Classify(b)
}

// trustFileMistake says which flag a --trusted-root or --add-trusted-root
// file that is TUF metadata belongs to, when one of them is; nil
// otherwise.
func trustFileMistake(f trustFlags) error {
	for _, flag := range []struct {
		name  string
		paths []string
	}{{"trusted-root", f.trustedRoots}, {"add-trusted-root", f.addRoots}} {
		for _, p := range flag.paths {
			switch kind, role := classifyFile(p); kind {
			case trustdoc.TUFRoot:
				return usageError("--%s %s is a TUF root.json (the metadata that starts a TUF repository's chain of trust), not a Sigstore trusted_root.json: give it to --tuf-root, with --tuf-url and the URL of its repository, which serves the trusted root (the public-good and --staging roots are built in); or give --%s the trusted_root.json that repository serves, which condasigs trust-root export FILE writes with the same TUF flags",
					flag.name, textsafe.Escape(p), flag.name)
			case trustdoc.TUFOther:
				return usageError("--%s %s is TUF %s metadata, not a Sigstore trusted_root.json: give the trusted_root.json its TUF repository serves (condasigs trust-root export FILE writes it), or leave --%s out to use the public-good TUF repository",
					flag.name, textsafe.Escape(p), textsafe.Quote(role), flag.name)
			}
		}
	}
	return nil
}

// tufRootMistake refuses a --tuf-root that is a trusted_root.json, which
// TUF would reject with a message about metadata.
func tufRootMistake(path string, b []byte) error {
	if kind, _ := trustdoc.Classify(b); kind == trustdoc.TrustedRoot {
		return usageError("--tuf-root %s is a Sigstore trusted_root.json, not a TUF root.json: give it with --trusted-root %s (read as is, no TUF, no network), or give --tuf-root the repository's root.json, from its operator",
			textsafe.Escape(path), textsafe.Escape(path))
	}
	return nil
}
