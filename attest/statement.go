package attest

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/condasigs/condasigs/conda"
	"github.com/sigstore/sigstore-go/pkg/verify"
	"google.golang.org/protobuf/types/known/structpb"
)

// The CEP 27 constants.
const (
	// statementType is the in-toto Statement v1 type.
	statementType = "https://in-toto.io/Statement/v1"
	// PublishPredicateType is the CEP 27 publish attestation's predicate type.
	PublishPredicateType = "https://schemas.conda.org/attestations-publish-1.schema.json"
	// maxTargetChannel is the schema's maxLength for targetChannel.
	maxTargetChannel = 2083
)

// checkStatement applies CEP 27 to a statement whose signature verified, and
// records what it finds in ev.
func checkStatement(ev *Evidence, res *verify.VerificationResult, s Subject) (Code, string) {
	st := res.Statement
	if st == nil {
		return CodeStatementMalformed, "the envelope carries no in-toto statement"
	}
	ev.PredicateType = st.GetPredicateType()
	if t := st.GetType(); t != statementType {
		return CodeStatementType, fmt.Sprintf("statement _type is %q, want %q", t, statementType)
	}
	if ev.PredicateType != PublishPredicateType {
		return CodePredicateType, fmt.Sprintf("predicate type %q is not the CEP 27 publish attestation", ev.PredicateType)
	}
	subjects := st.GetSubject()
	if len(subjects) != 1 {
		return CodeSubjectCount, fmt.Sprintf("the statement has %d subjects, CEP 27 requires exactly one", len(subjects))
	}
	sub := subjects[0]
	ev.SubjectName = sub.GetName()
	ev.SubjectSHA256 = sub.GetDigest()["sha256"]
	if ev.SubjectName != s.Filename {
		return CodeSubjectName, fmt.Sprintf("the attestation is for %q, not %q", ev.SubjectName, s.Filename)
	}
	if ev.SubjectSHA256 == "" {
		return CodeSubjectDigest, "the subject has no sha256 digest"
	}
	if !strings.EqualFold(ev.SubjectSHA256, s.SHA256) {
		return CodeSubjectDigest, fmt.Sprintf("the subject's sha256 is %s, the package's is %s", ev.SubjectSHA256, s.SHA256)
	}
	return checkPredicate(ev, st.GetPredicate(), s.Channel)
}

func checkPredicate(ev *Evidence, pred *structpb.Struct, channel string) (Code, string) {
	if pred == nil { // absent or null: allowed, nothing to compare
		ev.ChannelMatch = ChannelAbsent
		return "", ""
	}
	field, ok := pred.GetFields()["targetChannel"]
	if !ok {
		return CodePredicateMalformed, "the predicate has no targetChannel"
	}
	sv, ok := field.GetKind().(*structpb.Value_StringValue)
	if !ok {
		return CodePredicateMalformed, "targetChannel is not a string"
	}
	target := sv.StringValue
	ev.TargetChannel = target
	switch {
	case target == "" || len(target) > maxTargetChannel:
		return CodePredicateMalformed, fmt.Sprintf("targetChannel must be a URL of 1 to %d characters", maxTargetChannel)
	case strings.HasSuffix(target, "/"):
		return CodePredicateMalformed, "targetChannel ends with a slash, which CEP 27 forbids"
	}
	u, err := url.Parse(target)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return CodePredicateMalformed, "targetChannel is not an absolute URL"
	}
	// A channel URL names no credentials, query or fragment: the canonical
	// form would drop them, so that such a targetChannel would match a
	// channel it does not spell.
	if why := notAChannelURL(u, target); why != "" {
		ev.TargetChannel = conda.Redact(target)
		return CodePredicateMalformed, "targetChannel " + why + ", which a channel URL does not"
	}
	if channel == "" {
		return "", ""
	}
	want, err := conda.NormalizeChannel(channel)
	if err != nil {
		ev.ChannelMatch = ChannelMismatched
		return "", ""
	}
	got, err := conda.NormalizeChannel(target)
	if err == nil && got == want {
		ev.ChannelMatch = ChannelMatched
	} else {
		ev.ChannelMatch = ChannelMismatched
	}
	return "", ""
}

// notAChannelURL says what a targetChannel holds that a channel URL does
// not: user information, a conda /t/<token> segment, a query or a
// fragment; "" when it holds none.
func notAChannelURL(u *url.URL, raw string) string {
	switch {
	case u.User != nil:
		return "holds user information"
	case strings.ContainsAny(raw, "?#"):
		return "holds a query or a fragment"
	}
	segs := strings.Split(u.EscapedPath(), "/")
	for i := 1; i+1 < len(segs); i++ {
		if seg, err := url.PathUnescape(segs[i]); err == nil && (seg == "t" || seg == "T") {
			return "holds a conda token segment (/t/<token>)"
		}
	}
	return ""
}
