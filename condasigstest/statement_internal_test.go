package condasigstest

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestSidecar(t *testing.T) {
	assert.Equal(t, "[]", string(sidecar()))
	assert.Equal(t, `[{"a":1},{"b":2}]`, string(sidecar([]byte(`{"a":1}`), []byte(`{"b":2}`))))
}
