package main

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/condasigs/condasigs/internal/atomicfile"
	"github.com/condasigs/condasigs/internal/textsafe"
	"github.com/condasigs/condasigs/internal/trustdoc"
	"github.com/condasigs/condasigs/trustroot"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/spf13/cobra"
)

func newTrustRootCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "trust-root",
		Short: "Show or export the trusted root that verifications rest on",
		Long: `Show or export the trusted root (Fulcio CAs, Rekor logs, CT logs, timestamp
authorities) that verify and pin would use with the same trust flags.

  condasigs trust-root show [trust flags] [--format text|json]
  condasigs trust-root export FILE [trust flags]

export writes the current trusted_root.json atomically, for transfer to an
air-gapped machine, where verify --trusted-root FILE reads it without network.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return usageError("trust-root needs a subcommand: show or export")
		},
	}
	cmd.AddCommand(newTrustRootShowCommand(), newTrustRootExportCommand())
	return cmd
}

func newTrustRootShowCommand() *cobra.Command {
	var f trustFlags
	var format string
	cmd := &cobra.Command{
		Use:   "show",
		Short: "Show where the trusted root comes from and what it holds",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if format != "text" && format != "json" {
				return usageError("--format must be text or json, not %q", format)
			}
			snap, lastErr, closeTrust, err := openTrust(cmd, f)
			if err != nil {
				return err
			}
			defer closeTrust()
			doc := summarize(snap, lastErr, f.trustedRoots)
			if format == "json" {
				err = writeJSON(cmd.OutOrStdout(), doc)
			} else {
				_, err = io.WriteString(cmd.OutOrStdout(), doc.text(time.Now()))
			}
			if err != nil {
				return problem("writing the summary: %v", err)
			}
			return nil
		},
	}
	addTrustFlags(cmd.Flags(), &f)
	cmd.Flags().StringVar(&format, "format", "text", "output format: text or json")
	return cmd
}

func newTrustRootExportCommand() *cobra.Command {
	var f trustFlags
	cmd := &cobra.Command{
		Use:   "export FILE",
		Short: "Write the current trusted_root.json to FILE (- for stdout), for an air-gapped machine",
		Long: `Write the current trusted_root.json to FILE (- for stdout), atomically: a
temporary file in the same directory, synced, then renamed. On an air-gapped
machine, verify --trusted-root FILE then reads it without network.

The file is the trusted material itself, not its TUF metadata: carry it over a
channel you trust, and export again when the instance rotates a key.`,
		Args: wantArgs(1, 1, "one FILE to write the trusted root to (- for stdout)", "condasigs trust-root export trusted_root.json"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if args[0] == "" {
				return usageError("export needs a file name, or - for stdout")
			}
			snap, _, closeTrust, err := openTrust(cmd, f)
			if err != nil {
				return err
			}
			defer closeTrust()
			b, err := exportJSON(snap, len(f.trustedRoots))
			if err != nil {
				return problem("%v", err)
			}
			if args[0] == "-" {
				if _, err := cmd.OutOrStdout().Write(b); err != nil {
					return problem("writing the trusted root: %v", err)
				}
				return nil
			}
			if err := atomicfile.WritePath(args[0], b, 0o644); err != nil {
				return problem("writing the trusted root: %v", err)
			}
			when := "loaded at " + snap.Info.LoadedAt.Format(time.RFC3339)
			if snap.Info.AgeUnknown != "" {
				when = "of unknown age"
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "wrote %s: the trusted root from %s %s, %s\n",
				textsafe.Escape(args[0]), snap.Info.Kind, textsafe.Escape(snap.Info.Source), when)
			return nil
		},
	}
	addTrustFlags(cmd.Flags(), &f)
	return cmd
}

// openTrust checks the trust flags and loads the material, within
// --timeout. lastErr is the error of a TUF update that failed while the
// cached root stayed in use.
func openTrust(cmd *cobra.Command, f trustFlags) (snap *trustroot.Snapshot, lastErr error, closeTrust func(), err error) {
	if err := f.check(cmd.Flags()); err != nil {
		return nil, nil, nil, err
	}
	ctx, cancel := context.WithTimeout(cmd.Context(), f.timeout)
	logger := debugLogger(f, cmd.ErrOrStderr())
	src, closeSrc, err := loadTrust(ctx, f, trustLogger(f, logger, cmd.ErrOrStderr()))
	if err != nil {
		cancel()
		return nil, nil, nil, trustProblem(err)
	}
	closeTrust = func() { closeSrc(); cancel() }
	snap, err = src.Snapshot(ctx)
	if err != nil {
		closeTrust()
		return nil, nil, nil, trustProblem(err)
	}
	if t, ok := src.(*trustroot.TUF); ok {
		lastErr = t.LastError()
	}
	return snap, lastErr, closeTrust, nil
}

// exportJSON returns the trusted_root.json of the snapshot, indented,
// after checking that it loads again as a trusted root.
func exportJSON(snap *trustroot.Snapshot, files int) ([]byte, error) {
	tr, ok := snap.Material.(*root.TrustedRoot)
	if !ok {
		if files > 1 {
			return nil, fmt.Errorf("export writes one trusted_root.json, and %d --trusted-root files were given: they are separate instances that must stay apart, so copy the files themselves", files)
		}
		return nil, fmt.Errorf("export writes one trusted_root.json; the trusted material (%T, from %s) is not one", snap.Material, snap.Info.Source)
	}
	b, err := trustdoc.Marshal(tr)
	if err != nil {
		return nil, err
	}
	if _, err := trustroot.FromJSON(b); err != nil {
		return nil, fmt.Errorf("trustroot: the encoded trusted root does not load again: %w", err)
	}
	return b, nil
}

// trustVersion is the version of trust-root show's JSON shape.
const trustVersion = 1

// trustSummary is what trust-root show prints.
type trustSummary struct {
	Version int            `json:"version"`
	Info    trustroot.Info `json:"info"`
	// UpdateError says why a TUF root came from the cache: the update that
	// failed.
	UpdateError string `json:"updateError,omitempty"`
	// Roots has one entry per instance: one for TUF or a single file, one
	// per --trusted-root file otherwise.
	Roots []rootSummary `json:"roots"`
}

type rootSummary struct {
	Source     string       `json:"source,omitempty"`
	FulcioCAs  []caSummary  `json:"fulcioCertificateAuthorities"`
	RekorLogs  []logSummary `json:"rekorLogs"`
	CTLogCount int          `json:"ctLogCount"`
	TSAs       []caSummary  `json:"timestampAuthorities"`
}

type caSummary struct {
	URI        string    `json:"uri"`
	Subject    string    `json:"subject,omitempty"`
	ValidFrom  time.Time `json:"validFrom,omitzero"`
	ValidUntil time.Time `json:"validUntil,omitzero"`
}

type logSummary struct {
	BaseURL    string    `json:"baseURL"`
	LogID      string    `json:"logID"`
	ValidFrom  time.Time `json:"validFrom,omitzero"`
	ValidUntil time.Time `json:"validUntil,omitzero"`
}

func summarize(snap *trustroot.Snapshot, lastErr error, files []string) trustSummary {
	doc := trustSummary{Version: trustVersion, Info: snap.Info, Roots: []rootSummary{}}
	if lastErr != nil {
		doc.UpdateError = lastErr.Error()
	}
	if set, ok := snap.Material.(interface{ Members() []root.TrustedMaterial }); ok {
		members := set.Members()
		for i, m := range members {
			rs := summarizeRoot(m)
			if len(files) == len(members) {
				rs.Source = files[i]
			}
			doc.Roots = append(doc.Roots, rs)
		}
		return doc
	}
	rs := summarizeRoot(snap.Material)
	rs.Source = snap.Info.Source
	doc.Roots = append(doc.Roots, rs)
	return doc
}

func summarizeRoot(tm root.TrustedMaterial) rootSummary {
	rs := rootSummary{FulcioCAs: []caSummary{}, RekorLogs: []logSummary{}, TSAs: []caSummary{}, CTLogCount: len(tm.CTLogs())}
	for _, ca := range tm.FulcioCertificateAuthorities() {
		s := caSummary{URI: "(" + fmt.Sprintf("%T", ca) + ")"}
		if f, ok := ca.(*root.FulcioCertificateAuthority); ok {
			s = caSummary{URI: f.URI, ValidFrom: f.ValidityPeriodStart.UTC(), ValidUntil: f.ValidityPeriodEnd.UTC()}
			if f.Root != nil {
				s.Subject = f.Root.Subject.String()
			}
		}
		rs.FulcioCAs = append(rs.FulcioCAs, s)
	}
	for _, tl := range tm.RekorLogs() {
		rs.RekorLogs = append(rs.RekorLogs, logSummary{BaseURL: tl.BaseURL, LogID: hex.EncodeToString(tl.ID),
			ValidFrom: tl.ValidityPeriodStart.UTC(), ValidUntil: tl.ValidityPeriodEnd.UTC()})
	}
	sort.Slice(rs.RekorLogs, func(i, j int) bool {
		a, b := rs.RekorLogs[i], rs.RekorLogs[j]
		if !a.ValidFrom.Equal(b.ValidFrom) {
			return a.ValidFrom.Before(b.ValidFrom)
		}
		return a.LogID < b.LogID
	})
	for _, tsa := range tm.TimestampingAuthorities() {
		s := caSummary{URI: "(" + fmt.Sprintf("%T", tsa) + ")"}
		if t, ok := tsa.(*root.SigstoreTimestampingAuthority); ok {
			s = caSummary{URI: t.URI, ValidFrom: t.ValidityPeriodStart.UTC(), ValidUntil: t.ValidityPeriodEnd.UTC()}
			if t.Root != nil {
				s.Subject = t.Root.Subject.String()
			}
		}
		rs.TSAs = append(rs.TSAs, s)
	}
	return rs
}

// text is the summary for people. Sources, URIs and certificate subjects
// come from the trusted material and TUF repositories: each is escaped
// (textsafe.Escape).
func (d trustSummary) text(now time.Time) string {
	var b strings.Builder
	esc := textsafe.Escape
	in := d.Info
	fmt.Fprintf(&b, "trusted root: %s %s\n", in.Kind, esc(in.Source))
	if in.AgeUnknown != "" {
		fmt.Fprintf(&b, "  age unknown (%s)", esc(in.AgeUnknown))
	} else {
		fmt.Fprintf(&b, "  loaded at %s (%s ago)", in.LoadedAt.UTC().Format(time.RFC3339), roundAge(now.Sub(in.LoadedAt)))
	}
	if in.FromCache {
		b.WriteString(", from the TUF cache without an update")
	}
	b.WriteByte('\n')
	if !in.Expires.IsZero() {
		when := "in " + roundAge(in.Expires.Sub(now))
		if now.After(in.Expires) {
			when = "expired " + roundAge(now.Sub(in.Expires)) + " ago"
		}
		fmt.Fprintf(&b, "  TUF metadata expires %s (%s)\n", in.Expires.UTC().Format(time.RFC3339), when)
	}
	if d.UpdateError != "" {
		fmt.Fprintf(&b, "  the update failed: %s\n", esc(d.UpdateError))
	}
	for i, r := range d.Roots {
		indent := "  "
		if len(d.Roots) > 1 {
			fmt.Fprintf(&b, "root %d of %d: %s\n", i+1, len(d.Roots), esc(r.Source))
			indent = "    "
		}
		fmt.Fprintf(&b, "%sFulcio certificate authorities: %d\n", indent, len(r.FulcioCAs))
		for _, ca := range r.FulcioCAs {
			fmt.Fprintf(&b, "%s  %s  %s", indent, esc(ca.URI), validity(ca.ValidFrom, ca.ValidUntil))
			if ca.Subject != "" {
				fmt.Fprintf(&b, "  %s", esc(ca.Subject))
			}
			b.WriteByte('\n')
		}
		fmt.Fprintf(&b, "%sRekor transparency logs: %d\n", indent, len(r.RekorLogs))
		for _, l := range r.RekorLogs {
			fmt.Fprintf(&b, "%s  %s  log ID %s  %s\n", indent, esc(l.BaseURL), esc(l.LogID), validity(l.ValidFrom, l.ValidUntil))
		}
		fmt.Fprintf(&b, "%sCT logs: %d\n", indent, r.CTLogCount)
		fmt.Fprintf(&b, "%sTimestamp authorities: %d\n", indent, len(r.TSAs))
		for _, t := range r.TSAs {
			fmt.Fprintf(&b, "%s  %s  %s\n", indent, esc(t.URI), validity(t.ValidFrom, t.ValidUntil))
		}
	}
	return b.String()
}

func validity(from, until time.Time) string {
	switch {
	case from.IsZero() && until.IsZero():
		return "valid always"
	case until.IsZero():
		return "valid from " + from.Format(time.RFC3339)
	case from.IsZero():
		return "valid until " + until.Format(time.RFC3339)
	}
	return "valid " + from.Format(time.RFC3339) + " to " + until.Format(time.RFC3339)
}

// roundAge prints d to the second, or to the minute past an hour.
func roundAge(d time.Duration) string {
	d = d.Abs()
	if d >= time.Hour {
		return d.Round(time.Minute).String()
	}
	return d.Round(time.Second).String()
}
