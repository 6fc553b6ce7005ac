package condasigs

// Version is this library's version. See CHANGELOG.md.
const Version = "0.1.0-dev"
