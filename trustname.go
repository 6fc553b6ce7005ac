package condasigs

import "github.com/condasigs/condasigs/trustroot"

// trustRootName names trusted material in bundle messages: its file, its
// TUF repository, or the sources of a set.
func trustRootName(info trustroot.Info) string {
	if info.Source == "" {
		return ""
	}
	switch info.Kind {
	case "file":
		return "file " + info.Source
	case "tuf":
		return "TUF repository " + info.Source
	}
	return info.Source
}
