package load

import (
	"errors"
	"flag"
)

// ParseFlags adds the flags every load-generating command shares
// (--client-procs, applied to ClientProcs) to fs and parses args. It
// returns false with the exit code when the command must stop: 0 after -h,
// 2 after a bad flag (fs has printed why).
func ParseFlags(fs *flag.FlagSet, args []string) (exit int, ok bool) {
	procs := fs.Int("client-procs", ClientProcs, "GOMAXPROCS of the load generator during each run (0: the Go default)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0, false
		}
		return 2, false
	}
	ClientProcs = *procs
	return 0, true
}
