package trie

import "github.com/cespare/xxhash/v2"

// DefaultCacheSize is the number of topics whose match results are cached
// when WithCacheSize is not given.
const DefaultCacheSize = 65536

// Option configures an Index.
type Option func(*config)

type config struct {
	cacheSize int
	hash      func(string) uint64
}

func defaultConfig() config {
	return config{cacheSize: DefaultCacheSize, hash: xxhash.Sum64String}
}

// WithCacheSize bounds the match-result cache to about n topics; n <= 0
// disables the cache, so every Match walks the trie. A topic whose result
// had to be merged from several patterns counts as one more topic per 128
// subscribers in it, so that the bound also bounds memory. When the bound is
// passed the cache is emptied and refills on demand. Topics longer than 256
// bytes are matched but never cached.
func WithCacheSize(n int) Option {
	return func(c *config) { c.cacheSize = n }
}

// withHash replaces the token hash. Tests use it to force collisions; the
// function must be pure and must not retain its argument (Match passes it a
// view of the caller's topic buffer).
func withHash(h func(string) uint64) Option {
	return func(c *config) { c.hash = h }
}
