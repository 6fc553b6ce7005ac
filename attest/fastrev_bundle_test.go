package attest_test

import (
	"encoding/json"
	"testing"

	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/stretchr/testify/require"

	"github.com/condasigs/condasigs/attest"
	"github.com/condasigs/condasigs/condasigstest"
)

// editJSON returns raw with edit applied to its decoded form.
func editJSON(t *testing.T, raw []byte, edit func(b map[string]any)) []byte {
	t.Helper()
	var b map[string]any
	require.NoError(t, json.Unmarshal(raw, &b))
	edit(b)
	out, err := json.Marshal(b)
	require.NoError(t, err)
	return out
}

func material(b map[string]any) map[string]any { return b["verificationMaterial"].(map[string]any) }

func timestamps(b map[string]any) []any {
	tvd, _ := material(b)["timestampVerificationData"].(map[string]any)
	if tvd == nil {
		return nil
	}
	ts, _ := tvd["rfc3161Timestamps"].([]any)
	return ts
}

func setTimestamps(b map[string]any, ts []any) {
	material(b)["timestampVerificationData"] = map[string]any{"rfc3161Timestamps": ts}
}

// TestFastHostileBundles: bundles of virtual instances edited as an
// attacker who controls them would: timestamps duplicated, foreign, missing
// or alone, every media type, certificate chains, public keys; under one
// instance, a set and a pool. Both paths must give the same evidence.
func TestFastHostileBundles(t *testing.T) {
	a, b := condasigstest.NewSigstore(t), condasigstest.NewSigstore(t)
	st := condasigstest.Statement(vFilename, vSHA, vChannel)
	s := attest.Subject{Filename: vFilename, SHA256: vSHA, Channel: vChannel}
	rawA, rawB := a.Bundle(t, vSAN, vIssuer, st), b.Bundle(t, vSAN, vIssuer, st)
	var bb map[string]any
	require.NoError(t, json.Unmarshal(rawB, &bb))
	tsB := timestamps(bb)
	require.NotEmpty(t, tsB)
	caA := a.TrustedMaterial().FulcioCertificateAuthorities()[0].(*root.FulcioCertificateAuthority)
	cas, tsas := attest.FastCounts(a.TrustedMaterial())
	require.Equal(t, [2]int{1, 1}, [2]int{cas, tsas}, "the virtual instance takes the fast path")

	bundles := map[string][]byte{
		"A": rawA,
		"A, its timestamp twice": editJSON(t, rawA, func(m map[string]any) {
			setTimestamps(m, append(timestamps(m), timestamps(m)...))
		}),
		"A, and B's timestamp":   editJSON(t, rawA, func(m map[string]any) { setTimestamps(m, append(timestamps(m), tsB...)) }),
		"A, B's timestamp first": editJSON(t, rawA, func(m map[string]any) { setTimestamps(m, append(append([]any{}, tsB...), timestamps(m)...)) }),
		"A, B's timestamp only":  editJSON(t, rawA, func(m map[string]any) { setTimestamps(m, tsB) }),
		"A, no timestamp":        editJSON(t, rawA, func(m map[string]any) { setTimestamps(m, nil) }),
		"A, no log entry":        editJSON(t, rawA, func(m map[string]any) { delete(material(m), "tlogEntries") }),
		"A, B's log entry": editJSON(t, rawA, func(m map[string]any) {
			material(m)["tlogEntries"] = material(bb)["tlogEntries"]
		}),
		"A, v0.1":   editJSON(t, rawA, func(m map[string]any) { m["mediaType"] = "application/vnd.dev.sigstore.bundle+json;version=0.1" }),
		"A, v0.2":   editJSON(t, rawA, func(m map[string]any) { m["mediaType"] = "application/vnd.dev.sigstore.bundle+json;version=0.2" }),
		"A, v0.3.0": editJSON(t, rawA, func(m map[string]any) { m["mediaType"] = "application/vnd.dev.sigstore.bundle.v0.3.0+json" }),
		"A, v0.1 without its promise": editJSON(t, rawA, func(m map[string]any) {
			m["mediaType"] = "application/vnd.dev.sigstore.bundle+json;version=0.1"
			for _, e := range material(m)["tlogEntries"].([]any) {
				delete(e.(map[string]any), "inclusionPromise")
			}
		}),
		"A, v0.2 without its proof": editJSON(t, rawA, func(m map[string]any) {
			m["mediaType"] = "application/vnd.dev.sigstore.bundle+json;version=0.2"
			for _, e := range material(m)["tlogEntries"].([]any) {
				delete(e.(map[string]any), "inclusionProof")
			}
		}),
	}
	for _, ver := range []string{"application/vnd.dev.sigstore.bundle+json;version=0.2", "application/vnd.dev.sigstore.bundle.v0.3+json"} {
		for name, extra := range map[string][]byte{"its intermediate": caA.Intermediates[0].Raw, "B's leaf": nil} {
			bundles["A as a chain with "+name+", "+ver] = editJSON(t, rawA, func(m map[string]any) {
				vm := material(m)
				leaf := vm["certificate"]
				delete(vm, "certificate")
				certs := []any{leaf}
				if extra != nil {
					certs = append(certs, map[string]any{"rawBytes": extra})
				} else {
					certs = append(certs, material(bb)["certificate"])
				}
				vm["x509CertificateChain"] = map[string]any{"certificates": certs}
				m["mediaType"] = ver
			})
		}
	}
	bundles["A with a public key"] = editJSON(t, rawA, func(m map[string]any) {
		vm := material(m)
		delete(vm, "certificate")
		vm["publicKey"] = map[string]any{"hint": "a"}
	})

	pairs := []pair{
		newPair(t, "A", a.TrustedMaterial()),
		newPair(t, "set of A and B", instances(a.TrustedMaterial(), b.TrustedMaterial())),
		newPair(t, "pool of A and B", root.TrustedMaterialCollection{a.TrustedMaterial(), b.TrustedMaterial()}),
	}
	verified := 0
	for _, p := range pairs {
		for name, raw := range bundles {
			if p.same(t, name, raw, s) {
				verified++
			}
		}
	}
	require.Positive(t, verified)
	t.Logf("%d of %d verified", verified, len(pairs)*len(bundles))
}
