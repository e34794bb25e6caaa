package codec

// Verb is a frame's first header token. The zero value is no verb.
type Verb uint8

// The six verbs of the wire contract.
const (
	VerbNone Verb = iota
	VerbHELLO
	VerbSUB
	VerbUNSUB
	VerbPUB
	VerbEVT
	VerbBYE
)

var verbNames = [...]string{"", "HELLO", "SUB", "UNSUB", "PUB", "EVT", "BYE"}

func (v Verb) String() string {
	if int(v) < len(verbNames) {
		return verbNames[v]
	}
	return "?"
}

// parseVerb maps the verb token to a Verb without allocating; VerbNone when
// the token is not one of the six (verbs are case-sensitive).
func parseVerb(b []byte) Verb {
	switch len(b) {
	case 3:
		switch string(b) {
		case "SUB":
			return VerbSUB
		case "PUB":
			return VerbPUB
		case "EVT":
			return VerbEVT
		case "BYE":
			return VerbBYE
		}
	case 5:
		switch string(b) {
		case "HELLO":
			return VerbHELLO
		case "UNSUB":
			return VerbUNSUB
		}
	}
	return VerbNone
}
