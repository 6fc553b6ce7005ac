package strictyaml

import (
	"strings"
	"testing"
)

// worstBisect is the document whose syntax error costs the most to
// locate: just under MaxBisect bytes, of the lines slowest to parse, with
// an error the YAML library gives no line for, on the last line.
func worstBisect() []byte {
	var b strings.Builder
	b.WriteString("packages:\n")
	const item, tail = "- a: 1\n", "- *nope\n"
	for b.Len()+len(item)+len(tail) <= MaxBisect {
		b.WriteString(item)
	}
	b.WriteString(tail)
	return []byte(b.String())
}

// BenchmarkSyntaxErrorAtCap measures the worst cost of locating a syntax
// error by bisection, which MaxBisect bounds.
func BenchmarkSyntaxErrorAtCap(b *testing.B) {
	data := worstBisect()
	r := NewReader(Options{})
	for b.Loop() {
		if _, err := r.Parse(data); err == nil {
			b.Fatal("parsed")
		}
	}
}
