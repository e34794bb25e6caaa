package bridge

import (
	"errors"
	"fmt"
)

// ErrConfig is matched (errors.Is) by every error about a configuration:
// bad rules, prefixes, limits, connection settings or files.
var ErrConfig = errors.New("invalid bridge configuration")

// configError is a configuration error; its message is the reason alone.
type configError struct{ msg string }

func (e *configError) Error() string        { return e.msg }
func (e *configError) Is(target error) bool { return target == ErrConfig }

func errorf(format string, args ...any) error {
	return &configError{fmt.Sprintf(format, args...)}
}
