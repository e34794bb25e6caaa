package main

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"time"
)

// The pflag.Value types below are shared by flags, their environment
// variables and the configuration file, so that all three accept exactly
// the same spellings. Type names the kind of value in -h.

// durationValue is a non-negative duration written either as a Go duration
// ("10s", "1m30s", "500ms") or as a plain number of seconds ("10", "0.5").
type durationValue time.Duration

func (d *durationValue) String() string { return time.Duration(*d).String() }
func (d *durationValue) Type() string   { return "duration" }

func (d *durationValue) Set(s string) error {
	v, err := parseDuration(s)
	if err != nil {
		return err
	}
	*d = durationValue(v)
	return nil
}

func parseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, errors.New("empty duration")
	}
	var d time.Duration
	if secs, err := strconv.ParseFloat(s, 64); err == nil {
		if math.IsNaN(secs) || math.IsInf(secs, 0) || secs > float64(math.MaxInt64)/float64(time.Second) || secs < -float64(math.MaxInt64)/float64(time.Second) {
			return 0, errors.New("out of range")
		}
		d = time.Duration(secs * float64(time.Second))
	} else {
		d, err = time.ParseDuration(s)
		if err != nil {
			return 0, errors.New("not a duration (use e.g. 10s, 500ms, or a number of seconds)")
		}
	}
	if d < 0 {
		return 0, errors.New("must not be negative")
	}
	return d, nil
}

// sizeValue is a byte count written as a plain number or with a binary
// suffix (B, KiB, MiB, GiB), at least min.
type sizeValue struct {
	n   int
	min int
}

func (v *sizeValue) String() string { return formatSize(v.n) }
func (v *sizeValue) Type() string   { return "size" }

func (v *sizeValue) Set(s string) error {
	n, err := parseSize(s)
	if err != nil {
		return err
	}
	if n < v.min {
		if f := formatSize(v.min); f != strconv.Itoa(v.min) {
			return fmt.Errorf("must be at least %s (%d bytes)", f, v.min)
		}
		return fmt.Errorf("must be at least %d bytes", v.min)
	}
	v.n = n
	return nil
}

// sizeSuffixes are matched case-insensitively, longest unit first.
var sizeSuffixes = []struct {
	name string
	mult int64
}{
	{"GiB", 1 << 30},
	{"MiB", 1 << 20},
	{"KiB", 1 << 10},
	{"B", 1},
}

func parseSize(s string) (int, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	mult := int64(1)
	for _, sf := range sizeSuffixes {
		if suffix := strings.ToLower(sf.name); strings.HasSuffix(t, suffix) {
			t, mult = strings.TrimSpace(strings.TrimSuffix(t, suffix)), sf.mult
			break
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n < 0 {
		return 0, errors.New("not a size (use bytes, or a number with KiB, MiB or GiB)")
	}
	if n > math.MaxInt32/mult {
		return 0, errors.New("too large")
	}
	return int(n * mult), nil
}

// formatSize writes n with the largest binary suffix that divides it.
func formatSize(n int) string {
	for _, sf := range sizeSuffixes[:3] {
		if n != 0 && int64(n)%sf.mult == 0 {
			return strconv.FormatInt(int64(n)/sf.mult, 10) + sf.name
		}
	}
	return strconv.Itoa(n)
}

// intValue is a decimal integer, at least min.
type intValue struct {
	n   int
	min int
}

func (v *intValue) String() string { return strconv.Itoa(v.n) }
func (v *intValue) Type() string   { return "int" }

func (v *intValue) Set(s string) error {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return errors.New("not an integer")
	}
	if n < v.min {
		return fmt.Errorf("must be at least %d", v.min)
	}
	v.n = n
	return nil
}

// boolValue accepts what strconv.ParseBool accepts plus yes/no and on/off.
type boolValue bool

func (b *boolValue) String() string   { return strconv.FormatBool(bool(*b)) }
func (b *boolValue) IsBoolFlag() bool { return true } // "--flag" alone means true
func (b *boolValue) Type() string     { return "bool" }

func (b *boolValue) Set(s string) error {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "1", "t", "true", "yes", "y", "on":
		*b = true
	case "0", "f", "false", "no", "n", "off":
		*b = false
	default:
		return errors.New("not a boolean (use true or false)")
	}
	return nil
}

// levelValue is a slog level by name.
type levelValue slog.Level

func (l *levelValue) String() string { return strings.ToLower(slog.Level(*l).String()) }
func (l *levelValue) Type() string   { return "level" }

func (l *levelValue) Set(s string) error {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "debug":
		*l = levelValue(slog.LevelDebug)
	case "info":
		*l = levelValue(slog.LevelInfo)
	case "warn", "warning":
		*l = levelValue(slog.LevelWarn)
	case "error":
		*l = levelValue(slog.LevelError)
	default:
		return errors.New("not a log level (use debug, info, warn or error)")
	}
	return nil
}

// formatValue is a log format: text or json.
type formatValue string

func (f *formatValue) String() string { return string(*f) }
func (f *formatValue) Type() string   { return "format" }

func (f *formatValue) Set(s string) error {
	switch v := strings.ToLower(strings.TrimSpace(s)); v {
	case "text", "json":
		*f = formatValue(v)
	default:
		return errors.New("not a log format (use text or json)")
	}
	return nil
}

// modeValue is a file mode written in octal ("0600", "600", "0o660"),
// permission bits only.
type modeValue fs.FileMode

func (m *modeValue) String() string { return fmt.Sprintf("%#o", uint32(*m)) }
func (m *modeValue) Type() string   { return "mode" }

func (m *modeValue) Set(s string) error {
	t := strings.TrimSpace(s)
	t = strings.TrimPrefix(strings.TrimPrefix(t, "0o"), "0O")
	v, err := strconv.ParseUint(t, 8, 32)
	if err != nil {
		return errors.New("not an octal file mode (use e.g. 0600 or 0660)")
	}
	if v == 0 || v > 0o777 {
		return errors.New("must be between 0001 and 0777")
	}
	*m = modeValue(v)
	return nil
}
