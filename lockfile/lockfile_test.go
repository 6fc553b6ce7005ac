package lockfile_test

import (
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/condasigs/condasigs/conda"
	"github.com/condasigs/condasigs/lockfile"
)

// Hashes for the inline lock files of these tests.
var (
	shaA = strings.Repeat("a1", 32)
	shaB = strings.Repeat("b2", 32)
	md5A = strings.Repeat("c3", 16)
	md5B = strings.Repeat("d4", 16)
)

const (
	urlA    = "https://conda.anaconda.org/conda-forge/linux-64/zlib-1.3.1-hb9d3cd8_2.conda"
	urlB    = "https://conda.anaconda.org/conda-forge/noarch/tzdata-2025a-h78e105d_0.conda"
	urlBz2  = "https://conda.anaconda.org/conda-forge/linux-64/_libgcc_mutex-0.1-conda_forge.tar.bz2"
	urlTok  = "https://repo.example.com/t/abc123/main/linux-64/internal-tool-2.1.0-h1234567_0.conda"
	urlWhl  = "https://files.pythonhosted.org/packages/f9/9b/requests-2.32.3-py3-none-any.whl"
	urlOSX  = "https://conda.anaconda.org/conda-forge/osx-arm64/zlib-1.3.1-h8359307_2.conda"
	urlFile = "file:///opt/channels/local/linux-64/mytool-0.3.0-h0123abc_0.conda"
)

// lockFileError parses data, which must be refused, and returns the error,
// checking that it is a *lockfile.Error at name:line.
func lockFileError(t *testing.T, name string, line int, data string) *lockfile.Error {
	t.Helper()
	lf, err := lockfile.Parse(name, []byte(data))
	require.Error(t, err, "parsed as %+v", lf)
	require.Nil(t, lf)
	le, ok := err.(*lockfile.Error)
	require.True(t, ok, "want a *lockfile.Error, got %T: %v", err, err)
	assert.Equal(t, name, le.File)
	assert.Equal(t, line, le.Line, "%v", err)
	prefix := name + ": "
	if line > 0 {
		prefix = fmt.Sprintf("%s:%d: ", name, line)
	}
	assert.True(t, strings.HasPrefix(err.Error(), prefix), "want the prefix %q: %v", prefix, err)
	return le
}

// checkLockFile checks the invariants of every parsed lock file.
//
// Each package must carry the file's format; checkLockFile then clears it,
// so that tests compare the rest of each entry.
func checkLockFile(t *testing.T, lf *lockfile.File) {
	t.Helper()
	seen := map[string]bool{}
	last := 0
	for i := range lf.Packages {
		assert.Equal(t, lf.Format, lf.Packages[i].Format, lf.Packages[i].URL)
		lf.Packages[i].Format = ""
	}
	for _, p := range lf.Packages {
		assert.False(t, seen[p.URL], "%s listed twice", p.URL)
		seen[p.URL] = true
		loc, err := conda.SplitPackageURL(p.URL)
		if assert.NoError(t, err) {
			assert.True(t, slices.IsSorted(p.Platforms), "%s: platforms %v not sorted", p.URL, p.Platforms)
			assert.Len(t, slices.Compact(slices.Clone(p.Platforms)), len(p.Platforms), "%s: platforms %v repeat", p.URL, p.Platforms)
			for _, pl := range p.Platforms {
				assert.True(t, loc.Subdir == pl || loc.Subdir == "noarch", "%s installed on %s", p.URL, pl)
			}
		}
		assert.Regexp(t, `^([0-9a-f]{64})?$`, p.SHA256)
		assert.Regexp(t, `^([0-9a-f]{32})?$`, p.MD5)
		assert.Greater(t, p.Line, last, "packages are in file order")
		last = p.Line
	}
	for _, s := range lf.Skipped {
		assert.NotEmpty(t, s.What)
		assert.NotEmpty(t, s.Reason)
		assert.Positive(t, s.Line)
	}
}

func TestParseLockFileTestdata(t *testing.T) {
	type pkg struct {
		url, sha256, md5 string
		platforms        []string
		line             int
	}
	for _, tc := range []struct {
		file     string
		format   lockfile.Format
		packages int
		skipped  []string // What of each
		check    []pkg    // some of the packages, in full
	}{
		{
			file: "explicit-md5.txt", format: lockfile.FormatExplicit, packages: 9,
			skipped: []string{},
			check: []pkg{
				{url: urlBz2, md5: "c6d5c3585bfa0eb3b9f27e98c7604bcb", platforms: []string{"linux-64"}, line: 6},
				{url: "https://conda.anaconda.org/conda-forge/noarch/six-1.16.0-pyh6c4a22f_0.tar.bz2", md5: "a7174af71696fa56cf2740c56b856907", platforms: []string{"linux-64"}, line: 12},
				{url: urlTok, md5: "a77b47b60ec64368018a5b7b908da063", platforms: []string{"linux-64"}, line: 14},
			},
		},
		{
			file: "explicit-sha256.txt", format: lockfile.FormatExplicit, packages: 8,
			skipped: []string{},
			check: []pkg{
				{url: "https://conda.anaconda.org/conda-forge/osx-arm64/libzlib-1.3.1-h8359307_2.conda", sha256: "36f91c113a0993bad2df5aeab0cc29a86bcaea4e1c45f0994e95671fb128e36c", platforms: []string{"osx-arm64"}, line: 5},
				// #sha256:<hex>
				{url: "https://conda.anaconda.org/conda-forge/noarch/ca-certificates-2025.1.31-hbd8a1cb_0.conda", sha256: "ea4a896921b09af2571ea9aa2ef3e01a13635bf00457f85c4b9e28dd010a63de", platforms: []string{"osx-arm64"}, line: 10},
				// no hash
				{url: "https://conda.anaconda.org/conda-forge/noarch/six-1.16.0-pyh6c4a22f_0.tar.bz2", platforms: []string{"osx-arm64"}, line: 11},
				// a file:// URL with an MD5
				{url: "file:///opt/channels/local/osx-arm64/mytool-0.3.0-h0123abc_0.conda", md5: "34b699de91f53874b626a71eff28130c", platforms: []string{"osx-arm64"}, line: 12},
				// an absolute path becomes a file:// URL, as in conda
				{url: "file:///opt/channels/local/noarch/myscripts-1.0-pyh0_0.tar.bz2", sha256: "9108283ff0435effc56f5a8f5a463b38d7a5644443d477888f8f54c51e42026f", platforms: []string{"osx-arm64"}, line: 13},
			},
		},
		{
			file: "pixi-v4.lock", format: lockfile.FormatPixiLock, packages: 16,
			skipped: []string{"PyPI package requests 2.32.3", "PyPI package my-helpers 0.1"},
			check: []pkg{
				{url: urlBz2, sha256: "da60b8dbf5ce6f20e7006ce462bf866732da7d98b9a760f27614fce467249c3e", md5: "c6d5c3585bfa0eb3b9f27e98c7604bcb", platforms: []string{"linux-64"}, line: 36},
				{url: urlTok, sha256: "28dcb38641c560ac3ebf4a244d4e56119fa040c5d25d51932256edac62830a78", md5: "a77b47b60ec64368018a5b7b908da063", platforms: []string{"linux-64"}, line: 59},
			},
		},
		{
			file: "pixi-v5.lock", format: lockfile.FormatPixiLock, packages: 16,
			skipped: []string{"PyPI package requests 2.32.3"},
			check: []pkg{
				{url: "https://conda.anaconda.org/conda-forge/win-64/vc-14.3-h5fd82a7_24.conda", sha256: "53c3efde349bbd1dad8c464477b3e4b93c2059a60ea354f0e14776ec0feac1a3", md5: "294b9f0ed06088bbfb40dcfc2cc0a3fa", platforms: []string{"win-64"}, line: 246},
			},
		},
		{
			file: "pixi-v6.lock", format: lockfile.FormatPixiLock, packages: 16,
			skipped: []string{"conda source package my-project (.)", "PyPI package requests 2.32.3"},
			check: []pkg{
				{url: urlTok, sha256: "28dcb38641c560ac3ebf4a244d4e56119fa040c5d25d51932256edac62830a78", md5: "a77b47b60ec64368018a5b7b908da063", platforms: []string{"linux-64"}, line: 56},
				{url: "https://conda.anaconda.org/conda-forge/noarch/tzdata-2025a-h78e105d_0.conda", sha256: "bec0281128630e0c97a08900e884153c008954633149dea90469892ae4641cb6", md5: "41126d2861bba3470f0549dffedb509a", platforms: []string{"linux-64", "osx-arm64", "win-64"}, line: 191},
			},
		},
		{
			file: "conda-lock.yml", format: lockfile.FormatCondaLock, packages: 16,
			// requests is listed for each of the three platforms
			skipped: []string{"PyPI package requests 2.32.3"},
			check: []pkg{
				// tzdata, noarch, is listed for each platform: once here,
				// at its first line
				{url: "https://conda.anaconda.org/conda-forge/noarch/tzdata-2025a-h78e105d_0.conda", sha256: "bec0281128630e0c97a08900e884153c008954633149dea90469892ae4641cb6", md5: "41126d2861bba3470f0549dffedb509a", platforms: []string{"linux-64", "osx-arm64", "win-64"}, line: 108},
				{url: urlTok, sha256: "28dcb38641c560ac3ebf4a244d4e56119fa040c5d25d51932256edac62830a78", md5: "a77b47b60ec64368018a5b7b908da063", platforms: []string{"linux-64"}, line: 119},
			},
		},
	} {
		t.Run(tc.file, func(t *testing.T) {
			path := filepath.Join("testdata", "lock", tc.file)
			lf, err := lockfile.Read(path)
			require.NoError(t, err)
			assert.Equal(t, path, lf.Name)
			assert.Equal(t, tc.format, lf.Format)
			assert.Len(t, lf.Packages, tc.packages)
			var skipped []string
			for _, s := range lf.Skipped {
				skipped = append(skipped, s.What)
			}
			assert.ElementsMatch(t, tc.skipped, skipped)
			checkLockFile(t, lf)
			byURL := map[string]lockfile.Package{}
			for _, p := range lf.Packages {
				byURL[p.URL] = p
			}
			for _, want := range tc.check {
				got, ok := byURL[want.url]
				if assert.True(t, ok, "missing %s", want.url) {
					assert.Equal(t, lockfile.Package{URL: want.url, SHA256: want.sha256, MD5: want.md5, Platforms: want.platforms, Line: want.line}, got)
				}
			}

			// The name is for messages only: the format comes from the content.
			data, err := os.ReadFile(path)
			require.NoError(t, err)
			again, err := lockfile.Parse("environment.yml", data)
			require.NoError(t, err)
			assert.Equal(t, "environment.yml", again.Name)
			again.Name = lf.Name
			checkLockFile(t, again)
			assert.Equal(t, lf, again)
		})
	}
}

func TestParseLockFileDetection(t *testing.T) {
	pixi := "version: 6\nenvironments: {}\npackages:\n- conda: " + urlA + "\n  sha256: " + shaA + "\n"
	for _, tc := range []struct {
		name string
		data string
		want lockfile.Format
	}{
		{"explicit after comments and blank lines", "# platform: linux-64\n\n  # indented comment\n@EXPLICIT\n" + urlA + "\n", lockfile.FormatExplicit},
		{"explicit with CRLF", "# c\r\n@EXPLICIT\r\n" + urlA + "\r\n", lockfile.FormatExplicit},
		{"explicit with CR", "# c\r@EXPLICIT\r" + urlA + "\r", lockfile.FormatExplicit},
		{"explicit with a byte order mark", "\ufeff@EXPLICIT\n" + urlA + "\n", lockfile.FormatExplicit},
		{"explicit, nothing after the marker", "@EXPLICIT\n", lockfile.FormatExplicit},
		{"pixi.lock", pixi, lockfile.FormatPixiLock},
		{"pixi.lock with a byte order mark", "\ufeff" + pixi, lockfile.FormatPixiLock},
		{"pixi.lock without environments", "version: 5\npackages: []\n", lockfile.FormatPixiLock},
		{"pixi.lock in JSON", `{"version": 6, "environments": {}, "packages": [{"conda": "` + urlA + `", "md5": "` + md5A + `"}]}`, lockfile.FormatPixiLock},
		{"conda-lock", "version: 1\nmetadata: {}\npackage: []\n", lockfile.FormatCondaLock},
		{"conda-lock without metadata", "version: 1\npackage: []\n", lockfile.FormatCondaLock},
		{"conda-lock with a null package list", "version: 1\npackage:\n", lockfile.FormatCondaLock},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// The name says pixi.lock for all: it does not count.
			lf, err := lockfile.Parse("pixi.lock", []byte(tc.data))
			require.NoError(t, err)
			assert.Equal(t, tc.want, lf.Format)
			checkLockFile(t, lf)
		})
	}

	supported := "this tool reads conda explicit files"
	for _, tc := range []struct {
		name, data string
		line       int
		msg        string
	}{
		{"empty", "", 0, "the file is empty; " + supported},
		{"only comments", "# nothing\n\n   \n", 0, "the file is empty; " + supported},
		{"a list", "- " + urlA + "\n", 1, "the document is a list, not a lock file; " + supported},
		{"a plain list of URLs", urlA + "\n" + urlB + "\n", 1, "the document is a single value, not a lock file; " + supported},
		{"another mapping", "name: env\ndependencies: [python]\n", 1, "neither package: (conda-lock.yml) nor packages: with environments: or version: (pixi.lock)"},
		{"packages without version or environments", "packages: []\n", 1, "neither package:"},
		{"both package and packages", "version: 1\npackage: []\npackages: []\n", 3, "both package: (as a conda-lock.yml) and packages: (as a pixi.lock)"},
		{"YAML syntax error", "version: 6\npackages:\n- conda: [\n", 3, "YAML syntax error: did not find expected node content; " + supported},
		{"YAML syntax error on line 1", "a: b: c\nversion: 6\n", 1, "YAML syntax error: mapping values are not allowed in this context"},
		{"tab indentation", "version: 6\npackages:\n\t- conda: x\n", 3, "YAML syntax error: found character that cannot start any token"},
		{"YAML syntax error inside [...] over lines", "version: 6\npackages: [\n  a,\n  b: c: d\n]\n", 4, "YAML syntax error: did not find expected ',' or ']'"},
		{"an unterminated quote", "version: 6\nenvironments: {}\npackages:\n- conda: x\n  md5: 'abc\n", 5, "YAML syntax error: found unexpected end of stream"},
		{"too dense", "version: 6\nenvironments: {}\npackages: {" + strings.Repeat("a,", 2_000_000) + "}\n", 0, "the file is too dense a YAML document for a lock file (some 4000009 values; this tool reads at most 4000000)"},
		{"unknown anchor", "version: 6\nenvironments: {}\npackages: *nope\n", 3, "unknown anchor 'nope' referenced"},
		{"a second document", "version: 6\nenvironments: {}\npackages: []\n---\nversion: 5\n", 4, "a second YAML document starts here"},
		{"a duplicate top-level key", "version: 6\npackages: []\nversion: 5\n", 3, `the key "version" appears twice (first at line 1)`},
		{"a non-text key", "? [a]\n: b\npackages: []\n", 1, "a key is a list: lock files have text keys only"},
		{"explicit marker after other lines", "numpy=1.26\n@EXPLICIT\n" + urlA + "\n", 1, `"numpy=1.26" comes before the @EXPLICIT line`},
		{"explicit marker after a YAML-like line", "name: env\n@EXPLICIT\n" + urlA + "\n", 1, `"name: env" comes before the @EXPLICIT line`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			le := lockFileError(t, "lock.txt", tc.line, tc.data)
			assert.Contains(t, le.Error(), tc.msg)
		})
	}
}

// TestParseLockFileSyntaxErrorLines checks the lines of YAML syntax errors
// in files too large to locate them by bisection.
func TestParseLockFileSyntaxErrorLines(t *testing.T) {
	body := strings.Repeat("- conda: "+urlA+"\n  md5: "+md5A+"\n", 12000) // 24000 lines, 1.3 MB
	head := "version: 6\nenvironments: {}\npackages:\n"
	for _, tc := range []struct {
		name, data string
		line       int
		msg        string
	}{
		{"at the end", head + body + "- conda: [\n", 24004, "did not find expected node content"},
		{"a tab at the end", head + body + "\tx: 1\n", 24004, "found a tab character that violates indentation"},
		{"on line 1", "a: b: c\n" + head + body, 1, "mapping values are not allowed in this context"},
		{"an unknown anchor", head + body + "- *nope\n", 0, "unknown anchor 'nope' referenced"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			le := lockFileError(t, "pixi.lock", tc.line, tc.data)
			assert.Contains(t, le.Error(), "YAML syntax error: "+tc.msg)
		})
	}
}

func TestParseExplicit(t *testing.T) {
	const head = "# platform: linux-64\n@EXPLICIT\n" // URLs start at line 3
	linux64 := []string{"linux-64"}
	parse := func(t *testing.T, body string) *lockfile.File {
		t.Helper()
		lf, err := lockfile.Parse("env.txt", []byte(head+body))
		require.NoError(t, err)
		require.Equal(t, lockfile.FormatExplicit, lf.Format)
		checkLockFile(t, lf)
		assert.Empty(t, lf.Skipped)
		return lf
	}
	for _, tc := range []struct {
		name, line string
		want       lockfile.Package
	}{
		{"md5", urlA + "#" + md5A, lockfile.Package{URL: urlA, MD5: md5A, Platforms: linux64, Line: 3}},
		{"sha256", urlA + "#" + shaA, lockfile.Package{URL: urlA, SHA256: shaA, Platforms: linux64, Line: 3}},
		{"sha256: prefix", urlA + "#sha256:" + shaA, lockfile.Package{URL: urlA, SHA256: shaA, Platforms: linux64, Line: 3}},
		{"uppercase hex", urlA + "#" + strings.ToUpper(md5A), lockfile.Package{URL: urlA, MD5: md5A, Platforms: linux64, Line: 3}},
		{"no hash", urlA, lockfile.Package{URL: urlA, Platforms: linux64, Line: 3}},
		{"surrounding white space", " \t" + urlA + "#" + md5A + "  ", lockfile.Package{URL: urlA, MD5: md5A, Platforms: linux64, Line: 3}},
		{".tar.bz2", urlBz2 + "#" + md5A, lockfile.Package{URL: urlBz2, MD5: md5A, Platforms: linux64, Line: 3}},
		{"noarch", urlB, lockfile.Package{URL: urlB, Platforms: linux64, Line: 3}},
		{"token URL, kept as written", urlTok + "#" + shaA, lockfile.Package{URL: urlTok, SHA256: shaA, Platforms: linux64, Line: 3}},
		{"file URL", urlFile + "#" + md5A, lockfile.Package{URL: urlFile, MD5: md5A, Platforms: linux64, Line: 3}},
		{"absolute path", "/opt/channels/local/linux-64/mytool-0.3.0-h0123abc_0.conda#" + md5A, lockfile.Package{URL: urlFile, MD5: md5A, Platforms: linux64, Line: 3}},
		{"absolute path with a space", "/opt/my channel/linux-64/a-1-0.conda", lockfile.Package{URL: "file:///opt/my%20channel/linux-64/a-1-0.conda", Platforms: linux64, Line: 3}},
		{"Windows path", `C:\Users\me\channel\linux-64\a-1-0.conda#` + md5A, lockfile.Package{URL: "file:///C:/Users/me/channel/linux-64/a-1-0.conda", MD5: md5A, Platforms: linux64, Line: 3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lf := parse(t, tc.line+"\n")
			assert.Equal(t, []lockfile.Package{tc.want}, lf.Packages)
		})
	}

	t.Run("comments, blank lines and a second @EXPLICIT", func(t *testing.T) {
		lf := parse(t, "\n# no URL for: x-1-0.conda\n"+urlA+"\n@EXPLICIT\n\n"+urlB+"#"+md5B)
		assert.Equal(t, []lockfile.Package{
			{URL: urlA, Platforms: linux64, Line: 5},
			{URL: urlB, MD5: md5B, Platforms: linux64, Line: 8},
		}, lf.Packages)
	})
	t.Run("a URL twice, with the same hash", func(t *testing.T) {
		lf := parse(t, urlA+"#"+shaA+"\n"+urlA+"#"+shaA+"\n")
		assert.Equal(t, []lockfile.Package{{URL: urlA, SHA256: shaA, Platforms: linux64, Line: 3}}, lf.Packages)
	})
	// An installer may read either line, and check only its hash: an md5
	// line beside a sha256 one would bind the bytes to the md5 alone.
	t.Run("a URL twice, with hashes of different kinds", func(t *testing.T) {
		for _, body := range []string{
			urlA + "#" + md5A + "\n" + urlA + "#" + shaA + "\n",
			urlA + "#" + shaA + "\n" + urlA + "\n",
		} {
			_, err := lockfile.Parse("env.txt", []byte(head+body))
			var le *lockfile.Error
			if assert.ErrorAs(t, err, &le, body) {
				assert.Equal(t, 4, le.Line)
				assert.ErrorContains(t, err, "an installer may check either")
			}
		}
	})
	t.Run("nothing after the marker", func(t *testing.T) {
		assert.Empty(t, parse(t, "").Packages)
	})

	for _, tc := range []struct {
		name, body string
		line       int
		msg        string
	}{
		{"hash of another length", urlA + "#abc", 3, `the hash "abc" after # has 3 characters: conda reads #<32 hexadecimal characters> as an MD5 and #<64> (or #sha256:<64>) as a SHA-256`},
		{"empty hash", urlA + "#", 3, `the hash "" after # has 0 characters`},
		{"md5 length after sha256:", urlA + "#sha256:" + md5A, 3, `has 32 characters`},
		{"md5: prefix", urlA + "#md5:" + md5A, 3, `has 36 characters`},
		{"not hexadecimal", urlA + "#" + strings.Repeat("g", 32), 3, `md5 "gggggggggggggggggggggggggggggggg" has a character other than hexadecimal at offset 0`},
		{"sha256 not hexadecimal", urlA + "#" + shaA[:63] + "z", 3, `has a character other than hexadecimal at offset 63`},
		{"query string", urlA + "?tok=1", 3, `is not the URL of a conda package`},
		{"not a package", "https://conda.anaconda.org/conda-forge/linux-64/repodata.json", 3, `is not the URL of a conda package`},
		{"a match spec", "numpy=1.26", 3, `"numpy=1.26" is not the URL of a conda package`},
		{"lines counted as conda counts them", urlA + "\r\n" + urlB + "\r" + "numpy", 5, `"numpy" is not the URL of a conda package`},
		{"extension only", "https://h/ch/linux-64/.conda", 3, `is not the URL of a conda package`},
		{"relative path", "pkgs/linux-64/a-1-0.conda", 3, `"pkgs/linux-64/a-1-0.conda" is a local path whose meaning depends on where conda runs`},
		{"home directory", "~/channel/linux-64/a-1-0.conda", 3, `is a local path whose meaning depends on where conda runs`},
		{"environment variable", "$CHANNELS/linux-64/a-1-0.conda", 3, `is a local path whose meaning depends on where conda runs`},
		{"unsupported scheme", "s3://bucket/ch/linux-64/a-1-0.conda", 3, `"s3://bucket/ch/linux-64/a-1-0.conda" is not a package URL: unsupported URL scheme "s3": use http, https or file`},
		{"no host", "https:///ch/linux-64/a-1-0.conda", 3, `is not a package URL: the package URL has no host`},
		{"no subdir", "https://example.com/a-1-0.conda", 3, `is not a package URL: a package URL has the form <channel>/<subdir>/<filename>`},
		{"dot segment", "https://example.com/ch/../linux-64/a-1-0.conda", 3, `has a ".." path segment`},
		{"white space inside", urlA + " #" + md5A, 3, `has white space inside: a line after @EXPLICIT is one package URL`},
		{"a # inside the path", "https://example.com/c#h/linux-64/a-1-0.conda", 3, `has a # before its file name`},
		{"bad escape", "https://example.com/ch/linux-64/a%zz-1-0.conda", 3, `is not a package URL: cannot parse the package URL`},
		{"not UTF-8", "https://example.com/ch/linux-64/a\xff-1-0.conda", 3, `the line is not valid UTF-8 text`},
		{"hashes that disagree", "\n" + urlA + "#" + md5A + "\n\n" + urlA + "#" + md5B, 6, `"` + urlA + `" is listed at line 4 with md5 ` + md5A + ` and here with md5 ` + md5B + `: a lock file must not contradict itself`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			le := lockFileError(t, "env.txt", tc.line, head+tc.body+"\n")
			assert.Contains(t, le.Error(), tc.msg)
		})
	}

	t.Run("tokens are redacted in messages", func(t *testing.T) {
		le := lockFileError(t, "env.txt", 3, head+"https://repo.example.com/t/s3cr3t/main/linux-64/a-1-0.conda?x=1\n")
		assert.NotContains(t, le.Error(), "s3cr3t")
		assert.Contains(t, le.Error(), "/t/REDACTED/")
		le = lockFileError(t, "env.txt", 3, head+"https://user:pw@repo.example.com/main/linux-64/a-1-0.tar.gz\n")
		assert.NotContains(t, le.Error(), "pw")
	})
}

// pixiV6 is a version 6 pixi.lock with the given packages: entries, which
// start at line 4.
func pixiV6(entries string) string {
	return "version: 6\nenvironments: {}\npackages:\n" + entries
}

func TestParsePixiLock(t *testing.T) {
	parse := func(t *testing.T, data string) *lockfile.File {
		t.Helper()
		lf, err := lockfile.Parse("pixi.lock", []byte(data))
		require.NoError(t, err)
		require.Equal(t, lockfile.FormatPixiLock, lf.Format)
		checkLockFile(t, lf)
		return lf
	}

	t.Run("version 6 entries", func(t *testing.T) {
		// Read by its path: a package file at a relative path is in the
		// lock file's directory.
		dir := t.TempDir()
		lockPath := filepath.Join(dir, "pixi.lock")
		readLock := func(t *testing.T, data string) *lockfile.File {
			t.Helper()
			require.NoError(t, os.WriteFile(lockPath, []byte(data), 0o600))
			lf, err := lockfile.Read(lockPath)
			require.NoError(t, err)
			checkLockFile(t, lf)
			return lf
		}
		lf := readLock(t, pixiV6(""+
			"- conda: "+urlA+"\n"+ // 4
			"  sha256: "+strings.ToUpper(shaA)+"\n"+
			"- conda: ../my-project\n"+ // 6
			"  name: my-project\n"+
			"- conda: https://example.com/src/my-lib-1.0.tar.gz\n"+ // 8
			"- conda: ./packages/linux-64/local-1.0-0.conda\n"+ // 9
			"  md5: "+md5A+"\n"+
			"- conda: /opt/channel/linux-64/local-1.0-0.conda\n"+ // 11
			"  md5: "+md5B+"\n"+
			"- pypi: "+urlWhl+"\n"+ // 13
			"  name: requests\n"+
			"  version: 2.32.3\n"+
			"- pypi: ./helpers\n"+ // 16
			"- conda: "+urlTok+"\n"+ // 17
			"  md5: "+md5A+"\n"))
		assert.Equal(t, []lockfile.Package{
			{URL: urlA, SHA256: shaA, Line: 4},
			{URL: (&url.URL{Scheme: "file", Path: filepath.ToSlash(filepath.Join(dir, "packages", "linux-64", "local-1.0-0.conda"))}).String(), MD5: md5A, Line: 9},
			{URL: "file:///opt/channel/linux-64/local-1.0-0.conda", MD5: md5B, Line: 11},
			{URL: urlTok, MD5: md5A, Line: 17},
		}, lf.Packages)
		build := "pixi builds it from source (a path or a source URL, not a channel's .conda or .tar.bz2 file): it has no channel attestations to check"
		assert.Equal(t, []lockfile.Skipped{
			{What: "conda source package my-project (../my-project)", Line: 6, Reason: build},
			{What: "conda source package https://example.com/src/my-lib-1.0.tar.gz", Line: 8, Reason: build},
			{What: "PyPI package requests 2.32.3", Line: 13, Reason: "a PyPI package, not a conda package: it has no conda attestations to check"},
			{What: "PyPI package ./helpers", Line: 16, Reason: "a PyPI package, not a conda package: it has no conda attestations to check"},
		}, lf.Skipped)
	})

	t.Run("version 4 and 5 entries", func(t *testing.T) {
		for _, version := range []string{"4", "5"} {
			lf := parse(t, "version: "+version+"\nenvironments: {}\npackages:\n"+
				"- kind: conda\n  name: zlib\n  version: 1.3.1\n  url: "+urlA+"\n  md5: "+md5A+"\n"+ // 4
				"- kind: pypi\n  name: requests\n  version: 2.32.3\n  url: "+urlWhl+"\n"+ // 9
				"- kind: conda\n  url: "+urlB+"\n  sha256: "+shaB+"\n  md5: "+md5B+"\n") // 13
			assert.Equal(t, []lockfile.Package{
				{URL: urlA, MD5: md5A, Line: 4},
				{URL: urlB, SHA256: shaB, MD5: md5B, Line: 13},
			}, lf.Packages)
			assert.Equal(t, []lockfile.Skipped{{What: "PyPI package requests 2.32.3", Line: 9, Reason: "a PyPI package, not a conda package: it has no conda attestations to check"}}, lf.Skipped)
		}
	})

	t.Run("either layout in any version", func(t *testing.T) {
		for _, version := range []string{"4", "5", "6"} {
			lf := parse(t, "version: "+version+"\nenvironments: {}\npackages:\n"+
				"- kind: conda\n  url: "+urlA+"\n  md5: "+md5A+"\n"+ // 4
				"- conda: "+urlB+"\n  md5: "+md5B+"\n") // 7
			assert.Equal(t, []lockfile.Package{
				{URL: urlA, MD5: md5A, Line: 4},
				{URL: urlB, MD5: md5B, Line: 7},
			}, lf.Packages)
		}
	})
	t.Run("an entry listed again through an alias", func(t *testing.T) {
		lf := parse(t, pixiV6("- &zlib\n  conda: "+urlA+"\n  md5: "+md5A+"\n- *zlib\n- *zlib\n"))
		assert.Equal(t, []lockfile.Package{{URL: urlA, MD5: md5A, Line: 4}}, lf.Packages)
	})
	t.Run("a URL twice, with hashes of different kinds", func(t *testing.T) {
		le := lockFileError(t, "pixi.lock", 6, pixiV6("- conda: "+urlA+"\n  md5: "+md5A+"\n- conda: "+urlA+"\n  sha256: "+shaA+"\n"))
		assert.Contains(t, le.Error(), "is listed at line 4 with md5 only and here with sha256 only: an installer may check either")
	})
	t.Run("no environments", func(t *testing.T) {
		for _, envs := range []string{"", "environments:\n"} {
			lf := parse(t, "version: 6\n"+envs+"packages:\n- conda: "+urlA+"\n  md5: "+md5A+"\n")
			assert.Equal(t, []lockfile.Package{{URL: urlA, MD5: md5A, Line: 3 + strings.Count(envs, "\n")}}, lf.Packages)
		}
	})
	t.Run("no packages", func(t *testing.T) {
		assert.Empty(t, parse(t, "version: 6\nenvironments: {}\npackages: []\n").Packages)
		assert.Empty(t, parse(t, "version: 6\nenvironments: {}\npackages:\n").Packages)
	})

	for _, tc := range []struct {
		name, data string
		line       int
		msg        string
	}{
		{"version 7", "version: 7\nenvironments: {}\npackages: []\n", 1, "pixi.lock version 7 is not one this tool reads (it reads versions 4, 5 and 6): update this tool"},
		{"version 0", "version: 0\nenvironments: {}\npackages: []\n", 1, "pixi.lock version 0 is not one this tool reads"},
		{"version 3", "version: 3\nenvironments: {}\npackages: []\n", 1, "pixi.lock version 3 is an old format this tool does not read (it reads versions 4, 5 and 6): run pixi lock with a current pixi to rewrite the file"},
		{"version in quotes", "environments: {}\nversion: \"6\"\npackages: []\n", 2, `version is "6", not a whole number: this tool reads pixi.lock versions 4, 5 and 6`},
		{"version a list", "version: [6]\nenvironments: {}\npackages: []\n", 1, `version is a list, not a whole number`},
		{"version too large", "version: 99999999999999999999\nenvironments: {}\npackages: []\n", 1, `not a whole number`},
		{"no version", "environments: {}\npackages: []\n", 0, "the pixi.lock has no version: key; this tool reads versions 4, 5 and 6"},
		{"packages a mapping", "version: 6\nenvironments: {}\npackages: {conda: x}\n", 3, "packages: is a mapping: in a pixi.lock it is the list of packages"},
		{"entry not a mapping", pixiV6("- conda: " + urlA + "\n  md5: " + md5A + "\n- " + urlB + "\n"), 6, "an entry of packages: is a single value: each is a mapping that describes one package"},
		{"entry an alias of a list", "a: &a [x]\nversion: 6\nenvironments: {}\npackages:\n- *a\n", 5, "an entry of packages: is a list"},
		{"v6 entry with neither", pixiV6("- name: zlib\n  md5: " + md5A + "\n"), 4, "a package with neither conda: nor pypi: (nor kind:)"},
		{"v5 entry with neither", "version: 5\nenvironments: {}\npackages:\n- url: " + urlA + "\n  md5: " + md5A + "\n", 4, "a package with neither conda: nor pypi: (nor kind:)"},
		{"entry with both layouts", pixiV6("- kind: conda\n  conda: " + urlA + "\n  md5: " + md5A + "\n"), 4, "a package with both kind: (as versions 4 and 5 write them) and conda: or pypi: (as version 6 does)"},
		{"v6 kind null", pixiV6("- kind:\n  url: " + urlA + "\n"), 4, `kind "" is not one a pixi.lock has: conda or pypi`},
		{"v6 entry with both", pixiV6("- conda: " + urlA + "\n  pypi: " + urlWhl + "\n"), 4, "a package with both conda: and pypi:"},
		{"v6 empty location", pixiV6("- conda: \"\"\n  md5: " + md5A + "\n"), 4, "conda: is empty"},
		{"v6 null location", pixiV6("- md5: " + md5A + "\n  conda:\n"), 5, "conda: is empty"},
		{"v6 location a list", pixiV6("- conda: [" + urlA + "]\n"), 4, "conda is a list: it must be text"},
		{"v6 unsupported scheme", pixiV6("- md5: " + md5A + "\n  conda: s3://bucket/ch/linux-64/a-1-0.conda\n"), 5, `is not a package URL: unsupported URL scheme "s3"`},
		{"v6 no subdir", pixiV6("- md5: " + md5A + "\n  conda: https://example.com/a-1-0.conda\n"), 5, `is not a package URL: a package URL has the form <channel>/<subdir>/<filename>`},
		{"v6 no hash", pixiV6("- conda: " + urlA + "\n  size: 12\n"), 4, `the package "` + urlA + `" has neither sha256: nor md5:, which pixi always records`},
		{"v6 null hashes", pixiV6("- conda: " + urlA + "\n  sha256: null\n  md5: ~\n"), 4, `has neither sha256: nor md5:`},
		{"v6 short sha256", pixiV6("- conda: " + urlA + "\n  md5: " + md5A + "\n  sha256: abc\n"), 6, `sha256 "abc" has 3 characters: a SHA-256 is 64 hexadecimal characters`},
		{"v6 md5 not hex", pixiV6("- conda: " + urlA + "\n  md5: " + strings.Repeat("x", 32) + "\n"), 5, `md5 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" has a character other than hexadecimal at offset 0`},
		{"v6 md5 a mapping", pixiV6("- conda: " + urlA + "\n  md5: {a: b}\n"), 5, `md5 is a mapping: it must be text`},
		{"v6 duplicate key", pixiV6("- conda: " + urlA + "\n  md5: " + md5A + "\n  md5: " + md5B + "\n"), 6, `the key "md5" appears twice (first at line 5)`},
		{"v6 merge key", pixiV6("- <<: {md5: " + md5A + "}\n  conda: " + urlA + "\n"), 4, "a YAML merge key (<<)"},
		{"v6 hashes that disagree", pixiV6("- conda: " + urlA + "\n  sha256: " + shaA + "\n- conda: " + urlA + "\n  sha256: " + shaB + "\n"), 7,
			`"` + urlA + `" is listed at line 4 with sha256 ` + shaA + ` and here with sha256 ` + shaB + `: a lock file must not contradict itself`},
		{"v5 unknown kind", "version: 5\nenvironments: {}\npackages:\n- name: x\n  kind: npm\n", 5, `kind "npm" is not one a pixi.lock has: conda or pypi`},
		{"v5 conda without url", "version: 5\nenvironments: {}\npackages:\n- kind: conda\n  md5: " + md5A + "\n", 4, "a conda package without url:"},
		{"v5 relative url", "version: 5\nenvironments: {}\npackages:\n- kind: conda\n  md5: " + md5A + "\n  url: linux-64/a-1-0.conda\n", 6, `"linux-64/a-1-0.conda" is not a package URL: unsupported URL scheme ""`},
		{"v4 not a package", "version: 4\nenvironments: {}\npackages:\n- kind: conda\n  url: https://example.com/ch/linux-64/a-1-0.whl\n  md5: " + md5A + "\n", 5, `does not name a conda package: the file name must end in .conda or .tar.bz2`},
		{"v4 no hash", "version: 4\nenvironments: {}\npackages:\n- kind: conda\n  url: " + urlA + "\n", 4, `has neither sha256: nor md5:`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			le := lockFileError(t, "pixi.lock", tc.line, tc.data)
			assert.Contains(t, le.Error(), tc.msg)
		})
	}
}

// condaLock is a conda-lock.yml with the given package: entries, which
// start at line 4.
func condaLock(entries string) string {
	return "version: 1\nmetadata: {platforms: [linux-64]}\npackage:\n" + entries
}

// condaLockEntry is an entry of package:, 8 lines long.
func condaLockEntry(platform, url, md5 string) string {
	return "- name: x\n  version: '1'\n  manager: conda\n  platform: " + platform + "\n  url: " + url +
		"\n  hash:\n    md5: " + md5 + "\n  category: main\n"
}

func TestParseCondaLock(t *testing.T) {
	parse := func(t *testing.T, data string) *lockfile.File {
		t.Helper()
		lf, err := lockfile.Parse("conda-lock.yml", []byte(data))
		require.NoError(t, err)
		require.Equal(t, lockfile.FormatCondaLock, lf.Format)
		checkLockFile(t, lf)
		return lf
	}

	t.Run("entries", func(t *testing.T) {
		lf := parse(t, condaLock(""+
			condaLockEntry("linux-64", urlA, md5A)+ // 4
			condaLockEntry("osx-arm64", urlOSX, md5B)+ // 12
			condaLockEntry("linux-64", urlB, md5A)+ // 20: noarch
			condaLockEntry("osx-arm64", urlB, md5A)+ // 28: the same noarch package
			"- name: requests\n  version: 2.32.3\n  manager: pip\n  platform: linux-64\n  url: "+urlWhl+"\n  hash:\n    sha256: "+shaA+"\n"+ // 36
			"- name: requests\n  version: 2.32.3\n  manager: pip\n  platform: osx-arm64\n  url: "+urlWhl+"\n  hash:\n    sha256: "+shaA+"\n"+ // 43
			"- name: t\n  manager: conda\n  platform: linux-64\n  url: "+urlTok+"\n  hash: {sha256: "+shaB+", md5: "+strings.ToUpper(md5B)+"}\n")) // 50
		assert.Equal(t, []lockfile.Package{
			{URL: urlA, MD5: md5A, Platforms: []string{"linux-64"}, Line: 4},
			{URL: urlOSX, MD5: md5B, Platforms: []string{"osx-arm64"}, Line: 12},
			{URL: urlB, MD5: md5A, Platforms: []string{"linux-64", "osx-arm64"}, Line: 20},
			{URL: urlTok, SHA256: shaB, MD5: md5B, Platforms: []string{"linux-64"}, Line: 50},
		}, lf.Packages)
		assert.Equal(t, []lockfile.Skipped{{What: "PyPI package requests 2.32.3", Line: 36, Reason: "a PyPI package, not a conda package: it has no conda attestations to check"}}, lf.Skipped)
	})
	t.Run("hashes shared through an alias", func(t *testing.T) {
		lf := parse(t, condaLock("- manager: conda\n  platform: linux-64\n  url: "+urlA+"\n  hash: &h {md5: "+md5A+"}\n"+
			"- manager: conda\n  platform: linux-64\n  url: "+urlBz2+"\n  hash: *h\n"))
		assert.Equal(t, []lockfile.Package{
			{URL: urlA, MD5: md5A, Platforms: []string{"linux-64"}, Line: 4},
			{URL: urlBz2, MD5: md5A, Platforms: []string{"linux-64"}, Line: 8},
		}, lf.Packages)
	})

	for _, tc := range []struct {
		name, data string
		line       int
		msg        string
	}{
		{"version 2", "version: 2\nmetadata: {}\npackage: []\n", 1, "conda-lock.yml version 2 is not one this tool reads (it reads version 1, the one conda-lock writes); a pixi.lock of version 2 has this layout too: rewrite it with pixi lock"},
		{"version 9", "version: 9\nmetadata: {}\npackage: []\n", 1, "conda-lock.yml version 9 is not one this tool reads (it reads version 1, the one conda-lock writes): regenerate the file with conda-lock"},
		{"no version", "metadata: {}\npackage: []\n", 0, "the conda-lock.yml has no version: key; this tool reads versions 1"},
		{"version text", "version: one\npackage: []\n", 1, `version is "one", not a whole number`},
		{"package a mapping", "version: 1\npackage:\n  name: x\n", 3, "package: is a mapping: in a conda-lock.yml it is the list of packages"},
		{"entry not a mapping", condaLock("- [x]\n"), 4, "an entry of package: is a list"},
		{"no manager", condaLock("- name: x\n  url: " + urlA + "\n"), 4, "a package without manager:: a conda-lock.yml gives each package manager: conda or manager: pip"},
		{"unknown manager", condaLock("- name: x\n  manager: npm\n"), 5, `manager "npm" is not one a conda-lock.yml has: conda or pip`},
		{"no url", condaLock("- name: x\n  manager: conda\n  platform: linux-64\n"), 4, "a conda package without url:"},
		{"bad url", condaLock("- manager: conda\n  platform: linux-64\n  url: https://example.com/ch/linux-64/x.zip\n"), 6, `"https://example.com/ch/linux-64/x.zip" does not name a conda package`},
		{"no platform", condaLock("- manager: conda\n  url: " + urlA + "\n  hash: {md5: " + md5A + "}\n"), 4, `the package "` + urlA + `" has no platform:, which conda-lock always writes`},
		{"platform mismatch", condaLock("- manager: conda\n  platform: osx-arm64\n  url: " + urlA + "\n  hash: {md5: " + md5A + "}\n"), 6,
			`the URL "` + urlA + `" is in subdir "linux-64", but the entry is for platform "osx-arm64": a package for a platform comes from that platform's subdir or from noarch`},
		{"no hash", condaLock("- manager: conda\n  platform: linux-64\n  url: " + urlA + "\n"), 4, `the package "` + urlA + `" has no hash:, which conda-lock always writes`},
		{"hash a value", condaLock("- manager: conda\n  platform: linux-64\n  url: " + urlA + "\n  hash: " + md5A + "\n"), 7, `hash: is a single value: it is a mapping with md5: and sha256:`},
		{"hash empty", condaLock("- manager: conda\n  platform: linux-64\n  url: " + urlA + "\n  hash: {}\n"), 7, `hash: of "` + urlA + `" has neither md5: nor sha256:`},
		{"bad md5", condaLock("- manager: conda\n  platform: linux-64\n  url: " + urlA + "\n  hash:\n    sha256: " + shaA + "\n    md5: " + md5A + "0\n"), 9, `md5 "` + md5A + `0" has 33 characters: an MD5 is 32 hexadecimal characters`},
		{"duplicate hash key", condaLock("- manager: conda\n  platform: linux-64\n  url: " + urlA + "\n  hash:\n    md5: " + md5A + "\n    md5: " + md5B + "\n"), 9, `the key "md5" appears twice (first at line 8)`},
		{"hashes that disagree", condaLock(condaLockEntry("linux-64", urlB, md5A) + condaLockEntry("osx-arm64", urlB, md5B)), 18,
			`"` + urlB + `" is listed at line 4 with md5 ` + md5A + ` and here with md5 ` + md5B},
	} {
		t.Run(tc.name, func(t *testing.T) {
			le := lockFileError(t, "conda-lock.yml", tc.line, tc.data)
			assert.Contains(t, le.Error(), tc.msg)
		})
	}
}

func TestLockFileError(t *testing.T) {
	cause := errors.New("bad hash")
	for _, tc := range []struct {
		err  *lockfile.Error
		want string
	}{
		{&lockfile.Error{File: "pixi.lock", Line: 12, Err: cause}, "pixi.lock:12: bad hash"},
		{&lockfile.Error{File: "pixi.lock", Err: cause}, "pixi.lock: bad hash"},
		{&lockfile.Error{Line: 3, Err: cause}, "line 3: bad hash"},
		{&lockfile.Error{Err: cause}, "bad hash"},
		{&lockfile.Error{File: "x"}, "x: invalid lock file"},
	} {
		assert.Equal(t, tc.want, tc.err.Error())
	}
	assert.ErrorIs(t, &lockfile.Error{Err: cause}, cause)
}

func TestReadLockFile(t *testing.T) {
	dir := t.TempDir()

	t.Run("missing", func(t *testing.T) {
		path := filepath.Join(dir, "missing.lock")
		_, err := lockfile.Read(path)
		var le *lockfile.Error
		require.ErrorAs(t, err, &le)
		assert.Equal(t, path, le.File)
		assert.ErrorIs(t, err, fs.ErrNotExist)
		assert.Equal(t, 1, strings.Count(err.Error(), "missing.lock"), "the path is said once: %v", err)
	})

	t.Run("a directory", func(t *testing.T) {
		_, err := lockfile.Read(dir)
		var le *lockfile.Error
		require.ErrorAs(t, err, &le)
		assert.Equal(t, dir, le.File)
		assert.Equal(t, 1, strings.Count(err.Error(), dir), "the path is said once: %v", err)
	})

	t.Run("at the size limit", func(t *testing.T) {
		// An explicit file padded with a comment to exactly the limit.
		body := "@EXPLICIT\n" + urlA + "#" + md5A + "\n#"
		path := filepath.Join(dir, "max.txt")
		require.NoError(t, os.WriteFile(path, []byte(body+strings.Repeat("x", lockfile.MaxSize-len(body))), 0o600))
		lf, err := lockfile.Read(path)
		require.NoError(t, err)
		assert.Len(t, lf.Packages, 1)
	})

	t.Run("over the size limit", func(t *testing.T) {
		path := filepath.Join(dir, "big.txt")
		require.NoError(t, os.WriteFile(path, make([]byte, lockfile.MaxSize+1), 0o600))
		_, err := lockfile.Read(path)
		le := &lockfile.Error{}
		require.ErrorAs(t, err, &le)
		assert.Equal(t, 0, le.Line)
		assert.Equal(t, path+": the file is larger than 33554432 bytes (32 MiB), the most this tool reads from a lock file: check the path, or split the environments into several lock files", err.Error())
	})
}

// TestParseLockFileAliases checks that YAML aliases cannot make the parser
// do more than linear work: nested aliases ("billion laughs") are never
// expanded, and a mapping shared by many aliases is read once.
func TestParseLockFileAliases(t *testing.T) {
	laughs := func(tail string) string {
		var b strings.Builder
		b.WriteString("l0: &l0 [\"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\"]\n")
		for i := 1; i <= 12; i++ { // 10^13 "lol"s, expanded
			fmt.Fprintf(&b, "l%d: &l%d [*l%[3]d, *l%[3]d, *l%[3]d, *l%[3]d, *l%[3]d, *l%[3]d, *l%[3]d, *l%[3]d, *l%[3]d, *l%[3]d]\n", i, i, i-1)
		}
		return b.String() + tail
	}
	for _, tc := range []struct {
		name, data string
		line       int // of the error; 0 when the file parses
	}{
		{"as the packages", laughs("version: 6\nenvironments: {}\npackages: *l12\n"), 13}, // the first entry, *l11
		{"as an entry", laughs("version: 6\nenvironments: {}\npackages:\n- *l12\n"), 17},
		{"as a location", laughs("version: 6\nenvironments: {}\npackages:\n- conda: *l12\n"), 17},
		{"as a hash", laughs("version: 1\npackage:\n- manager: conda\n  platform: linux-64\n  url: " + urlA + "\n  hash: *l12\n"), 19},
		{"beside the packages", laughs("version: 6\nenvironments: {e: {channels: *l12, packages: {}}}\npackages:\n- conda: " + urlA + "\n  md5: " + md5A + "\n"), 0},
		{"as an environment", laughs("version: 6\nenvironments: {laughs: *l12}\npackages:\n- conda: " + urlA + "\n  md5: " + md5A + "\n"), 15},
		{"as a platform's packages", laughs("version: 6\nenvironments: {e: {packages: {linux-64: *l12}}}\npackages:\n- conda: " + urlA + "\n  md5: " + md5A + "\n"), 13},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			lf, err := lockfile.Parse("pixi.lock", []byte(tc.data))
			if tc.line == 0 {
				require.NoError(t, err)
				assert.Len(t, lf.Packages, 1)
			} else {
				var le *lockfile.Error
				require.ErrorAs(t, err, &le)
				assert.Equal(t, tc.line, le.Line, "%v", err)
			}
			assert.Less(t, time.Since(start), 5*time.Second)
		})
	}

	t.Run("one entry, many aliases", func(t *testing.T) {
		var b strings.Builder
		b.WriteString("version: 6\nenvironments: {}\npackages:\n- &e\n  conda: " + urlA + "\n  md5: " + md5A + "\n")
		for i := 0; i < 20000; i++ {
			fmt.Fprintf(&b, "  k%d: v\n", i)
		}
		for i := 0; i < 20000; i++ {
			b.WriteString("- *e\n")
		}
		start := time.Now()
		lf, err := lockfile.Parse("pixi.lock", []byte(b.String()))
		require.NoError(t, err)
		assert.Len(t, lf.Packages, 1)
		assert.Less(t, time.Since(start), 10*time.Second) // 4e8 key reads if each alias were read
	})

	t.Run("one hash mapping, many entries", func(t *testing.T) {
		var b strings.Builder
		b.WriteString("version: 1\nhashes: &h\n  md5: " + md5A + "\n")
		for i := 0; i < 20000; i++ {
			fmt.Fprintf(&b, "  k%d: v\n", i)
		}
		b.WriteString("package:\n")
		for i := 0; i < 20000; i++ {
			fmt.Fprintf(&b, "- {manager: conda, platform: linux-64, url: \"https://example.com/ch/linux-64/p%d-1-0.conda\", hash: *h}\n", i)
		}
		start := time.Now()
		lf, err := lockfile.Parse("conda-lock.yml", []byte(b.String()))
		require.NoError(t, err)
		assert.Len(t, lf.Packages, 20000)
		assert.Less(t, time.Since(start), 10*time.Second)
	})
}
