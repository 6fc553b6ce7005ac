package main

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestMain lets the transcripts in testdata/script run condasigs as a
// command: the test binary re-executes itself with run as its main.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		// Named apart from the transcripts' condasigs command (TestScripts),
		// which runs it and keeps its exit status.
		"condasigs-cli": func() { os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr)) },
	})
}

// TestScripts runs the CLI transcripts in testdata/script: each shows the
// commands a user types, what they print and their exit status. $QUICKSTART
// is the examples/quickstart directory (the real signed package, its
// channel and trusted root), $CHANNEL its channel as a file:// URL,
// $TESTDATA this package's testdata directory, and $FIXTURES
// internal/fixtures/data (the real bundles, trusted roots and TUF roots of
// public-good, staging and GitHub).
// Transcripts never use the network: set UPDATE_SCRIPTS=1 to rewrite their
// expected output after a deliberate change.
//
// Besides testscript's own commands, a transcript has
//
//	[!] condasigs ARGS...   run the CLI (as exec would) and keep its exit status
//	status N                the last condasigs exited with status N
//	expand IN OUT           write IN to OUT with $VAR and ${VAR} expanded
func TestScripts(t *testing.T) {
	qs, err := filepath.Abs(quickstart)
	if err != nil {
		t.Fatal(err)
	}
	testdata, err := filepath.Abs("testdata")
	if err != nil {
		t.Fatal(err)
	}
	fixtures, err := filepath.Abs(filepath.Join("..", "..", "internal", "fixtures", "data"))
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir:           filepath.Join("testdata", "script"),
		UpdateScripts: os.Getenv("UPDATE_SCRIPTS") == "1",
		Setup: func(env *testscript.Env) error {
			env.Setenv("QUICKSTART", filepath.ToSlash(qs))
			env.Setenv("FIXTURES", filepath.ToSlash(fixtures))
			env.Setenv("CHANNEL", pathURL(filepath.Join(qs, "channel")))
			// The real bundle alone (one object, not a sidecar), and more.
			env.Setenv("TESTDATA", filepath.ToSlash(testdata))
			// No user cache or config of the machine running the tests.
			env.Setenv("XDG_CACHE_HOME", filepath.Join(env.WorkDir, ".cache"))
			env.Setenv("HOME", env.WorkDir)
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"condasigs": func(ts *testscript.TestScript, neg bool, args []string) {
				code := 0
				if err := ts.Exec("condasigs-cli", args...); err != nil {
					var ee *exec.ExitError
					if !errors.As(err, &ee) {
						ts.Fatalf("condasigs: %v", err)
					}
					code = ee.ExitCode()
				}
				ts.Setenv("EXIT", strconv.Itoa(code))
				if neg != (code != 0) {
					ts.Fatalf("condasigs exited with status %d", code)
				}
			},
			"expand": func(ts *testscript.TestScript, neg bool, args []string) {
				if neg || len(args) != 2 {
					ts.Fatalf("usage: expand IN OUT")
				}
				out := ts.MkAbs(args[1])
				ts.Check(os.WriteFile(out, []byte(os.Expand(ts.ReadFile(args[0]), ts.Getenv)), 0o644))
			},
			"status": func(ts *testscript.TestScript, neg bool, args []string) {
				if neg || len(args) != 1 {
					ts.Fatalf("usage: status N")
				}
				if got := ts.Getenv("EXIT"); got != args[0] {
					ts.Fatalf("condasigs exited with status %s, want %s", got, args[0])
				}
			},
		},
	})
}
