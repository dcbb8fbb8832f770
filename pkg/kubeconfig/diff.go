package kubeconfig

import (
	"fmt"
	"regexp"
	"strings"
	"sync"
)

const (
	diffContext = 3
	// maxDiffCells bounds the LCS table (ints); past it the changed middle is
	// shown as all removed, then all added, which is still correct.
	maxDiffCells = 4 << 20
)

// secretLine matches the kubeconfig fields whose values are credentials,
// including the usual auth-provider config keys. It is compiled on first
// use: package init runs on every exec credential call, which never diffs.
var secretLine = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^(\s*(?:- )?(?:client-key-data|token|password|client-secret|id-token|refresh-token|access-token)\s*:\s*)\S.*$`)
})

// Diff returns a unified diff (hunks only, 3 lines of context) from before to
// after, for --dry-run output. Credential values are shown as REDACTED so the
// output is safe to paste into a ticket; a changed secret still shows as a
// changed line. Equal inputs give "".
func Diff(before, after []byte) string {
	edits := diffLines(splitLines(before), splitLines(after))
	var sb strings.Builder
	for _, h := range hunks(edits) {
		writeHunk(&sb, edits, h)
	}
	return sb.String()
}

type edit struct {
	op   byte // ' ' kept, '-' removed, '+' added
	text string
}

func splitLines(data []byte) []string {
	if len(data) == 0 {
		return nil
	}
	return strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
}

// diffLines keeps the common head and tail as they are, so the quadratic
// LCS only runs on the part that changed (usually a few lines).
func diffLines(a, b []string) []edit {
	pre := 0
	for pre < len(a) && pre < len(b) && a[pre] == b[pre] {
		pre++
	}
	suf := 0
	for suf < len(a)-pre && suf < len(b)-pre && a[len(a)-1-suf] == b[len(b)-1-suf] {
		suf++
	}
	out := kept(a[:pre])
	out = append(out, lcsEdits(a[pre:len(a)-suf], b[pre:len(b)-suf])...)
	return append(out, kept(a[len(a)-suf:])...)
}

func kept(lines []string) []edit {
	out := make([]edit, len(lines))
	for i, l := range lines {
		out[i] = edit{' ', l}
	}
	return out
}

func lcsEdits(a, b []string) []edit {
	n, m := len(a), len(b)
	if (n+1)*(m+1) > maxDiffCells {
		return append(tagged('-', a), tagged('+', b)...)
	}
	// lcs[i][j] is the length of the longest common subsequence of a[i:], b[j:].
	lcs := make([][]int, n+1)
	for i := range lcs {
		lcs[i] = make([]int, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var out []edit
	i, j := 0, 0
	for i < n && j < m {
		switch {
		case a[i] == b[j]:
			out = append(out, edit{' ', a[i]})
			i, j = i+1, j+1
		case lcs[i+1][j] >= lcs[i][j+1]:
			out = append(out, edit{'-', a[i]})
			i++
		default:
			out = append(out, edit{'+', b[j]})
			j++
		}
	}
	return append(append(out, tagged('-', a[i:])...), tagged('+', b[j:])...)
}

func tagged(op byte, lines []string) []edit {
	out := make([]edit, len(lines))
	for i, l := range lines {
		out[i] = edit{op, l}
	}
	return out
}

// hunks returns [lo, hi) ranges of edits: each change with its context,
// merged where contexts touch.
func hunks(edits []edit) [][2]int {
	var out [][2]int
	for i, e := range edits {
		if e.op == ' ' {
			continue
		}
		lo, hi := max(0, i-diffContext), min(len(edits), i+diffContext+1)
		if n := len(out); n > 0 && lo <= out[n-1][1] {
			out[n-1][1] = max(out[n-1][1], hi)
			continue
		}
		out = append(out, [2]int{lo, hi})
	}
	return out
}

func writeHunk(sb *strings.Builder, edits []edit, h [2]int) {
	oldStart, newStart := 1, 1
	for _, e := range edits[:h[0]] {
		oldStart += count(e.op != '+')
		newStart += count(e.op != '-')
	}
	oldLen, newLen := 0, 0
	for _, e := range edits[h[0]:h[1]] {
		oldLen += count(e.op != '+')
		newLen += count(e.op != '-')
	}
	fmt.Fprintf(sb, "@@ -%d,%d +%d,%d @@\n", oldStart, oldLen, newStart, newLen)
	for _, e := range edits[h[0]:h[1]] {
		sb.WriteByte(e.op)
		sb.WriteString(secretLine().ReplaceAllString(e.text, "${1}REDACTED"))
		sb.WriteByte('\n')
	}
}

func count(b bool) int {
	if b {
		return 1
	}
	return 0
}
