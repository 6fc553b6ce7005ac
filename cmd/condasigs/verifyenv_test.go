package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/condasigs/condasigs/condasigstest"
)

const pkgSHA256 = "54303491a8418fbed24344b513546182c29b43bf282ceb433af65e2299f9271f"

// envFiles writes a policy trusting the real package's signer, with the
// quick start's local channel as a mirror of its upstream channel, and an
// explicit file listing the given lines after @EXPLICIT.
func envFiles(t *testing.T, lines ...string) (config, explicit string) {
	t.Helper()
	dir := t.TempDir()
	config = filepath.Join(dir, "condasigs.yaml")
	mirror := strings.TrimSuffix(fileURL(t), "/linux-64/"+pkgName)
	require.NoError(t, os.WriteFile(config, []byte(`attestations:
  `+upstream+`:
    enabled: true
    require: error
    trusted_identities:
      - identity: "`+wfSAN+`"
        issuer: github
    mirrors:
      - `+mirror+`
`), 0o644))
	explicit = filepath.Join(dir, "env.txt")
	require.NoError(t, os.WriteFile(explicit, []byte("# platform: linux-64\n@EXPLICIT\n"+strings.Join(lines, "\n")+"\n"), 0o644))
	return config, explicit
}

func envArgs(config, file string, extra ...string) []string {
	return append(append([]string{"verify-env", "--trusted-root", trustedRoot, "--config", config}, extra...), file)
}

func TestVerifyEnvPass(t *testing.T) {
	config, explicit := envFiles(t, fileURL(t)+"#"+pkgSHA256)
	code, out, errOut := runCLI(t, envArgs(config, explicit, "--no-cache")...)
	require.Equal(t, exitOK, code, out+errOut)
	assert.Contains(t, out, "1 packages: 1 passed, 0 warned, 0 failed")
	assert.NotContains(t, out, "PASS", "passes are counted, not listed")
	assert.Empty(t, errOut, "no progress bar when stderr is not a terminal")
}

func TestVerifyEnvFailures(t *testing.T) {
	absent := strings.Replace(fileURL(t), pkgName, "absent-1.0-0.conda", 1)
	wrong := strings.Repeat("ab", 32)
	cases := map[string]struct {
		line string
		want []string
	}{
		"hash differs from the channel's": {fileURL(t) + "#" + wrong, []string{"FAIL ", ".txt:3: " + pkgName, "[lock-mismatch]"}},
		"md5 differs from the channel's":  {fileURL(t) + "#0123456789abcdef0123456789abcdef", []string{"[lock-mismatch]"}},
		"not in the channel":              {absent, []string{"FAIL ", "env.txt:4: absent-1.0-0.conda  retrieval-failure", "[record-unavailable]"}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			config, explicit := envFiles(t, fileURL(t)+"#"+pkgSHA256, c.line)
			if strings.Contains(c.line, pkgName) {
				config, explicit = envFiles(t, c.line)
			}
			code, out, errOut := runCLI(t, envArgs(config, explicit, "--no-cache")...)
			assert.Equal(t, exitFail, code, out+errOut)
			for _, w := range c.want {
				assert.Contains(t, out, w)
			}
			assert.Contains(t, out, "failed")
		})
	}
}

func TestVerifyEnvBadInput(t *testing.T) {
	config, _ := envFiles(t)
	bad := filepath.Join(t.TempDir(), "env.txt")
	require.NoError(t, os.WriteFile(bad, []byte("@EXPLICIT\n"+fileURL(t)+"#nothex\n"), 0o644))
	code, _, errOut := runCLI(t, envArgs(config, bad)...)
	assert.Equal(t, exitProblem, code)
	assert.Contains(t, errOut, bad+":2:", "the file and line of the problem")

	code, _, errOut = runCLI(t, envArgs(config, filepath.Join(t.TempDir(), "missing.lock"))...)
	assert.Equal(t, exitProblem, code)
	assert.Contains(t, errOut, "missing.lock")

	_, explicit := envFiles(t, fileURL(t)+"#"+pkgSHA256)
	for _, extra := range [][]string{{"--jobs", "-1"}, {"--jobs", "4000000000"}, {"--no-cache", "--cache-dir", t.TempDir()}, {"--format", "yaml"}} {
		code, _, errOut = runCLI(t, envArgs(config, explicit, extra...)...)
		assert.Equal(t, exitProblem, code, "%v", extra)
		assert.Contains(t, errOut, "usage:", "%v", extra)
	}
}

func TestVerifyEnvPlatform(t *testing.T) {
	config, explicit := envFiles(t, fileURL(t)+"#"+pkgSHA256)
	code, out, _ := runCLI(t, envArgs(config, explicit, "--no-cache", "--platform", "linux-64")...)
	assert.Equal(t, exitOK, code)
	assert.Contains(t, out, "1 packages: 1 passed")
}

type envDoc struct {
	Version int `json:"version"`
	Input   struct {
		File, Format string
	} `json:"input"`
	Summary struct {
		Total, Passed, Warned, Failed, Skipped int
	} `json:"summary"`
	Packages []struct {
		Filename string `json:"filename"`
		Outcome  string `json:"outcome"`
		Cached   bool   `json:"cached"`
		Line     int    `json:"line"`
	} `json:"packages"`
}

// The second run reads the verdict from the cache; --no-cache does not.
func TestVerifyEnvCache(t *testing.T) {
	config, explicit := envFiles(t, fileURL(t)+"#"+pkgSHA256)
	cache := t.TempDir()
	runJSON := func(extra ...string) envDoc {
		t.Helper()
		code, out, errOut := runCLI(t, envArgs(config, explicit, append([]string{"--format", "json"}, extra...)...)...)
		require.Equal(t, exitOK, code, out+errOut)
		var doc envDoc
		require.NoError(t, json.Unmarshal([]byte(out), &doc))
		require.Len(t, doc.Packages, 1)
		return doc
	}
	cold := runJSON("--cache-dir", cache)
	assert.False(t, cold.Packages[0].Cached)
	assert.Equal(t, 3, cold.Packages[0].Line)
	assert.Equal(t, "explicit", cold.Input.Format)
	assert.Equal(t, 1, cold.Summary.Passed)
	assert.DirExists(t, filepath.Join(cache, "sidecars"))
	assert.DirExists(t, filepath.Join(cache, "verdicts"))

	warm := runJSON("--cache-dir", cache)
	assert.True(t, warm.Packages[0].Cached)
	assert.Equal(t, "pass", warm.Packages[0].Outcome)
	assert.False(t, runJSON("--no-cache").Packages[0].Cached)

	// A cache others can write is not trusted for verdicts.
	require.NoError(t, os.Chmod(cache, 0o777))
	code, out, errOut := runCLI(t, envArgs(config, explicit, "--format", "json", "--cache-dir", cache)...)
	require.Equal(t, exitOK, code, out+errOut)
	assert.Contains(t, errOut, "others can write the cache directory")
	var doc envDoc
	require.NoError(t, json.Unmarshal([]byte(out), &doc))
	assert.False(t, doc.Packages[0].Cached, "verdicts not read")
	require.NoError(t, os.Chmod(cache, 0o700))

	// A read-only cache is read, and said so.
	require.NoError(t, os.Chmod(cache, 0o500))
	t.Cleanup(func() { _ = os.Chmod(cache, 0o700) })
	if os.Geteuid() != 0 { // root writes anyway
		code, out, errOut := runCLI(t, envArgs(config, explicit, "--cache-dir", cache)...)
		assert.Equal(t, exitOK, code, out)
		assert.Contains(t, errOut, "not writable; reading it only")
	}
}

func TestVerifyEnvJSONMatchesSchema(t *testing.T) {
	absent := strings.Replace(fileURL(t), pkgName, "absent-1.0-0.conda", 1)
	config, explicit := envFiles(t, fileURL(t)+"#"+pkgSHA256, absent)
	_, out, errOut := runCLI(t, envArgs(config, explicit, "--format", "json", "--cache-dir", t.TempDir())...)
	require.NotEmpty(t, out, errOut)
	requireValid(t, reportSchema(t), out)
	var d envDoc
	require.NoError(t, json.Unmarshal([]byte(out), &d))
	assert.Equal(t, 2, d.Summary.Total)
	assert.Equal(t, 1, d.Summary.Failed)
}

// Over HTTP, a second run of an unchanged environment asks for no sidecar.
func TestVerifyEnvWarmMakesNoSidecarRequest(t *testing.T) {
	dir := t.TempDir()
	vc := newVirtualChannel(t, dir)
	ss, ch, url, root := vc.ss, vc.ch, vc.url, vc.root
	var lines []string
	var sidecars []string
	for _, name := range []string{"a-1.0-0.conda", "b-2.0-1.tar.bz2", "c-3.0-0.conda"} {
		rec := ch.Add(t, condasigstest.Package{Filename: name, Signer: ss})
		lines = append(lines, url+"/linux-64/"+name+"#"+rec.SHA256)
		sidecars = append(sidecars, "/linux-64/"+name+".sigs."+rec.AttestationsSHA256)
	}
	explicit := filepath.Join(dir, "env.txt")
	require.NoError(t, os.WriteFile(explicit, []byte("@EXPLICIT\n"+strings.Join(lines, "\n")+"\n"), 0o644))
	args := []string{"verify-env", "--trusted-root", root, "--identity", "https://github.com/example/*", "--issuer", "github",
		"--cache-dir", filepath.Join(dir, "cache"), explicit}
	for run := 1; run <= 2; run++ {
		code, out, errOut := runCLI(t, args...)
		require.Equal(t, exitOK, code, out+errOut)
		assert.Contains(t, out, "3 packages: 3 passed")
		for _, p := range sidecars {
			assert.Equal(t, 1, ch.Requests(p), "run %d: %s", run, p)
		}
		assert.Equal(t, run, ch.Requests("/linux-64/repodata.json"), "repodata is asked for once a run (revalidated)")
	}
}

// virtualChannel is a channel served on loopback with its own virtual
// Sigstore, and that Sigstore's trusted_root.json written in dir.
type virtualChannel struct {
	ss   *condasigstest.Sigstore
	ch   *condasigstest.Channel
	url  string
	root string // the trusted_root.json file
}

// kitIdentity is the identity condasigstest signs with when a Package names
// none.
const kitIdentity = "https://github.com/example/pkg/.github/workflows/release.yml@refs/tags/v1.0"

// packageURL is the URL of filename on the served channel.
func (v virtualChannel) packageURL(filename string) string { return v.url + "/linux-64/" + filename }

func newVirtualChannel(t *testing.T, dir string) virtualChannel {
	t.Helper()
	v := virtualChannel{ss: condasigstest.NewSigstore(t), ch: condasigstest.NewChannel(t, "linux-64")}
	v.url = v.ch.Serve(t)
	v.root = filepath.Join(dir, "trusted_root.json")
	require.NoError(t, os.WriteFile(v.root, v.ss.TrustedRootJSON(t), 0o644))
	return v
}

// verifyEnvJSON runs verify-env, with JSON output and the channel's signer
// trusted, over an explicit file written in dir that lists filename with
// the given sha256.
func (v virtualChannel) verifyEnvJSON(t *testing.T, dir, filename, sha string, extra ...string) (int, string, string) {
	t.Helper()
	explicit := filepath.Join(dir, "env.txt")
	require.NoError(t, os.WriteFile(explicit, []byte("@EXPLICIT\n"+v.packageURL(filename)+"#"+sha+"\n"), 0o644))
	args := append([]string{"verify-env", "--trusted-root", v.root, "--identity", "https://github.com/example/*", "--issuer", "github",
		"--format", "json"}, extra...)
	return runCLI(t, append(args, explicit)...)
}

// The same package gets the same verdict from verify and verify-env: a
// record the channel no longer lists, under require: warn, is a warning
// and exit 0 from both; under require: error, a failure from both.
func TestVerifyAndVerifyEnvAgree(t *testing.T) {
	absent := strings.Replace(fileURL(t), pkgName, "absent-1.0-0.conda", 1)
	for _, mode := range []string{"warn", "error"} {
		t.Run(mode, func(t *testing.T) {
			config, explicit := envFiles(t, absent+"#"+strings.Repeat("ab", 32))
			b, err := os.ReadFile(config)
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(config, []byte(strings.Replace(string(b), "require: error", "require: "+mode, 1)), 0o644))
			want := exitOK
			if mode == "error" {
				want = exitFail
			}
			var codes []string
			for _, args := range [][]string{
				{"verify", "--trusted-root", trustedRoot, "--config", config, "--format", "json", absent},
				envArgs(config, explicit, "--no-cache", "--format", "json"),
			} {
				code, out, errOut := runCLI(t, args...)
				assert.Equal(t, want, code, "%s: %s%s", args[0], out, errOut)
				var doc struct {
					Packages []struct {
						Outcome, Status string
						Reasons         []struct{ Code, Severity string }
					}
				}
				require.NoError(t, json.Unmarshal([]byte(out), &doc), out)
				require.Len(t, doc.Packages, 1, out)
				p := doc.Packages[0]
				require.Len(t, p.Reasons, 1, out)
				codes = append(codes, p.Outcome+" "+p.Status+" "+p.Reasons[0].Code+" "+p.Reasons[0].Severity)
			}
			assert.Equal(t, codes[0], codes[1], "verify and verify-env disagree")
			assert.Contains(t, codes[0], "retrieval-failure record-unavailable")
		})
	}
}
