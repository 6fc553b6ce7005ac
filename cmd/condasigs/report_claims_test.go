package main

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The JSON report carries, per verified bundle, the statement's subject and
// predicate and the certificate's claims: the real package's values, valid
// against the published schema.
func TestJSONReportStatementAndClaims(t *testing.T) {
	code, out, errOut := runCLI(t, verifyArgs("--channel", upstream, "--format", "json", fileURL(t))...)
	require.Equal(t, exitOK, code, errOut)
	requireValid(t, reportSchema(t), out)
	var doc struct {
		Packages []struct {
			Bundles []struct {
				Verified      bool              `json:"verified"`
				SAN           string            `json:"san"`
				Issuer        string            `json:"issuer"`
				PredicateType string            `json:"predicateType"`
				SubjectName   string            `json:"subjectName"`
				SubjectSHA256 string            `json:"subjectSHA256"`
				TargetChannel string            `json:"targetChannel"`
				ChannelMatch  string            `json:"channelMatch"`
				Claims        map[string]string `json:"claims"`
			} `json:"bundles"`
		} `json:"packages"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &doc))
	require.Len(t, doc.Packages, 1)
	require.Len(t, doc.Packages[0].Bundles, 1)
	b := doc.Packages[0].Bundles[0]
	assert.True(t, b.Verified)
	const wf = "https://github.com/prefix-dev/sigstore-example/.github/workflows/action.yaml@refs/heads/main"
	assert.Equal(t, wf, b.SAN)
	assert.Equal(t, ghIssuer, b.Issuer)
	assert.Equal(t, "https://schemas.conda.org/attestations-publish-1.schema.json", b.PredicateType)
	assert.Equal(t, pkgName, b.SubjectName)
	assert.Equal(t, "54303491a8418fbed24344b513546182c29b43bf282ceb433af65e2299f9271f", b.SubjectSHA256)
	assert.Equal(t, upstream, b.TargetChannel)
	assert.Equal(t, "match", b.ChannelMatch)
	for k, v := range map[string]string{
		"issuer":                              ghIssuer,
		"sourceRepositoryURI":                 "https://github.com/prefix-dev/sigstore-example",
		"sourceRepositoryRef":                 "refs/heads/main",
		"sourceRepositoryDigest":              "193b5bd7d3985809503963ae400594ea16df31cf",
		"sourceRepositoryIdentifier":          "1048392115",
		"sourceRepositoryOwnerURI":            "https://github.com/prefix-dev",
		"sourceRepositoryOwnerIdentifier":     "111356225",
		"buildSignerURI":                      wf,
		"buildSignerDigest":                   "193b5bd7d3985809503963ae400594ea16df31cf",
		"buildConfigURI":                      wf,
		"buildTrigger":                        "push",
		"runnerEnvironment":                   "github-hosted",
		"runInvocationURI":                    "https://github.com/prefix-dev/sigstore-example/actions/runs/17377272645/attempts/1",
		"sourceRepositoryVisibilityAtSigning": "public",
	} {
		assert.Equal(t, v, b.Claims[k], k)
	}
}
