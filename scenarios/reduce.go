package scenarios

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml"
)

// Reduction says how much of a scenario a smaller copy keeps: what a
// shrinker varies while it looks for the smallest scenario that still
// fails.
type Reduction struct {
	// Workers is how many workers run, W1 to W<Workers>.
	Workers int
	// Copies is, per delivery, how many of its copies arrive; 0 drops the
	// delivery.
	Copies []int
	// Faults is, per fault, whether it is kept.
	Faults []bool
}

// Whole is the reduction that keeps all of s.
func (s *Scenario) Whole() Reduction {
	r := Reduction{Workers: s.Workers, Faults: make([]bool, len(s.Faults))}
	for _, d := range s.Deliveries {
		r.Copies = append(r.Copies, d.Copies)
	}
	for i := range r.Faults {
		r.Faults[i] = true
	}
	return r
}

// Clone returns a copy of r that shares nothing with it.
func (r Reduction) Clone() Reduction {
	return Reduction{Workers: r.Workers, Copies: slices.Clone(r.Copies),
		Faults: slices.Clone(r.Faults)}
}

// Deliveries counts the deliveries r keeps.
func (r Reduction) Deliveries() int {
	n := 0
	for _, c := range r.Copies {
		if c > 0 {
			n++
		}
	}
	return n
}

// Arrivals counts the copies that arrive under r.
func (r Reduction) Arrivals() int {
	n := 0
	for _, c := range r.Copies {
		n += c
	}
	return n
}

// FaultsKept counts the faults r keeps.
func (r Reduction) FaultsKept() int {
	n := 0
	for _, k := range r.Faults {
		if k {
			n++
		}
	}
	return n
}

// Reduce returns a copy of s that keeps only what r keeps. Barriers and
// script steps lose the workers r drops, and so do faults aimed at them;
// a barrier left with no participant goes. s is not changed.
func (s *Scenario) Reduce(r Reduction) (*Scenario, error) {
	if r.Workers < 1 || r.Workers > s.Workers {
		return nil, fmt.Errorf("reduce %s: workers must be from 1 to %d, not %d",
			s.Name, s.Workers, r.Workers)
	}
	if len(r.Copies) != len(s.Deliveries) || len(r.Faults) != len(s.Faults) {
		return nil, fmt.Errorf("reduce %s: the reduction is for another scenario", s.Name)
	}
	v := *s
	v.Workers = r.Workers
	v.Deliveries, v.Arrivals = nil, nil
	index := map[int]int{}
	for i, d := range s.Deliveries {
		c := r.Copies[i]
		if c < 0 || c > d.Copies {
			return nil, fmt.Errorf("reduce %s: deliveries[%d] has %d copies, not %d",
				s.Name, i, d.Copies, c)
		}
		if c == 0 {
			continue
		}
		index[i] = len(v.Deliveries)
		d.Copies = c
		v.Deliveries = append(v.Deliveries, d)
	}
	if len(v.Deliveries) == 0 {
		return nil, fmt.Errorf("reduce %s: no delivery left", s.Name)
	}
	for _, a := range s.Arrivals {
		if a.Copy <= r.Copies[a.Delivery] {
			a.Delivery = index[a.Delivery]
			v.Arrivals = append(v.Arrivals, a)
		}
	}
	kept := func(worker string) bool {
		n, err := strconv.Atoi(strings.TrimPrefix(worker, "W"))
		return err != nil || !strings.HasPrefix(worker, "W") || n <= r.Workers
	}
	v.Faults = nil
	for i, f := range s.Faults {
		if r.Faults[i] && (f.Worker == "" || kept(f.Worker)) {
			v.Faults = append(v.Faults, f)
		}
	}
	v.Schedule = s.Schedule
	v.Schedule.Barriers = nil
	for _, b := range s.Schedule.Barriers {
		b.Workers = slices.DeleteFunc(slices.Clone(b.Workers),
			func(w string) bool { return !kept(w) })
		if b.PerWorker != nil {
			b.PerWorker = maps.Clone(b.PerWorker)
			maps.DeleteFunc(b.PerWorker, func(w, _ string) bool { return !kept(w) })
		}
		if len(b.Workers) > 0 {
			v.Schedule.Barriers = append(v.Schedule.Barriers, b)
		}
	}
	stepKept := func(step string) bool {
		w, _, _ := strings.Cut(step, ":")
		w, _, _ = strings.Cut(w, "*")
		return kept(strings.TrimSpace(w))
	}
	v.Schedule.Steps = slices.DeleteFunc(slices.Clone(s.Schedule.Steps),
		func(st string) bool { return !stepKept(st) })
	if s.Schedule.PerStrategy != nil {
		v.Schedule.PerStrategy = map[string][]string{}
		for k, steps := range s.Schedule.PerStrategy {
			v.Schedule.PerStrategy[k] = slices.DeleteFunc(slices.Clone(steps),
				func(st string) bool { return !stepKept(st) })
		}
	}
	return &v, nil
}

// Marshal writes s as a scenario file that stands alone: every delivery's
// body is written inline, exactly as it is sent, so the file needs none of
// the payload files s was read with. Defaults the checks filled in are
// written out, and settings for strategies s does not run are left out.
func (s *Scenario) Marshal() ([]byte, error) {
	v := *s
	v.Deliveries = slices.Clone(s.Deliveries)
	for i := range v.Deliveries {
		d := &v.Deliveries[i]
		if d.Payload == "" {
			continue
		}
		for _, a := range s.Arrivals {
			if a.Delivery == i {
				d.Payload, d.Inline = "", string(a.Body)
				break
			}
		}
	}
	// Entries for strategies and configurations s does not run are left
	// out: the checks refuse them.
	runs := func(strategy string) bool { return slices.Contains(s.Strategies, strategy) }
	perStrategy := func(m map[string]string) map[string]string {
		if m == nil {
			return nil
		}
		m = maps.Clone(m)
		maps.DeleteFunc(m, func(k, _ string) bool { return !runs(k) })
		return m
	}
	v.Schedule.Barriers = slices.Clone(s.Schedule.Barriers)
	for i := range v.Schedule.Barriers {
		b := &v.Schedule.Barriers[i]
		b.PerStrategy = perStrategy(b.PerStrategy)
		if len(b.PerWorker) > 0 {
			b.Workers = nil // the checks fill it in from the map's keys
		}
	}
	v.Faults = slices.Clone(s.Faults)
	for i := range v.Faults {
		v.Faults[i].PerStrategy = perStrategy(v.Faults[i].PerStrategy)
	}
	if s.Schedule.PerStrategy != nil {
		v.Schedule.PerStrategy = maps.Clone(s.Schedule.PerStrategy)
		maps.DeleteFunc(v.Schedule.PerStrategy, func(k string, _ []string) bool {
			return !runs(k)
		})
	}
	if s.Expect != nil {
		var names []string
		for _, c := range s.Configs() {
			names = append(names, c.Name())
		}
		v.Expect = maps.Clone(s.Expect)
		maps.DeleteFunc(v.Expect, func(k string, _ Expectation) bool {
			return !runs(k) && !slices.Contains(names, k)
		})
	}
	// Bodies read best as literal blocks, but a block cannot hold every
	// body exactly (leading spaces, carriage returns): quoted strings can.
	for _, literal := range []bool{true, false} {
		data, err := yaml.MarshalWithOptions(&v, yaml.OmitEmpty(),
			yaml.UseLiteralStyleIfMultiline(literal), yaml.IndentSequence(true))
		if err != nil {
			return nil, err
		}
		if bodiesKept(data, v.Deliveries) {
			return data, nil
		}
	}
	return nil, fmt.Errorf("marshal %s: a delivery's body does not survive as YAML", s.Name)
}

// bodiesKept reports whether data reads back with the inline bodies of
// want, byte for byte.
func bodiesKept(data []byte, want []Delivery) bool {
	var got Scenario
	if err := decode(data, &got); err != nil || len(got.Deliveries) != len(want) {
		return false
	}
	for i := range want {
		if got.Deliveries[i].Inline != want[i].Inline {
			return false
		}
	}
	return true
}
