package trustroot

// RepositoryCacheDir lets the external tests find a repository's cache
// directory.
var RepositoryCacheDir = repositoryCacheDir

// Set is the material of several instances.
type Set = memberSet
