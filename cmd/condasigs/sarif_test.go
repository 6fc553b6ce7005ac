package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/condasigs/condasigs"
	"github.com/condasigs/condasigs/attest"
	"github.com/condasigs/condasigs/condasigstest"
	"github.com/condasigs/condasigs/internal/textsafe"
	"github.com/condasigs/condasigs/internal/version"
	"github.com/condasigs/condasigs/lockfile"
	"github.com/condasigs/condasigs/policy"
)

// sarifSchemaFile is the official SARIF 2.1.0 schema (see testdata/README).
const sarifSchemaFile = "testdata/sarif-schema-2.1.0.json"

// sarifDoc is what the tests read of a SARIF log.
type sarifDoc struct {
	Version string `json:"version"`
	Runs    []struct {
		Tool struct {
			Driver struct {
				Name, Version, InformationURI string
				Rules                         []struct {
					ID                   string `json:"id"`
					ShortDescription     struct{ Text string }
					DefaultConfiguration struct{ Level string }
				}
			}
		}
		OriginalURIBaseIDs map[string]struct{ URI string } `json:"originalUriBaseIds"`
		Results            []struct {
			RuleID    string `json:"ruleId"`
			RuleIndex *int   `json:"ruleIndex"`
			Level     string
			Message   struct{ Text string }
			Locations []struct {
				PhysicalLocation struct {
					ArtifactLocation struct {
						URI       string `json:"uri"`
						URIBaseID string `json:"uriBaseId"`
					}
					Region *struct{ StartLine int }
				}
			}
			Properties struct{ Package, Channel, URL, Status string }
		}
	}
}

// compileSARIFSchema compiles the official SARIF 2.1.0 schema, offline, formats
// asserted (uri, uri-reference).
func compileSARIFSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open(sarifSchemaFile)
	require.NoError(t, err)
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	require.NoError(t, err)
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	const id = sarifSchema
	require.NoError(t, c.AddResource(id, doc))
	schema, err := c.Compile(id)
	require.NoError(t, err)
	return schema
}

// parseSARIF validates out against the schema and decodes it.
func parseSARIF(t *testing.T, schema *jsonschema.Schema, out string) sarifDoc {
	t.Helper()
	requireValid(t, schema, out)
	var d sarifDoc
	require.NoError(t, json.Unmarshal([]byte(out), &d), out)
	require.Len(t, d.Runs, 1)
	return d
}

// The schema check is not vacuous: a log that breaks it is refused.
func TestSARIFSchemaRefusesInvalidLogs(t *testing.T) {
	schema := compileSARIFSchema(t)
	for name, doc := range map[string]string{
		"no runs":          `{"version": "2.1.0"}`,
		"other version":    `{"version": "2.0.0", "runs": []}`,
		"line 0":           `{"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}}, "results": [{"message": {"text": "m"}, "locations": [{"physicalLocation": {"artifactLocation": {"uri": "a"}, "region": {"startLine": 0}}}]}]}]}`,
		"bad level":        `{"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}}, "results": [{"level": "fatal", "message": {"text": "m"}}]}]}`,
		"not a URI":        `{"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x", "informationUri": "condasigs"}}}]}`,
		"unknown property": `{"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x", "colour": "red"}}}]}`,
	} {
		v, err := jsonschema.UnmarshalJSON(strings.NewReader(doc))
		require.NoError(t, err, name)
		assert.Error(t, schema.Validate(v), name)
	}
}

// lockEnv is a served channel with three packages (one passes, one's lock
// entry has another sha256 than the channel's record, one is unsigned)
// and the lock-file lines of each, per format.
type lockEnv struct {
	vc       virtualChannel
	base     string // the channel URL the lock files name, with credentials
	recs     map[string]lockRec
	dir      string
	good     string
	mismatch string
	unsigned string
}

type lockRec struct{ sha256, md5 string }

func newLockEnv(t *testing.T) *lockEnv {
	t.Helper()
	dir := t.TempDir()
	e := &lockEnv{vc: newVirtualChannel(t, dir), dir: dir, recs: map[string]lockRec{},
		good: "good-1.0-0.conda", mismatch: "changed-2.0-1.conda", unsigned: "plain-3.0-0.tar.bz2"}
	for _, p := range []condasigstest.Package{
		{Filename: e.good, Signer: e.vc.ss},
		{Filename: e.mismatch, Signer: e.vc.ss},
		{Filename: e.unsigned, Unsigned: true},
	} {
		rec := e.vc.ch.Add(t, p)
		e.recs[p.Filename] = lockRec{rec.SHA256, rec.MD5}
	}
	// The lock file's hash of the second package is not the channel's.
	e.recs[e.mismatch] = lockRec{strings.Repeat("ab", 32), e.recs[e.mismatch].md5}
	// A token segment and basic auth that no output may show.
	e.base = strings.Replace(e.vc.url, "http://", "http://user:PSECRET@", 1) + "/t/TSECRET"
	return e
}

func (e *lockEnv) url(name string) string { return e.base + "/linux-64/" + name }

func (e *lockEnv) names() []string { return []string{e.good, e.mismatch, e.unsigned} }

// write writes a lock file of the given format and returns its path and
// the line of each package's entry.
func (e *lockEnv) write(t *testing.T, format lockfile.Format) (string, map[string]int) {
	t.Helper()
	var lines []string
	at := map[string]int{}
	add := func(s ...string) { lines = append(lines, s...) }
	var name string
	switch format {
	case lockfile.FormatExplicit:
		name = "env.txt"
		add("# platform: linux-64", "@EXPLICIT")
		for _, n := range e.names() {
			add(e.url(n) + "#" + e.recs[n].sha256)
			at[n] = len(lines)
		}
	case lockfile.FormatPixiLock:
		name = "pixi.lock"
		add("version: 6", "environments:", "  default:", "    channels:", "    - url: "+e.base+"/", "    packages:", "      linux-64:")
		for _, n := range e.names() {
			add("      - conda: " + e.url(n))
		}
		add("packages:")
		for _, n := range e.names() {
			add("- conda: " + e.url(n))
			at[n] = len(lines)
			add("  sha256: "+e.recs[n].sha256, "  md5: "+e.recs[n].md5)
		}
	case lockfile.FormatCondaLock:
		name = "conda-lock.yml"
		add("version: 1", "metadata:", "  channels:", "  - url: "+e.base, "    used_env_vars: []", "  platforms:", "  - linux-64", "  sources:", "  - environment.yml", "package:")
		for _, n := range e.names() {
			pkg, _, _ := strings.Cut(n, "-")
			add("- name: " + pkg)
			at[n] = len(lines)
			add("  version: '1.0'", "  manager: conda", "  platform: linux-64", "  dependencies: {}", "  url: "+e.url(n),
				"  hash:", "    md5: "+e.recs[n].md5, "    sha256: "+e.recs[n].sha256, "  category: main", "  optional: false")
		}
	}
	path := filepath.Join(e.dir, name)
	require.NoError(t, os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644))
	return path, at
}

// args are verify-env's arguments for the lock file at path: require: warn,
// so that the unsigned package warns and the mismatched one fails.
func (e *lockEnv) args(format lockfile.Format, path string, extra ...string) []string {
	args := []string{"verify-env", "--trusted-root", e.vc.root, "--identity", "https://github.com/example/*", "--issuer", "github",
		"--require", "warn", "--no-cache"}
	if format == lockfile.FormatCondaLock {
		args = append(args, "--installer-checks-sha256")
	}
	return append(append(args, extra...), path)
}

// TestVerifyEnvSARIF runs verify-env --format sarif over each lock-file
// format, given by absolute and by relative path: the log is valid SARIF
// 2.1.0, the failure and the warning are results at their packages' lines
// with their codes and levels, the passing package has none, and no
// credential of the channel URL shows.
func TestVerifyEnvSARIF(t *testing.T) {
	schema := compileSARIFSchema(t)
	e := newLockEnv(t)
	wd, err := os.Getwd()
	require.NoError(t, err)
	for _, format := range []lockfile.Format{lockfile.FormatExplicit, lockfile.FormatPixiLock, lockfile.FormatCondaLock} {
		path, lines := e.write(t, format)
		rel, err := filepath.Rel(wd, path)
		require.NoError(t, err)
		for _, given := range []string{path, rel} {
			t.Run(string(format)+"/"+map[bool]string{true: "absolute", false: "relative"}[given == path], func(t *testing.T) {
				code, out, errOut := runCLI(t, e.args(format, given, "--format", "sarif")...)
				assert.Equal(t, exitFail, code, errOut)
				assert.NotContains(t, out+errOut, "SECRET")
				d := parseSARIF(t, schema, out)
				run := d.Runs[0]
				assert.Equal(t, "condasigs", run.Tool.Driver.Name)
				assert.Equal(t, version.Version, run.Tool.Driver.Version)
				assert.Equal(t, projectURI, run.Tool.Driver.InformationURI)

				type got struct {
					rule, level, pkg string
					line             int
				}
				var results []got
				for _, r := range run.Results {
					require.Len(t, r.Locations, 1)
					loc := r.Locations[0].PhysicalLocation
					require.NotNil(t, loc.Region)
					require.NotNil(t, r.RuleIndex)
					assert.Equal(t, r.RuleID, run.Tool.Driver.Rules[*r.RuleIndex].ID, "ruleIndex points at the rule")
					assert.Contains(t, r.Message.Text, r.Properties.Package+" from ", "the message names the package and its channel")
					if given == path {
						assert.Equal(t, pathURL(path), loc.ArtifactLocation.URI)
						assert.Empty(t, loc.ArtifactLocation.URIBaseID)
						assert.Empty(t, run.OriginalURIBaseIDs)
					} else {
						assert.Equal(t, filepath.ToSlash(rel), loc.ArtifactLocation.URI, "the path as given")
						assert.Equal(t, srcRoot, loc.ArtifactLocation.URIBaseID)
						assert.Equal(t, dirURI(wd), run.OriginalURIBaseIDs[srcRoot].URI)
					}
					results = append(results, got{r.RuleID, r.Level, r.Properties.Package, loc.Region.StartLine})
				}
				assert.Equal(t, []got{
					{string(policy.CodeLockMismatch), "error", e.mismatch, lines[e.mismatch]},
					{string(policy.CodeUnsigned), "warning", e.unsigned, lines[e.unsigned]},
				}, results, "the failure and the warning, at their lines; nothing for the pass")
			})
		}
	}
}

// A run where everything passes has no results, and still lists its rules.
func TestVerifyEnvSARIFAllPass(t *testing.T) {
	e := newLockEnv(t)
	path := filepath.Join(e.dir, "env.txt")
	require.NoError(t, os.WriteFile(path, []byte("@EXPLICIT\n"+e.url(e.good)+"#"+e.recs[e.good].sha256+"\n"), 0o644))
	code, out, errOut := runCLI(t, e.args(lockfile.FormatExplicit, path, "--format", "sarif")...)
	require.Equal(t, exitOK, code, errOut)
	d := parseSARIF(t, compileSARIFSchema(t), out)
	assert.Empty(t, d.Runs[0].Results)
	assert.Len(t, d.Runs[0].Tool.Driver.Rules, len(sarifRules))
	assert.Contains(t, out, `"results": []`, "an actual scan has a results array, empty")
}

// Text that channels and certificates control cannot break the log: it
// decodes to itself, the log stays valid, and nothing in it drives a
// terminal when it is printed.
func TestSARIFHostileText(t *testing.T) {
	hostile := "evil\"},{\"x\":\"\\\n</script>\u202e::warning::x ##[error]y \x1b[31m&<>"
	env := envReport{Input: &envInput{File: "dir with space/p#?%.lock", Format: "pixi.lock"}, Packages: []envPackage{{
		Line: 7,
		Report: &condasigs.Report{Filename: hostile + ".conda", Channel: "https://c.example/" + hostile, Outcome: policy.Fail,
			Status: policy.StatusVerificationFailure, Bundles: []attest.Evidence{},
			Reasons: []policy.Reason{{Code: policy.Code(hostile), Severity: policy.SeverityError, Message: hostile}}},
	}}}
	var buf bytes.Buffer
	require.NoError(t, writeSARIF(&buf, env))
	out := buf.String()
	d := parseSARIF(t, compileSARIFSchema(t), out)
	r := d.Runs[0].Results
	require.Len(t, r, 1)
	assert.Equal(t, textsafe.Escape(hostile+".conda from https://c.example/"+hostile+": "+hostile), r[0].Message.Text,
		"the message is for people: one line, its controls escaped, so that no line break ends it early")
	assert.NotContains(t, r[0].Message.Text, "\n")
	assert.Equal(t, hostile+".conda", r[0].Properties.Package, "the properties keep the values unchanged")
	assert.Equal(t, hostile, r[0].RuleID)
	assert.Equal(t, hostile, d.Runs[0].Tool.Driver.Rules[*r[0].RuleIndex].ID, "an unknown code still has its rule")
	assert.Equal(t, "dir%20with%20space/p%23%3F%25.lock", r[0].Locations[0].PhysicalLocation.ArtifactLocation.URI)
	for _, raw := range []string{"\u202e", "\x1b", "##[", "\n</script>"} {
		assert.NotContains(t, out, raw)
	}
	assert.Contains(t, out, `</script>`, "no HTML escaping: a SARIF log is no web page")
}

// A failed package is listed even if its report gives no error or warning
// reason (which the policy never makes): at the level of its outcome.
func TestSARIFFindingsOfUnexplainedOutcomes(t *testing.T) {
	info := []policy.Reason{{Code: policy.CodeNotChecked, Severity: policy.SeverityInfo, Message: "m"}}
	for name, c := range map[string]struct {
		r    condasigs.Report
		want []finding
	}{
		"pass":                 {condasigs.Report{Filename: "a.conda", Outcome: policy.Pass, Reasons: info}, nil},
		"fail, info only":      {condasigs.Report{Filename: "a.conda", Outcome: policy.Fail, Reasons: info}, []finding{{code: policy.CodeNotChecked, level: "error", message: "a.conda: m", reason: "m"}}},
		"warn, info only":      {condasigs.Report{Filename: "a.conda", Channel: "c", Outcome: policy.Warn, Reasons: info}, []finding{{code: policy.CodeNotChecked, level: "warning", message: "a.conda from c: m", reason: "m"}}},
		"fail, no reason":      {condasigs.Report{Filename: "a.conda", Outcome: policy.Fail, Status: policy.StatusVerificationFailure}, nil},
		"error and info mixed": {condasigs.Report{Filename: "a.conda", Outcome: policy.Fail, Reasons: append([]policy.Reason{{Code: policy.CodeUnsigned, Severity: policy.SeverityError, Message: "u"}}, info...)}, []finding{{code: policy.CodeUnsigned, level: "error", message: "a.conda: u", reason: "u"}}},
	} {
		got := findings(&c.r)
		if name == "fail, no reason" {
			require.Len(t, got, 1, name)
			assert.Empty(t, got[0].code)
			assert.Equal(t, "error", got[0].level)
			assert.Contains(t, got[0].message, "no reason given")
			continue
		}
		assert.Equal(t, c.want, got, name)
	}
}

// Every code a report can carry has a rule with a one-line description.
func TestSARIFRulesCoverEveryCode(t *testing.T) {
	n := 0
	for _, src := range []struct{ dir, typ string }{
		{"../../fetch", "Kind"}, {"../../attest", "Code"}, {"../../policy", "Code"}, {".", "reportCode"},
	} {
		for _, c := range codeConsts(t, src.dir, src.typ) {
			n++
			info, ok := sarifRules[policy.Code(c)]
			if assert.True(t, ok, "no SARIF rule for code %s", c) {
				assert.NotContains(t, info.description, "\n")
				assert.True(t, strings.HasSuffix(info.description, "."), c)
				assert.Contains(t, []string{"error", "warning", "note"}, info.level, c)
			}
		}
	}
	assert.Equal(t, n, len(sarifRules), "a rule for a code that does not exist")
}

// codeConsts returns the string constants of type typ in dir's non-test
// files.
func codeConsts(t *testing.T, dir, typ string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	require.NoError(t, err)
	var out []string
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		require.NoError(t, err)
		ast.Inspect(file, func(n ast.Node) bool {
			vs, ok := n.(*ast.ValueSpec)
			if !ok {
				return true
			}
			if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != typ {
				return true
			}
			for _, v := range vs.Values {
				if lit, ok := v.(*ast.BasicLit); ok && lit.Kind == token.STRING {
					s, err := strconv.Unquote(lit.Value)
					require.NoError(t, err)
					out = append(out, s)
				}
			}
			return true
		})
	}
	require.NotEmpty(t, out, fmt.Sprintf("no constants of type %s in %s", typ, dir))
	return out
}

// A package the run could not verify is an error result of code
// not-verified, and the invocation did not succeed.
func TestSARIFNotVerified(t *testing.T) {
	rep := errorReport("https://user:PSECRET@c.example/t/TSECRET/linux-64/a-1.0-0.conda", fmt.Errorf("context deadline exceeded"))
	env := envReport{Input: &envInput{File: "env.txt"}, Summary: envSummary{Total: 1, Failed: 1, Errors: 1},
		Packages: []envPackage{{Report: rep, Line: 2}}}
	var buf bytes.Buffer
	require.NoError(t, writeSARIF(&buf, env))
	out := buf.String()
	assert.NotContains(t, out, "SECRET")
	d := parseSARIF(t, compileSARIFSchema(t), out)
	require.Len(t, d.Runs[0].Results, 1)
	r := d.Runs[0].Results[0]
	assert.Equal(t, string(codeNotVerified), r.RuleID)
	assert.Equal(t, "error", r.Level)
	assert.Equal(t, 2, r.Locations[0].PhysicalLocation.Region.StartLine)
	assert.Contains(t, out, `"executionSuccessful": false`)
}
