package nearest_test

import (
	"testing"

	"github.com/condasigs/condasigs/internal/nearest"
	"github.com/stretchr/testify/assert"
)

func TestDistance(t *testing.T) {
	assert.Equal(t, 0, nearest.Distance("abc", "abc"))
	assert.Equal(t, 1, nearest.Distance("abc", "acb"))
	assert.Equal(t, 3, nearest.Distance("", "abc"))
	assert.Equal(t, 1, nearest.Distance("réquire", "require"), "in runes, not bytes")
}
