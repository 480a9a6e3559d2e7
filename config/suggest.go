package config

import "strings"

// suggest returns the known name closest to key, or "" if none is close:
// an edit distance of at most 2 (ignoring case), or a prefix either way.
func suggest(key string, known []string) string {
	lk := strings.ToLower(key)
	best, bestDist := "", -1
	for _, k := range known {
		d := levenshtein(lk, k)
		ok := d <= 2 && d < len(lk)
		if len(lk) >= 2 && (strings.HasPrefix(k, lk) || strings.HasPrefix(lk, k)) {
			ok = true
		}
		if ok && (bestDist < 0 || d < bestDist) {
			best, bestDist = k, d
		}
	}
	return best
}

func levenshtein(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
