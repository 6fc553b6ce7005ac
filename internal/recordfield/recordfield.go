// Package recordfield names the fields of a repodata record that
// condasigs reads, for both of its record decoders: repodata.json's
// (fetch) and CEP 16 shards' (internal/cep16). A decoder keeps a record's
// fields in an array indexed by these constants.
package recordfield

// The fields, as indices of Names.
const (
	Name = iota
	Version
	Build
	BuildNumber
	Subdir
	Size
	SHA256
	MD5
	Attestations
	Count // the number of fields
)

// Names are the fields' keys in a record.
var Names = [Count]string{"name", "version", "build", "build_number", "subdir", "size", "sha256", "md5", "attestations_sha256"}
