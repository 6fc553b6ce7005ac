// Package fetch retrieves the inputs of a verification: repodata records and
// the content-addressed attestation sidecars of CEP 50.
//
// A package record that carries attestations_sha256 advertises a sidecar at
// <package-url>.sigs.<sha256>. [Client.FetchSidecar] builds that URL,
// retrieves the bytes over http(s) (with retries) or from a file:// URL when
// the caller allows it, caps the size while streaming, hashes the bytes and
// compares the hash with the advertised one before anything is parsed.
//
// Every failure is a [*Error] whose Kind says what went wrong, so that a
// caller can branch with errors.Is on the Err* sentinels. A record without
// attestations_sha256 yields [KindNotAdvertised], which is not a retrieval
// failure: the channel simply published no attestations for the package.
//
// URLs in errors and logs are redacted: user information, query strings and
// conda's /t/<token>/ path segments never appear.
//
// [ParseLockFile] and [ReadLockFile] read the packages of an environment
// from a conda explicit file, a pixi.lock (versions 4 to 6) or a
// conda-lock.yml (version 1), with errors that name the file and line. A
// [Cache] ([NewDirCache] on disk) keeps sidecars by their SHA-256 between
// runs; every cached copy is hashed again when it is read.
package fetch
