package attest_test

import (
	"bytes"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/condasigs/condasigs/attest"
	"github.com/condasigs/condasigs/internal/fixtures"
)

// hostileToken is an RFC 3161 token whose SignerInfo names its signer by
// an issuer and a serial number of serialBytes bytes.
func hostileToken(t *testing.T, serialBytes int) []byte {
	t.Helper()
	serial := new(big.Int).SetBytes(bytes.Repeat([]byte{0x5a}, serialBytes))
	name, err := asn1.Marshal(asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSequence, IsCompound: true})
	require.NoError(t, err)
	type ias struct {
		Issuer asn1.RawValue
		Serial *big.Int
	}
	type signerInfo struct {
		Version int
		SID     ias
	}
	type signedData struct {
		Version          int
		DigestAlgorithms asn1.RawValue
		EncapContent     asn1.RawValue
		SignerInfos      []signerInfo `asn1:"set"`
	}
	emptySet := asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSet, IsCompound: true}
	emptySeq := asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSequence, IsCompound: true}
	sd, err := asn1.Marshal(signedData{3, emptySet, emptySeq, []signerInfo{{1, ias{asn1.RawValue{FullBytes: name}, serial}}}})
	require.NoError(t, err)
	der, err := asn1.Marshal(struct {
		ContentType asn1.ObjectIdentifier
		Content     asn1.RawValue
	}{asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}, asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: sd}})
	require.NoError(t, err)
	return der
}

// A bundle's RFC 3161 token is the signer's text: one naming its TSA by a
// serial number of hundreds of kilobytes is neither printed whole (a
// message as long as the sidecar) nor converted to decimal, which takes
// time quadratic in its length (seconds for a megabyte). The code stays
// sigstore-go's.
func TestExplainBoundsHostileTimestampSigner(t *testing.T) {
	var doc map[string]any
	require.NoError(t, json.Unmarshal(fixtures.Read(fixtures.StagingBundleFile), &doc))
	tsd := doc["verificationMaterial"].(map[string]any)["timestampVerificationData"].(map[string]any)
	tss := tsd["rfc3161Timestamps"].([]any)
	require.NotEmpty(t, tss)
	tss[0].(map[string]any)["signedTimestamp"] = base64.StdEncoding.EncodeToString(hostileToken(t, 256<<10))
	raw, err := json.Marshal(doc)
	require.NoError(t, err)

	pg := publicGood(t)
	missing := pg.MissingTrust(raw)
	require.NotEmpty(t, missing)
	tsa := missing[len(missing)-1]
	assert.Contains(t, tsa, "timestamp's TSA (certificate issued by ")
	assert.Less(t, len(tsa), 512, "the serial number is clipped")

	ev := pg.VerifyBundle(0, raw, attest.Subject{Filename: fixtures.Filename, SHA256: fixtures.PackageSHA256, Channel: fixtures.StagingChannel})
	assert.False(t, ev.Verified)
	assert.NotEmpty(t, ev.Code)
	assert.Less(t, len(ev.Message), 4096, "a message of bounded length")
}
