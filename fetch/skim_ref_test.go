package fetch

import "io"

// The scanner as it was before skim.go, for the differential tests of
// skim_test.go: the reference skip, and FindRecords by a full decode.

// skipValueRef is the scanner's skipValue as it was before skim.go, token
// by token through the scanner's methods: the reference that skipNested is
// tested against (set as scanner.reference). limit is skipNested's.
func skipValueRef(s *scanner, limit int) error {
	depth := 0
	for {
		c, ok := s.peek()
		if !ok {
			return s.inputErr()
		}
		var err error
		switch c {
		case '{', '[':
			if depth == limit {
				return errTooDeep
			}
			s.pos++
			bit := uint64(1) << (depth % 64)
			if c == '{' {
				s.nest[depth/64] |= bit
			} else {
				s.nest[depth/64] &^= bit
			}
			depth++
			closing := byte(']')
			if c == '{' {
				closing = '}'
			}
			c, ok := s.peek()
			if !ok {
				return s.inputErr()
			}
			if c == closing {
				s.pos++
				depth--
				break
			}
			if closing == '}' {
				if err := skipKeyRef(s); err != nil {
					return err
				}
			}
			continue
		case '"':
			err = s.skipString()
		case 't', 'f', 'n':
			err = s.literal()
		case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
			err = s.number()
		default:
			return s.syntax(c, "looking for the beginning of a value")
		}
		if err != nil {
			return err
		}
		// After a value: close the containers it ends.
		for depth > 0 {
			object := s.nest[(depth-1)/64]&(uint64(1)<<((depth-1)%64)) != 0
			closing := byte(']')
			if object {
				closing = '}'
			}
			done, err := s.next(closing)
			if err != nil {
				return err
			}
			if !done {
				if object {
					if err := skipKeyRef(s); err != nil {
						return err
					}
				}
				break
			}
			depth--
		}
		if depth == 0 {
			return nil
		}
	}
}

// skipKeyRef skips an object's key and its colon.
func skipKeyRef(s *scanner) error {
	c, ok := s.peek()
	if !ok {
		return s.inputErr()
	}
	if c != '"' {
		return s.syntax(c, "looking for an object key")
	}
	if err := s.skipString(); err != nil {
		return err
	}
	return s.expect(':', "after an object key")
}

// FindRecordsSkimReference is FindRecords with the reference scanner:
// every file name decoded, every value skipped by skipValueRef. It keeps
// FindRecords' semantics (records that are not wanted are not decoded),
// so FindRecords must give exactly its answers.
func FindRecordsSkimReference(r io.Reader, filenames []string) (map[string]Found, error) {
	s := newScanner(r)
	s.reference = skipValueRef
	return findRecords(s, filenames, true)
}

// FindRecordsFullDecode is FindRecords as it was before skim.go: every
// record decoded by ScanRepodata's rules, every value skipped by
// skipValueRef.
func FindRecordsFullDecode(r io.Reader, filenames []string) (map[string]Found, error) {
	s := newScanner(r)
	s.reference = skipValueRef
	return findRecords(s, filenames, false)
}

// ScanRepodataReference is ScanRepodata with skipValueRef.
func ScanRepodataReference(r io.Reader, fn func(Record) bool) error {
	s := newScanner(r)
	s.reference = skipValueRef
	if err := s.document(fn); err != nil {
		return malformedRepodata(err)
	}
	return nil
}

// AdvertisedEmpty reports a record's advertisedEmpty, for comparisons.
func AdvertisedEmpty(r Record) bool { return r.advertisedEmpty }
