// Package testchannel holds this project's own test helpers for tampering
// with Sigstore bundles. The fake channels and the virtual Sigstore are in
// the public package condasigstest.
package testchannel
