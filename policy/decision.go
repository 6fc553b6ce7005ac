package policy

import (
	"fmt"

	"github.com/condasigs/condasigs/attest"
)

// Rules named in reasons (Reason.Rule).
const (
	ruleRequire          = "require"
	ruleBundle           = "bundle"
	ruleIdentity         = "identity"
	ruleTargetChannel    = "target-channel"
	ruleUnknownPredicate = "unknown-predicate"
	rulePin              = "pin"
	ruleRecord           = "record"
	ruleLock             = "lock"
	ruleEnabled          = "enabled"
	ruleArtifact         = "artifact"
	ruleTrustRoot        = "trust-root"
)

// Code is the stable code of a Reason, for callers and scripts to branch
// on: one of the constants below, a fetch.Kind (why attestations could not
// be retrieved) or an attest.Code (why a bundle does not verify). Codes
// are never renamed.
type Code string

// The policy's own codes.
const (
	CodeUnsigned              Code = "unsigned"                // no attestations_sha256 in the record
	CodeNoTrustedBundle       Code = "no-trusted-bundle"       // no bundle both verifies and comes from a trusted identity
	CodeUntrustedIdentity     Code = "untrusted-identity"      // a bundle verifies but its signer matches no trusted identity
	CodeTargetChannelMismatch Code = "target-channel-mismatch" // the attestation names another channel than the package's
	CodeUnknownPredicate      Code = "unknown-predicate"       // a verified attestation of a predicate type other than CEP 27's
	CodePinNew                Code = "pin-new"                 // the first trusted signer seen for the package, to be pinned
	CodeSignerChanged         Code = "signer-changed"          // a trusted signer other than the pinned one
	CodeRecordInconsistent    Code = "record-inconsistent"     // the record contradicts its file name, or its URL's subdir
	CodeRecordUnavailable     Code = "record-unavailable"      // the package's repodata record could not be read
	CodeRetrievalFailure      Code = "retrieval-failure"       // attestations advertised but not retrieved, cause unclassified
	CodeLockUnbound           Code = "lock-unbound"            // the installer checks no sha256 the attestations were checked against
	CodeLockMismatch          Code = "lock-mismatch"           // the lock file's hash is not the record's
	CodeArtifactMismatch      Code = "artifact-mismatch"       // the package bytes are not the record's
	CodePackageDownloaded     Code = "package-downloaded"      // the attestations were checked against downloaded bytes
	CodeNotChecked            Code = "not-checked"             // the channel's policy entry is disabled
	CodeNotConfigured         Code = "not-configured"          // no policy entry covers the channel
	CodeNoPolicy              Code = "no-policy"               // a nil compiledPolicy, e.g. of a hand-made Match (misuse): fails
	CodeTrustRootStale        Code = "trust-root-stale"        // the TUF trusted root is older than the warning age
	CodeTrustRootAgeUnknown   Code = "trust-root-age-unknown"  // the TUF trusted root's last update is unknown
)

// Reason explains one part of a Decision.
type Reason struct {
	// Rule is the policy rule that produced the reason.
	Rule string `json:"rule"`
	// Code is a stable code (see [Code]).
	Code     Code     `json:"code"`
	Severity Severity `json:"severity"`
	// Bundle is the index of the bundle concerned, or nil.
	Bundle  *int   `json:"bundle,omitempty"`
	Message string `json:"message"`
}

// Input is what is known about one package's attestations. Exactly one of
// four cases holds: RecordUnavailable set; NotAdvertised; RetrievalFailure
// set; or Bundles set.
type Input struct {
	// RecordUnavailable is why the package's repodata record could not be
	// read (the repodata unreachable or malformed, or the package not in
	// it), so that whether it has attestations is unknown. The require
	// table treats it as a retrieval failure.
	RecordUnavailable error
	// NotAdvertised: the record has no attestations_sha256.
	NotAdvertised bool
	// RetrievalFailure is why an advertised sidecar could not be obtained
	// intact (a fetch error or a malformed sidecar), with its stable code.
	RetrievalFailure     error
	RetrievalFailureCode Code
	// Bundles is the evidence of every bundle in the sidecar.
	Bundles []attest.Evidence
	// Pinned is the signer pinned for this package, if one was recorded.
	// Only a policy that pins looks at it.
	Pinned *PinnedSigner

	// The checks below bind a pass to the bytes that get installed. Each,
	// when set, is decided by the require table as a verification failure,
	// except that require: ignore warns too: whatever the attestations say,
	// they are not about what will be installed.

	// Inconsistent is why the package's record contradicts its file name
	// (condasigs checks it).
	Inconsistent error
	// Unbound is why the SHA-256 the attestations are checked against is
	// not one the installer will check the package bytes against, e.g. a
	// lock file entry with no sha256 (a hashless or md5-only explicit line).
	// Its message should say how to bind it.
	Unbound error

	// The checks below fail the package whatever the require mode (of an
	// enabled channel: a disabled channel's packages are not checked at
	// all): the bytes are not what the channel published. The attestations
	// are not looked at.

	// ArtifactMismatch is how the package bytes differ from the record
	// (another sha256, md5 or size).
	ArtifactMismatch error
	// LockMismatch is how the lock file's hashes differ from the record's.
	LockMismatch error

	// The notes below add a reason, and turn a pass into a warning where
	// they say so.

	// Downloaded, when set, says that the attestations were checked
	// against the bytes of a download.
	Downloaded *Download
	// TrustRootStale is why the trusted root is older than the warning
	// age (a warning).
	TrustRootStale error
	// TrustRootAgeUnknown is why the trusted root's age is unknown (a
	// warning).
	TrustRootAgeUnknown error
}

// Download is a package downloaded to bind its attestations to the bytes
// that get installed (a lock entry without sha256).
type Download struct {
	// SHA256 is the downloaded bytes' SHA-256, lowercase hex.
	SHA256 string
	// Kept: the bytes are kept for installation if the package does not
	// fail.
	Kept bool
	// MD5Checked: the installer checks the lock entry's md5 on the bytes
	// it installs, which these bytes have. Without it or Kept, nothing
	// ties what gets installed to what was verified: a warning.
	MD5Checked bool
}

// Decision is the verdict on one package.
type Decision struct {
	Outcome Outcome  `json:"outcome"`
	Status  Status   `json:"status"`
	Reasons []Reason `json:"reasons"`
	// Accepted lists the bundles that verified and matched a trusted
	// identity (and whose targetChannel was acceptable).
	Accepted []int `json:"accepted"`
	// Signers maps each accepted bundle to the identity it matched.
	Signers map[int]Identity `json:"-"`
	// PinCandidate is the signer of the first accepted bundle, to record when the
	// policy pins and no pin exists yet.
	PinCandidate *PinnedSigner `json:"-"`
}

// Decide applies the matched channel's policy to in. It is the one place
// where a package's outcome is decided.
//
// The Match of a channel whose entry is disabled, and that of a channel no
// entry covers, both from [CompiledConfig.For], look at nothing of in: the
// first passes with a note (code not-checked), the second warns (code
// not-configured), since the entries may have missed a spelling of the
// channel. A Match not made by For (a zero or hand-made one) fails with
// code no-policy: nothing says what to accept.
func (m Match) Decide(in Input) Decision { return m.policy.decideAll(in) }

func (e *compiledPolicy) decideAll(in Input) Decision {
	switch {
	case e == nil:
		d := Decision{Outcome: Fail, Status: StatusVerificationFailure, Reasons: []Reason{}, Accepted: []int{}}
		d.add(ruleEnabled, CodeNoPolicy, SeverityError, nil, "the Match was not made by CompiledConfig.For, so it holds no policy: take it from CompileConfig(...).For(channel)")
		return d
	case e.unchecked != nil:
		return e.unchecked.decide()
	}
	for _, m := range []struct {
		err  error
		rule string
		code Code
	}{{in.LockMismatch, ruleLock, CodeLockMismatch}, {in.ArtifactMismatch, ruleArtifact, CodeArtifactMismatch}} {
		if m.err != nil {
			d := Decision{Outcome: Fail, Status: StatusVerificationFailure, Reasons: []Reason{}, Accepted: []int{}}
			d.add(m.rule, m.code, SeverityError, nil, m.err.Error())
			return d
		}
	}
	d := e.decide(in)
	e.bind(&d, ruleRecord, CodeRecordInconsistent, in.Inconsistent,
		"the package's record contradicts its file name, which is what attestations bind, so the channel's word about this package cannot be trusted")
	e.bind(&d, ruleLock, CodeLockUnbound, in.Unbound,
		"a pass would not be about the bytes that get installed")
	if in.TrustRootAgeUnknown != nil {
		d.note(ruleTrustRoot, CodeTrustRootAgeUnknown, SeverityWarning, in.TrustRootAgeUnknown.Error())
	}
	if in.TrustRootStale != nil {
		d.note(ruleTrustRoot, CodeTrustRootStale, SeverityWarning, in.TrustRootStale.Error())
	}
	if dl := in.Downloaded; dl != nil {
		msg := fmt.Sprintf("the lock file binds no sha256, so the package was downloaded and its attestations checked against its bytes (sha256 %s)", dl.SHA256)
		sev := SeverityInfo
		switch {
		case dl.Kept:
			msg += "; they are kept only if the package does not fail"
		case !dl.MD5Checked:
			// The installer checks nothing an md5 could bind: what it
			// downloads later need not be what was verified now.
			sev = SeverityWarning
			msg += "; they were not kept, and the installer checks no hash of this entry: keep them (BatchOptions.DownloadDir) and install that file, or write the lock file with sha256"
		default:
			msg += "; they were not kept: the installer checks the lock file's md5, which these bytes have"
		}
		d.note(ruleLock, CodePackageDownloaded, sev, msg)
	}
	return d
}

// decide reports that the channel's packages are not checked.
func (u *unchecked) decide() Decision {
	d := Decision{Status: StatusDisabled, Reasons: []Reason{}, Accepted: []int{}}
	if u.entry == "" {
		d.Outcome = Warn
		d.add(ruleEnabled, CodeNotConfigured, SeverityWarning, nil,
			fmt.Sprintf("no policy entry covers channel %s, so its packages are not checked; add an entry for it, or a catch-all (\"*\") entry, with enabled: false to skip such channels silently", u.channel))
		return d
	}
	d.Outcome = Pass
	d.add(ruleEnabled, CodeNotChecked, SeverityInfo, nil, fmt.Sprintf("verification is disabled for this channel (policy entry %q)", u.entry))
	return d
}

// note adds a reason after the verdict's own; a warning turns a pass into
// a warning.
func (d *Decision) note(rule string, code Code, sev Severity, msg string) {
	d.add(rule, code, sev, nil, msg)
	if sev == SeverityWarning && d.Outcome == Pass {
		d.Outcome = Warn
	}
}

// bind applies one binding check that failed with err: under require:
// error it fails the package (and nothing is accepted, so no signer is
// named), otherwise it warns, require: ignore included. In every mode no
// signer is pinned from it: trust on first use learns only from packages
// whose attestations are about what gets installed. Its reason comes
// first: it is why the verdict is what it is.
func (e *compiledPolicy) bind(d *Decision, rule string, code Code, err error, what string) {
	if err == nil {
		return
	}
	d.PinCandidate = nil
	sev := SeverityWarning
	if e.policy.Require == ModeError {
		sev = SeverityError
		if d.Outcome != Fail {
			d.Status = StatusVerificationFailure
		}
		d.Outcome = Fail
		d.Accepted = []int{}
		clear(d.Signers)
	} else if d.Outcome == Pass {
		d.Outcome = Warn
	}
	r := Reason{Rule: rule, Code: code, Severity: sev, Message: fmt.Sprintf("%s: %v", what, err)}
	d.Reasons = append([]Reason{r}, d.Reasons...)
}

func (e *compiledPolicy) decide(in Input) Decision {
	p := e.policy
	switch {
	case in.RecordUnavailable != nil:
		d := Decision{Status: StatusRetrievalFailure, Reasons: []Reason{}, Accepted: []int{}}
		d.Outcome, _ = e.failure()
		d.add(ruleRequire, CodeRecordUnavailable, severityOf(d.Outcome), nil,
			fmt.Sprintf("the package's repodata record could not be read, so whether it has attestations is unknown: %v", in.RecordUnavailable))
		return d
	case in.NotAdvertised:
		d := Decision{Status: StatusUnsigned, Reasons: []Reason{}, Accepted: []int{}}
		switch p.Require {
		case ModeIgnore:
			d.Outcome = Pass
		case ModeWarn:
			d.Outcome = Warn
			d.add(ruleRequire, CodeUnsigned, SeverityWarning, nil, "the package has no attestations (require: warn)")
		default:
			d.Outcome = Fail
			d.add(ruleRequire, CodeUnsigned, SeverityError, nil, "the package has no attestations and the policy requires them; to accept unsigned packages from this channel, set require to warn or ignore")
		}
		return d
	case in.RetrievalFailure != nil:
		d := Decision{Status: StatusRetrievalFailure, Reasons: []Reason{}, Accepted: []int{}}
		code := in.RetrievalFailureCode
		if code == "" {
			code = CodeRetrievalFailure
		}
		d.Outcome, _ = e.failure()
		d.add(ruleRequire, code, severityOf(d.Outcome), nil,
			fmt.Sprintf("attestations are advertised but could not be retrieved intact: %v", in.RetrievalFailure))
		return d
	}
	d := e.decideBundles(in.Bundles)
	if e.policy.Pinning != "" && len(d.Accepted) > 0 {
		e.checkPin(&d, in)
	}
	return d
}

// checkPin compares the accepted signers with the pinned one. A package
// stays trusted if any accepted bundle comes from the pinned signer.
func (e *compiledPolicy) checkPin(d *Decision, in Input) {
	byIndex := map[int]attest.Evidence{}
	for _, ev := range in.Bundles {
		byIndex[ev.Index] = ev
	}
	first := pinnedSignerOf(byIndex[d.Accepted[0]])
	d.PinCandidate = &first
	if in.Pinned == nil {
		d.add(rulePin, CodePinNew, SeverityInfo, nil, "first verified signer of this package: "+first.String())
		return
	}
	for _, i := range d.Accepted {
		if in.Pinned.Same(pinnedSignerOf(byIndex[i])) {
			return
		}
	}
	msg := fmt.Sprintf("the signer changed: pinned %s, now %s; if the change is expected, replace the pin (PinStore.Set, then Save)", in.Pinned, first)
	if e.policy.Pinning == ModeError {
		d.Outcome, d.Status = Fail, StatusVerificationFailure
		d.Accepted = []int{}
		clear(d.Signers)
		d.add(rulePin, CodeSignerChanged, SeverityError, nil, msg)
		return
	}
	if d.Outcome == Pass {
		d.Outcome = Warn
	}
	d.add(rulePin, CodeSignerChanged, SeverityWarning, nil, msg)
}

// failure returns the outcome of a retrieval or verification failure.
func (e *compiledPolicy) failure() (Outcome, Severity) {
	if e.policy.Require == ModeError {
		return Fail, SeverityError
	}
	return Warn, SeverityWarning
}

func severityOf(o Outcome) Severity {
	switch o {
	case Fail:
		return SeverityError
	case Warn:
		return SeverityWarning
	}
	return SeverityInfo
}

func (d *Decision) add(rule string, code Code, sev Severity, bundle *int, msg string) {
	d.Reasons = append(d.Reasons, Reason{Rule: rule, Code: code, Severity: sev, Bundle: bundle, Message: msg})
}

func (e *compiledPolicy) decideBundles(bundles []attest.Evidence) Decision {
	p := e.policy
	d := Decision{Reasons: []Reason{}, Accepted: []int{}, Signers: map[int]Identity{}}
	// Problems that fail the package when nothing is accepted, and are a
	// tampering signal beside an accepted bundle.
	type problem struct {
		rule   string
		code   Code
		msg    string
		bundle int
	}
	var problems []problem
	var warnings, infos, untrusted []problem
	rejectUnknown := false
	for _, ev := range bundles {
		switch {
		case !ev.Verified && ev.SignatureVerified && ev.Code == attest.CodePredicateType:
			msg := fmt.Sprintf("an attestation of predicate type %q, signed by %s", ev.PredicateType, signer(ev))
			switch p.UnknownPredicate {
			case ModeError:
				rejectUnknown = true
				problems = append(problems, problem{ruleUnknownPredicate, CodeUnknownPredicate, msg + ", is rejected by policy (unknown_predicate: error)", ev.Index})
			case ModeWarn:
				warnings = append(warnings, problem{ruleUnknownPredicate, CodeUnknownPredicate, msg + ", was not evaluated", ev.Index})
			default:
				infos = append(infos, problem{ruleUnknownPredicate, CodeUnknownPredicate, msg + ", was ignored", ev.Index})
			}
		case !ev.Verified:
			problems = append(problems, problem{ruleBundle, Code(ev.Code), "the bundle does not verify: " + ev.Message, ev.Index})
		default:
			id, ok := e.trusted(ev)
			if !ok {
				msg := fmt.Sprintf("valid, but signed by %s, which matches no trusted identity", signer(ev))
				if miss := e.claimMiss(ev); miss != "" {
					msg += ": " + miss
				}
				untrusted = append(untrusted, problem{ruleIdentity, CodeUntrustedIdentity, msg, ev.Index})
				continue
			}
			if ev.ChannelMatch == attest.ChannelMismatched {
				msg := fmt.Sprintf("the attestation targets channel %s, not the channel the package came from", ev.TargetChannel)
				switch p.ChannelMismatch {
				case ModeError:
					problems = append(problems, problem{ruleTargetChannel, CodeTargetChannelMismatch,
						msg + "; if the package comes from a mirror or local copy of that channel, verify it as a package of that channel (condasigs.Package.Channel) or allow mirrors (channel_mismatch: warn)", ev.Index})
					continue
				case ModeWarn:
					warnings = append(warnings, problem{ruleTargetChannel, CodeTargetChannelMismatch, msg + " (channel-mismatch: warn)", ev.Index})
				}
			}
			d.Accepted = append(d.Accepted, ev.Index)
			d.Signers[ev.Index] = id
		}
	}

	if len(d.Accepted) > 0 && !rejectUnknown {
		d.Status, d.Outcome = StatusVerified, Pass
		if len(problems) > 0 || len(warnings) > 0 {
			d.Outcome = Warn
		}
		for _, pr := range problems {
			d.add(pr.rule, pr.code, SeverityWarning, &pr.bundle, pr.msg+" (beside a trusted bundle: a possible tampering signal)")
		}
		for _, pr := range untrusted {
			d.add(pr.rule, pr.code, SeverityInfo, &pr.bundle, pr.msg)
		}
	} else {
		d.Status = StatusVerificationFailure
		var sev Severity
		d.Outcome, sev = e.failure()
		if len(d.Accepted) == 0 {
			d.add(ruleRequire, CodeNoTrustedBundle, sev, nil, "no bundle both verifies and comes from a trusted identity")
		}
		for _, pr := range append(problems, untrusted...) {
			d.add(pr.rule, pr.code, sev, &pr.bundle, pr.msg)
		}
		d.Accepted = []int{}
		clear(d.Signers)
	}
	for _, pr := range warnings {
		d.add(pr.rule, pr.code, SeverityWarning, &pr.bundle, pr.msg)
	}
	for _, pr := range infos {
		d.add(pr.rule, pr.code, SeverityInfo, &pr.bundle, pr.msg)
	}
	return d
}

func signer(ev attest.Evidence) string {
	return fmt.Sprintf("%s (issuer %s)", ev.SAN, ev.Issuer)
}
