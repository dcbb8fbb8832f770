// Package picker lets a person at a terminal choose one item from a list,
// the way fzf does for kubectx: type to filter (fuzzy), arrows to move,
// Enter to choose, Esc to give up. It is built on bubbletea and bubbles and
// is imported only by the commands that offer it (`use` with no name), so
// the exec credential path never links a terminal UI.
//
// It uses bubbletea v2: v1 queried the terminal's colours from a package
// init, so every command of the full CLI, picker or not, wrote an escape
// sequence to the terminal and could swallow what the person had typed
// ahead. v2 touches the terminal only while a picker runs.
package picker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"charm.land/bubbles/v2/list"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
)

// Item is one choice: Name is what is matched and returned, Detail is shown
// beside it (a server URL, say).
type Item struct {
	Name   string
	Detail string
}

// Options say what to offer and where. In and Out should be the terminal;
// the picker draws inline (no alternate screen) and clears itself when done.
type Options struct {
	Title   string
	Items   []Item
	Current string // marked with "*"; the cursor starts on it
	In      io.Reader
	Out     io.Writer
}

// ErrCanceled means the person left the picker without choosing.
var ErrCanceled = errors.New("nothing was chosen")

// Pick runs the picker until the person chooses (the chosen Name), cancels
// (ErrCanceled) or ctx ends.
func Pick(ctx context.Context, o Options) (string, error) {
	m := newModel(o)
	p := tea.NewProgram(m, tea.WithContext(ctx), tea.WithInput(o.In), tea.WithOutput(o.Out))
	final, err := p.Run()
	if err != nil {
		return "", fmt.Errorf("picker: %w", err)
	}
	fm := final.(model)
	if fm.chosen == "" {
		return "", ErrCanceled
	}
	return fm.chosen, nil
}

// model is the picker's state: the filter text, the items matching it in
// rank order, and the cursor among those.
type model struct {
	title   string
	items   []Item
	current string
	input   textinput.Model
	matches []list.Rank
	cursor  int
	height  int // rows for items; 0 until the terminal size is known
	chosen  string
	done    bool
}

func newModel(o Options) model {
	in := textinput.New()
	in.Prompt = "> "
	in.Placeholder = "type to filter"
	in.Focus()
	m := model{title: o.Title, items: o.Items, current: o.Current, input: in}
	m.filter()
	for i, r := range m.matches {
		if m.items[r.Index].Name == o.Current {
			m.cursor = i
		}
	}
	return m
}

func (m model) Init() tea.Cmd { return textinput.Blink }

func (m model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.height = msg.Height - 3 // title, filter line, count line
		return m, nil
	case tea.KeyPressMsg:
		switch msg.String() {
		case "ctrl+c", "esc":
			m.done = true
			return m, tea.Quit
		case "enter":
			if len(m.matches) == 0 {
				return m, nil // nothing to choose; keep typing
			}
			m.chosen, m.done = m.items[m.matches[m.cursor].Index].Name, true
			return m, tea.Quit
		case "up", "ctrl+p", "shift+tab":
			if m.cursor > 0 {
				m.cursor--
			}
			return m, nil
		case "down", "ctrl+n", "tab":
			if m.cursor < len(m.matches)-1 {
				m.cursor++
			}
			return m, nil
		}
	}
	var cmd tea.Cmd
	before := m.input.Value()
	m.input, cmd = m.input.Update(msg)
	if m.input.Value() != before {
		m.filter()
		m.cursor = 0
	}
	return m, cmd
}

// filter ranks the items against the filter text; with none, all items in
// their own order.
func (m *model) filter() {
	term := m.input.Value()
	if term == "" {
		m.matches = make([]list.Rank, len(m.items))
		for i := range m.items {
			m.matches[i] = list.Rank{Index: i}
		}
		return
	}
	names := make([]string, len(m.items))
	for i, it := range m.items {
		names[i] = it.Name
	}
	m.matches = list.DefaultFilter(term, names)
}

func (m model) View() tea.View { return tea.NewView(m.render()) }

// render is the picker as text: the title, the filter line, the window of
// matches and the count.
func (m model) render() string {
	if m.done {
		return "" // leave no picker on the screen
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s  (type to filter, ↑/↓ to move, Enter to choose, Esc to cancel)\n", m.title)
	b.WriteString(m.input.View() + "\n")
	width := 0
	for _, it := range m.items {
		width = max(width, len(it.Name))
	}
	first, last := m.window()
	for i := first; i < last; i++ {
		it := m.items[m.matches[i].Index]
		cursor, mark := "  ", " "
		if i == m.cursor {
			cursor = "▶ "
		}
		if it.Name == m.current {
			mark = "*"
		}
		fmt.Fprintf(&b, "%s%s %-*s  %s\n", cursor, mark, width, it.Name, it.Detail)
	}
	fmt.Fprintf(&b, "  %d/%d", len(m.matches), len(m.items))
	return b.String()
}

// window is the range of matches shown: all of them when they fit, else a
// screenful that keeps the cursor in view.
func (m model) window() (first, last int) {
	n := len(m.matches)
	if m.height <= 0 || n <= m.height {
		return 0, n
	}
	first = max(0, m.cursor-m.height+1)
	return first, first + m.height
}
