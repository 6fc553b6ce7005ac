package main

import (
	"fmt"

	"github.com/spf13/pflag"
)

// onceString is a string flag that may be given once: a second value
// would silently replace the first, and a gate whose command line says
// --require error ... --require warn must not pass on the second.
type onceString struct {
	p   *string
	set bool
}

func (v *onceString) Set(s string) error {
	if v.set {
		return fmt.Errorf("given twice (%q, then %q): give it once", *v.p, s)
	}
	*v.p, v.set = s, true
	return nil
}

func (v *onceString) String() string {
	if v.p == nil {
		return ""
	}
	return *v.p
}

func (v *onceString) Type() string { return "string" }

// onceStringVar defines a string flag that may be given once.
func onceStringVar(fl *pflag.FlagSet, p *string, name, value, usage string) {
	*p = value
	fl.Var(&onceString{p: p}, name, usage)
}
