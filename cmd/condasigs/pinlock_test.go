package main

import (
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/condasigs/condasigs/condasigstest"
	"github.com/condasigs/condasigs/policy"
)

// pinChannel is a served channel and pixi.lock files of its packages.
type pinChannel struct {
	vc   virtualChannel
	dir  string
	base string // the channel URL the lock files name, with credentials
}

func newPinChannel(t *testing.T) *pinChannel {
	t.Helper()
	dir := t.TempDir()
	p := &pinChannel{vc: newVirtualChannel(t, dir), dir: dir}
	p.base = strings.Replace(p.vc.url, "http://", "http://user:PSECRET@", 1) + "/t/TSECRET"
	return p
}

// add adds a package signed by identity and returns its sha256.
func (p *pinChannel) add(t *testing.T, filename, identity string) string {
	t.Helper()
	return p.vc.ch.Add(t, condasigstest.Package{Filename: filename, Signer: p.vc.ss, Identity: identity}).SHA256
}

// lock writes pixi.lock listing the packages (file name → sha256), in the
// order given, and returns its path and the line of each entry.
func (p *pinChannel) lock(t *testing.T, names []string, sha map[string]string) (string, map[string]int) {
	t.Helper()
	lines := []string{"version: 6", "environments:", "  default:", "    channels:", "    - url: " + p.base + "/", "    packages:", "      linux-64:"}
	for _, n := range names {
		lines = append(lines, "      - conda: "+p.base+"/linux-64/"+n)
	}
	lines = append(lines, "packages:")
	at := map[string]int{}
	for _, n := range names {
		lines = append(lines, "- conda: "+p.base+"/linux-64/"+n)
		at[n] = len(lines)
		lines = append(lines, "  sha256: "+sha[n])
	}
	path := filepath.Join(p.dir, "pixi.lock")
	require.NoError(t, os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644))
	return path, at
}

func (p *pinChannel) args(cmd string, extra ...string) []string {
	return append([]string{cmd, "--trusted-root", p.vc.root, "--identity", "https://github.com/example/*", "--issuer", "github"}, extra...)
}

// The flow of a project that keeps its signers beside its lock file: pin
// the lock file once, verify it with the pins, update the lock file to a
// version signed by another identity, and verify-env flags the change at
// the package's line; pin refuses it until --replace, which changes one
// line of the pin file.
func TestPinLockFileThenSignerChanged(t *testing.T) {
	p := newPinChannel(t)
	const first = "https://github.com/example/pkg/.github/workflows/release.yml@refs/tags/v1.0"
	const other = "https://github.com/example/fork/.github/workflows/release.yml@refs/tags/v1.1"
	sha := map[string]string{
		"alpha-1.0-0.conda": p.add(t, "alpha-1.0-0.conda", first),
		"beta-2.0-0.conda":  p.add(t, "beta-2.0-0.conda", first),
	}
	lock, _ := p.lock(t, []string{"beta-2.0-0.conda", "alpha-1.0-0.conda"}, sha)
	pins := filepath.Join(p.dir, "condasigs-pins.json")

	code, out, errOut := runCLI(t, p.args("pin", "--pins", pins, lock)...)
	require.Equal(t, exitOK, code, out+errOut)
	assert.Contains(t, errOut, "pinned alpha on ")
	assert.Contains(t, errOut, "pinned beta on ")
	assert.Contains(t, out, "2 packages: 2 passed", "the report of verify-env")
	before := readFile(t, pins)
	assert.NotContains(t, out+errOut+before, "SECRET")
	pinLines := func(s string) []string {
		var l []string
		for _, line := range strings.Split(s, "\n") {
			if strings.Contains(line, `"issuer"`) {
				l = append(l, line)
			}
		}
		return l
	}
	lines := pinLines(before)
	require.Len(t, lines, 2, "one line a package:\n%s", before)
	assert.Contains(t, lines[0], `"alpha": {`, "sorted by name")
	assert.Contains(t, lines[1], `"beta": {`)
	assert.Contains(t, lines[0], first)

	code, out, errOut = runCLI(t, p.args("verify-env", "--no-cache", "--pins", pins, "--pin", "error", lock)...)
	require.Equal(t, exitOK, code, out+errOut)

	// The lock file is updated: alpha 1.1, signed by another identity
	// that the policy trusts too.
	sha["alpha-1.1-0.conda"] = p.add(t, "alpha-1.1-0.conda", other)
	lock, at := p.lock(t, []string{"beta-2.0-0.conda", "alpha-1.1-0.conda"}, sha)
	code, out, errOut = runCLI(t, p.args("verify-env", "--no-cache", "--pins", pins, "--pin", "error", lock)...)
	assert.Equal(t, exitFail, code, out+errOut)
	assert.Contains(t, out, "pixi.lock:"+strconv.Itoa(at["alpha-1.1-0.conda"])+": alpha-1.1-0.conda")
	assert.Contains(t, out, "[signer-changed]")

	code, out, _ = runCLI(t, p.args("verify-env", "--no-cache", "--pins", pins, "--pin", "error", "--format", "sarif", lock)...)
	assert.Equal(t, exitFail, code)
	d := parseSARIF(t, compileSARIFSchema(t), out)
	require.Len(t, d.Runs[0].Results, 1, out)
	r := d.Runs[0].Results[0]
	assert.Equal(t, string(policy.CodeSignerChanged), r.RuleID)
	assert.Equal(t, "error", r.Level)
	assert.Equal(t, at["alpha-1.1-0.conda"], r.Locations[0].PhysicalLocation.Region.StartLine)

	// pin refuses the change, and leaves the file alone.
	code, _, errOut = runCLI(t, p.args("pin", "--pins", pins, lock)...)
	assert.Equal(t, exitFail, code)
	assert.Contains(t, errOut, "signer changed: alpha on ")
	assert.Contains(t, errOut, "run again with --replace")
	assert.Equal(t, before, readFile(t, pins))

	code, _, errOut = runCLI(t, p.args("pin", "--pins", pins, "--replace", lock)...)
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, errOut, "replaced the pin of alpha on ")
	after := readFile(t, pins)
	beforeLines, afterLines := strings.Split(before, "\n"), strings.Split(after, "\n")
	require.Equal(t, len(beforeLines), len(afterLines))
	var diff []string
	for i := range beforeLines {
		if beforeLines[i] != afterLines[i] {
			diff = append(diff, afterLines[i])
		}
	}
	require.Len(t, diff, 1, "the change is one line of the pin file")
	assert.Contains(t, diff[0], other)

	code, out, errOut = runCLI(t, p.args("verify-env", "--no-cache", "--pins", pins, "--pin", "error", lock)...)
	assert.Equal(t, exitOK, code, out+errOut)
}

// A package of the lock file that fails is reported and not pinned.
func TestPinLockFileSkipsFailures(t *testing.T) {
	p := newPinChannel(t)
	sha := map[string]string{"alpha-1.0-0.conda": p.add(t, "alpha-1.0-0.conda", ""), "beta-2.0-0.conda": strings.Repeat("ab", 32)}
	p.add(t, "beta-2.0-0.conda", "")
	lock, at := p.lock(t, []string{"alpha-1.0-0.conda", "beta-2.0-0.conda"}, sha)
	pins := filepath.Join(p.dir, "pins.json")
	code, out, errOut := runCLI(t, p.args("pin", "--pins", pins, lock)...)
	assert.Equal(t, exitFail, code, out+errOut)
	assert.Contains(t, out, "pixi.lock:"+strconv.Itoa(at["beta-2.0-0.conda"])+": beta-2.0-0.conda")
	assert.Contains(t, out, "[lock-mismatch]")
	store, err := policy.LoadPins(pins)
	require.NoError(t, err)
	ch := p.vc.url
	_, alpha := store.Get(ch, "alpha")
	_, beta := store.Get(ch, "beta")
	assert.True(t, alpha, "alpha is pinned:\n%s", readFile(t, pins))
	assert.False(t, beta, "beta is not")
}

func TestPinLockFileMisuse(t *testing.T) {
	p := newPinChannel(t)
	sha := map[string]string{"alpha-1.0-0.conda": p.add(t, "alpha-1.0-0.conda", "")}
	lock, _ := p.lock(t, []string{"alpha-1.0-0.conda"}, sha)
	pins := filepath.Join(p.dir, "pins.json")
	pkgURL := p.vc.packageURL("alpha-1.0-0.conda")
	for name, c := range map[string]struct {
		args []string
		want string
	}{
		"lock file and URL":        {[]string{lock, pkgURL}, "a lock file and PACKAGE-URLs do not mix"},
		"two lock files":           {[]string{lock, lock}, "pin takes one lock file, but got 2"},
		"a package file":           {[]string{filepath.Join(p.vc.ch.Dir, "linux-64", "alpha-1.0-0.conda")}, "is a package file, not a lock file: give the lock file that lists it, or the package's URL; for a local file, give its URL: file://"},
		"--artifact with a lock":   {[]string{"--artifact", lock, lock}, "--artifact is for PACKAGE-URLs"},
		"--repodata with a lock":   {[]string{"--repodata", lock, lock}, "--repodata is for PACKAGE-URLs"},
		"--platform with URLs":     {[]string{"--platform", "linux-64", pkgURL}, "--platform is for a lock file"},
		"--installer-checks… URLs": {[]string{"--installer-checks-sha256", pkgURL}, "--installer-checks-sha256 is for a lock file"},
		"a platform it lacks":      {[]string{"--platform", "osx-arm64", lock}, "--platform osx-arm64: " + lock + " has no package for it"},
		"--format sarif":           {[]string{"--format", "sarif", lock}, "--format sarif is verify-env's"},
	} {
		code, out, errOut := runCLI(t, p.args("pin", append([]string{"--pins", pins}, c.args...)...)...)
		assert.Equal(t, exitProblem, code, name)
		assert.Contains(t, errOut, "usage: ", name)
		assert.Contains(t, errOut, c.want, name)
		assert.Empty(t, out, name)
	}
	assert.NoFileExists(t, pins, "misuse pins nothing")

	code, _, errOut := runCLI(t, p.args("pin", "--pins", pins, filepath.Join(p.dir, "missing.lock"))...)
	assert.Equal(t, exitProblem, code)
	assert.Contains(t, errOut, "missing.lock")
	assert.NoFileExists(t, pins)
}

// --channel names the channel a lock file's packages were published to,
// as for verify-env: a local copy's packages are pinned on that channel.
func TestPinLockFileChannel(t *testing.T) {
	p := newPinChannel(t)
	sha := map[string]string{"alpha-1.0-0.conda": p.add(t, "alpha-1.0-0.conda", "")}
	p.base = (&url.URL{Scheme: "file", Path: p.vc.ch.Dir}).String() // the lock file points at the channel's directory
	lock, _ := p.lock(t, []string{"alpha-1.0-0.conda"}, sha)
	pins := filepath.Join(p.dir, "pins.json")
	code, out, errOut := runCLI(t, p.args("pin", "--pins", pins, lock)...)
	assert.Equal(t, exitFail, code, "without --channel, the copy is not the channel the attestation names: %s", errOut)
	assert.Contains(t, out, "[target-channel-mismatch]")
	assert.NoFileExists(t, pins)

	code, out, errOut = runCLI(t, p.args("pin", "--pins", pins, "--channel", p.vc.url, lock)...)
	require.Equal(t, exitOK, code, out+errOut)
	assert.Contains(t, errOut, "pinned alpha on "+p.vc.url+" to ")
}

// --pins with a policy that pins nothing compares nothing: said so.
func TestPinsWithoutPinRuleWarns(t *testing.T) {
	p := newPinChannel(t)
	sha := map[string]string{"alpha-1.0-0.conda": p.add(t, "alpha-1.0-0.conda", "")}
	lock, _ := p.lock(t, []string{"alpha-1.0-0.conda"}, sha)
	pins := filepath.Join(p.dir, "pins.json")
	require.NoError(t, os.WriteFile(pins, []byte(`{"version":1,"pins":{}}`), 0o600))
	code, _, errOut := runCLI(t, p.args("verify-env", "--no-cache", "--pins", pins, lock)...)
	assert.Equal(t, exitOK, code)
	assert.Contains(t, errOut, "--pins is given but the policy pins no signer, so no signer is compared with the pins: add --pin error")
	code, _, errOut = runCLI(t, p.args("verify-env", "--no-cache", "--pins", pins, "--pin", "warn", lock)...)
	assert.Equal(t, exitOK, code)
	assert.NotContains(t, errOut, "pins no signer")
}
