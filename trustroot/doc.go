// Package trustroot provides the trusted material that every verification
// rests on: the Fulcio CAs, transparency logs, CT logs and timestamp
// authorities of a Sigstore instance.
//
// A [Source] hands out immutable [Snapshot]s. [FromFile] and [FromJSON] read
// a trusted_root.json once (offline and air-gapped use); [NewTUF] follows a
// TUF repository (the Sigstore public-good instance by default, staging, or a
// private instance given by URL and initial root.json), caches it on disk,
// and refreshes it in the background until its context ends or it is closed.
// All TUF traffic goes through the caller's HTTP client, with retries; a
// failed refresh keeps the last good root and is logged through log/slog.
//
// Each repository has its own cache directory under [TUFOptions].CacheDir,
// which holds all that a start without the network needs: the metadata and
// the target, the root rotations walked since the initial root, and a record
// of the last successful update, from which the material's age is known. The
// cache is used only if it is private to the user by the rule of
// fetch.NewDirCache (or, read-only, root's): anyone else who could write
// it could roll it back to older metadata that is still validly signed, or
// plant links that turn its writes elsewhere; such a cache is neither read
// nor written. In it, nothing follows a link, and no file is read unchecked or
// unbounded. A cache that cannot be written is read, verified as always,
// but never written. Material whose age cannot be established says so in
// [Info].AgeUnknown.
//
// Several Sigstore instances can be trusted at once: [FromFile] reads
// several trusted_root.json files and [Combine] joins sources of any kind.
// Their material lists its instances (a Members method), and package attest
// verifies each bundle against the one instance whose CA issued its
// certificate.
package trustroot
