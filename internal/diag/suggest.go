package diag

import "strings"

// Suggest returns the name of known nearest to name, for a "did you mean"
// hint after a misspelt directive or key, or "" when none is near enough.
// Nearness is the edit distance, ignoring case: letters inserted, deleted
// or replaced, or two neighbours swapped ("ucats" is one edit from
// "ucast"). Near enough is at most 1 edit for names of up to 4 letters, 2
// up to 9 letters, 3 beyond, and fewer edits than the name has letters.
// Among equally near names the one closest in length wins, then the first
// in alphabetical order. A name of known itself (case aside) is returned
// as it is written in known.
func Suggest(name string, known []string) string {
	n := []rune(strings.ToLower(name))
	limit := 1
	switch {
	case len(n) > 9:
		limit = 3
	case len(n) > 4:
		limit = 2
	}
	limit = min(limit, len(n)-1)
	best, bestDist, bestLen := "", limit+1, 0
	for _, k := range known {
		kr := []rune(strings.ToLower(k))
		lenDiff := abs(len(kr) - len(n))
		if lenDiff > limit {
			continue
		}
		d := distance(n, kr)
		switch {
		case d > limit:
			continue
		case d < bestDist, d == bestDist && lenDiff < bestLen, d == bestDist && lenDiff == bestLen && k < best:
			best, bestDist, bestLen = k, d, lenDiff
		}
	}
	return best
}

// distance is the optimal string alignment distance between a and b:
// insertions, deletions, substitutions and swaps of adjacent letters.
func distance(a, b []rune) int {
	// Three rows: two back (for swaps), previous, current.
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
