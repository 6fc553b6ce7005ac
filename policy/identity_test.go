package policy_test

import (
	"testing"

	"github.com/condasigs/condasigs/policy"
	"github.com/stretchr/testify/assert"
)

func TestMatchSAN(t *testing.T) {
	cases := []struct {
		pattern, san string
		want         bool
	}{
		{"https://github.com/conda-forge/*", "https://github.com/conda-forge/numpy-feedstock/.github/workflows/b.yml@refs/heads/main", true},
		{"https://github.com/conda-forge/*", "https://github.com/conda-forge-evil/numpy/.github/workflows/b.yml@refs/heads/main", false},
		{"https://github.com/conda-forge/*", "https://github.com/conda-forge/", true},
		{"https://github.com/conda-forge/*", "https://github.com/conda-forge", false},
		{"https://github.com/Conda-Forge/*", "https://github.com/conda-forge/x", false}, // case-sensitive
		{"user@example.com", "user@example.com", true},
		{"user@example.com", "user@example.com.evil", false}, // anchored at the end
		{"user@example.com", "xuser@example.com", false},     // anchored at the start
		{"a.b", "axb", false}, // '.' is literal
		{"https://github.com/o/*/.github/workflows/release.yml@*", "https://github.com/o/r/.github/workflows/release.yml@refs/tags/v1", true},
		{"https://github.com/o/*/.github/workflows/release.yml@*", "https://github.com/o/r/.github/workflows/other.yml@refs/tags/v1", false},
		{"*", "anything/at/all", true},
		{"a*b*c", "a-x-b-y-c", true},
		{"a*b*c", "a-x-c-y-b", false},
		{"x", "x\n", false},
		{"(x)+[y]", "(x)+[y]", true}, // regexp metacharacters are literal
	}
	for _, c := range cases {
		assert.Equal(t, c.want, policy.MatchSAN(c.pattern, c.san), "%q vs %q", c.pattern, c.san)
	}
}
