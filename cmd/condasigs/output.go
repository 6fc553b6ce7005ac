package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/condasigs/condasigs"
	"github.com/condasigs/condasigs/policy"
)

// reportVersion is the version of the JSON report's shape. It changes only
// when a field is removed or changes meaning.
const reportVersion = 1

type jsonReport struct {
	Version  int                 `json:"version"`
	Packages []*condasigs.Report `json:"packages"`
}

func render(w io.Writer, format string, reports []*condasigs.Report) error {
	if format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(jsonReport{Version: reportVersion, Packages: reports})
	}
	var b strings.Builder
	for _, r := range reports {
		fmt.Fprintf(&b, "%-4s %s  %s", strings.ToUpper(string(r.Outcome)), r.Filename, r.Status)
		if r.Signer != nil {
			fmt.Fprintf(&b, "  signer %s (issuer %s)", r.Signer.SAN, r.Signer.Issuer)
		}
		b.WriteByte('\n')
		for _, reason := range r.Reasons {
			where := ""
			if reason.Bundle != nil {
				where = fmt.Sprintf("bundle %d: ", *reason.Bundle)
			}
			fmt.Fprintf(&b, "     %s: %s%s [%s]\n", severityWord(reason.Severity), where, reason.Message, reason.Code)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func severityWord(s policy.Severity) string {
	switch s {
	case policy.SeverityError:
		return "error"
	case policy.SeverityWarning:
		return "warning"
	}
	return "note"
}
