// Package version holds this module's version, for the CLI's --version,
// its SARIF output and the verdict cache's build digest. Programs that
// embed the library read it from their build information
// (runtime/debug.ReadBuildInfo), as for any module.
package version

// Version is this module's version. See CHANGELOG.md.
const Version = "0.1.0-dev"
