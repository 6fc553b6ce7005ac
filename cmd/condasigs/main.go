// Command condasigs verifies the Sigstore attestations of conda packages
// (conda CEP 50 and CEP 27).
//
//	condasigs verify [flags] PACKAGE-URL...
//	condasigs verify --bundle FILE [flags] PACKAGE-FILE...
//	condasigs download-sidecar [flags] PACKAGE-URL...
//	condasigs verify-env [flags] LOCK-FILE
//	condasigs pin --pins FILE [flags] PACKAGE-URL...
//	condasigs trust-root show|export [flags]
//
// Exit status: 0 when every package passes (warnings allowed), 1 when any
// fails the policy, 2 for usage, configuration or trust-root problems.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"

	"github.com/condasigs/condasigs/internal/textsafe"
	"github.com/condasigs/condasigs/internal/version"
	"github.com/spf13/cobra"
)

// Exit statuses.
const (
	exitOK      = 0
	exitFail    = 1
	exitProblem = 2
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// exitError carries an exit status out of a command.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// run executes the CLI with args and returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cmd := newRootCommand(stdout, stderr)
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(ctx)
	if err != nil {
		err = commandError(cmd, err)
	}
	var ee exitError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ee):
		return ee.code
	default:
		// Errors quote file names, URLs and lock-file text.
		// Library errors say "condasigs: " themselves: once is enough.
		fmt.Fprintf(stderr, "condasigs: %s\n", textsafe.Escape(strings.TrimPrefix(err.Error(), "condasigs: ")))
		return exitProblem
	}
}

func newRootCommand(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:           "condasigs",
		Short:         "Verify Sigstore attestations of conda packages (CEP 50, CEP 27)",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.Version = version.Version
	root.SetVersionTemplate(versionText())
	root.SetFlagErrorFunc(flagError) // inherited by every subcommand
	root.AddCommand(newVerifyCommand(), newVerifyEnvCommand(), newPinCommand(), newTrustRootCommand(), newVersionCommand(),
		newDownloadSidecarCommand())
	return root
}
