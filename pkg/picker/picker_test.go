package picker

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
)

var clusters = []Item{
	{Name: "prod-eu", Detail: "https://eu.example:443"},
	{Name: "prod-us", Detail: "https://us.example:443"},
	{Name: "staging", Detail: "https://stg.example:443"},
}

func keys(m model, msgs ...tea.Msg) model {
	for _, msg := range msgs {
		next, _ := m.Update(msg)
		m = next.(model)
	}
	return m
}

// runes types s, one key press per character.
func runes(s string) []tea.Msg {
	var msgs []tea.Msg
	for _, r := range s {
		msgs = append(msgs, tea.KeyPressMsg{Code: r, Text: string(r)})
	}
	return msgs
}

func key(code rune) tea.Msg { return tea.KeyPressMsg{Code: code} }

func TestCursorStartsOnTheCurrentItemAndMarksIt(t *testing.T) {
	m := newModel(Options{Title: "Switch", Items: clusters, Current: "staging"})
	view := m.render()
	if !strings.Contains(view, "▶ * staging") {
		t.Fatalf("the current item is not marked and under the cursor:\n%s", view)
	}
	if !strings.Contains(view, "    prod-eu") || !strings.Contains(view, "3/3") {
		t.Fatalf("other items or the count are missing:\n%s", view)
	}
	m = keys(m, key(tea.KeyEnter))
	if m.chosen != "staging" || m.render() != "" {
		t.Fatalf("Enter chose %q, view %q", m.chosen, m.render())
	}
}

func TestTypingFiltersAndArrowsMove(t *testing.T) {
	m := newModel(Options{Items: clusters})
	m = keys(m, runes("prd")...)
	view := m.render()
	if strings.Contains(view, "staging") || !strings.Contains(view, "2/3") {
		t.Fatalf("filter prd should leave the two prod clusters:\n%s", view)
	}
	m = keys(m, key(tea.KeyDown), key(tea.KeyDown), key(tea.KeyUp), key(tea.KeyDown))
	m = keys(m, key(tea.KeyEnter))
	if m.chosen != "prod-us" {
		t.Fatalf("chose %q, want prod-us (the second match)", m.chosen)
	}
}

func TestEnterWithNoMatchChoosesNothing(t *testing.T) {
	m := keys(keys(newModel(Options{Items: clusters}), runes("zzz")...), key(tea.KeyEnter))
	if m.done || m.chosen != "" || !strings.Contains(m.render(), "0/3") {
		t.Fatalf("Enter on no match: done=%v chosen=%q\n%s", m.done, m.chosen, m.render())
	}
	m = keys(m, key(tea.KeyBackspace), key(tea.KeyBackspace), key(tea.KeyBackspace), key(tea.KeyEnter))
	if m.chosen != "prod-eu" {
		t.Fatalf("after clearing the filter Enter chose %q", m.chosen)
	}
}

func TestWindowKeepsTheCursorInView(t *testing.T) {
	var many []Item
	for _, c := range "abcdefghij" {
		many = append(many, Item{Name: "cluster-" + string(c)})
	}
	m := keys(newModel(Options{Items: many}), tea.WindowSizeMsg{Width: 80, Height: 6})
	for range 7 {
		m = keys(m, key(tea.KeyDown))
	}
	view := m.render()
	if !strings.Contains(view, "▶   cluster-h") || strings.Contains(view, "cluster-a") {
		t.Fatalf("the window does not follow the cursor:\n%s", view)
	}
}

// Pick runs the real bubbletea program on a byte stream: keystrokes in,
// the chosen name or ErrCanceled out.
func TestPickReadsKeystrokes(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	got, err := Pick(ctx, Options{Items: clusters, In: strings.NewReader("stag\r"), Out: io.Discard})
	if err != nil || got != "staging" {
		t.Fatalf("Pick = %q, %v; want staging", got, err)
	}
	var out bytes.Buffer
	_, err = Pick(ctx, Options{Items: clusters, In: strings.NewReader("\x1b"), Out: &out})
	if !errors.Is(err, ErrCanceled) {
		t.Fatalf("Esc: %v, want ErrCanceled", err)
	}
}
