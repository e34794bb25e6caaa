package main

// The daemon's configuration file (--config, BUSD_CONFIG).
//
// It is TOML: one key per daemon flag, named like the flag, its value
// written as on the command line (a string, or a number or boolean where
// the flag takes one):
//
//	ring-bytes = "8MiB"
//	heartbeat = 5          # seconds, or "5s"
//	validate-json = true
//	admin-mode = "0640"    # a string: TOML numbers have no leading zeros
//
// TOML because the file is also where structured settings will go (lists
// of rules are arrays of tables, "[[name]]", with comments beside them),
// while a flat file of settings stays as plain as "key = value". A key the
// daemon does not know is an error, so a misspelt setting never goes
// unnoticed.

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
)

// configFile holds a loaded configuration file.
type configFile struct {
	path   string
	values map[string]string // key (a flag name) → value as a flag would take it
}

// loadConfigFile reads the file at path. known says which keys it may
// hold; the keys named in tables are left for the caller to decode (arrays
// of tables, such as the bridge's [[rule]]). A file that cannot be read or
// parsed, an unknown key, or a value that is not a string, number, boolean
// or array of strings is an error. An array of strings is a
// comma-separated list, as a repeatable flag takes it.
func loadConfigFile(path string, known func(key string) bool, tables ...string) (*configFile, error) {
	var doc map[string]any
	if _, err := toml.DecodeFile(path, &doc); err != nil {
		return nil, fmt.Errorf("configuration file %s: %w", path, err)
	}
	keys := make([]string, 0, len(doc))
	for k := range doc {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	c := &configFile{path: path, values: make(map[string]string, len(doc))}
	for _, k := range keys {
		if slices.Contains(tables, k) {
			continue
		}
		if !known(k) {
			return nil, fmt.Errorf("configuration file %s: unknown setting %q", path, k)
		}
		switch v := doc[k].(type) {
		case string:
			c.values[k] = v
		case bool:
			c.values[k] = strconv.FormatBool(v)
		case int64:
			c.values[k] = strconv.FormatInt(v, 10)
		case float64:
			c.values[k] = strconv.FormatFloat(v, 'f', -1, 64)
		case []any:
			list, ok := stringList(v)
			if !ok {
				return nil, fmt.Errorf("configuration file %s: %s must be a list of strings", path, k)
			}
			c.values[k] = list
		default:
			return nil, fmt.Errorf("configuration file %s: %s must be a string, a number, a boolean or a list of strings", path, k)
		}
	}
	return c, nil
}

// stringList joins a TOML array of strings with commas.
func stringList(v []any) (string, bool) {
	parts := make([]string, len(v))
	for i, e := range v {
		s, ok := e.(string)
		if !ok {
			return "", false
		}
		parts[i] = s
	}
	return strings.Join(parts, ","), true
}

// value is the file's value for key; a nil file has none.
func (c *configFile) value(key string) (string, bool) {
	if c == nil {
		return "", false
	}
	v, ok := c.values[key]
	return v, ok
}
