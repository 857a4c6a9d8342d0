package main

import (
	"testing"
	"time"
)

func TestPercentileIsNearestRank(t *testing.T) {
	sorted := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	cases := map[float64]float64{50: 5, 90: 9, 99: 10, 100: 10, 10: 1, 0: 1}
	for pct, want := range cases {
		if got := percentile(sorted, pct); got != want {
			t.Errorf("p%v = %v, want %v", pct, got, want)
		}
	}
	if got := percentile(nil, 50); got != 0 {
		t.Errorf("empty: %v", got)
	}
}

func TestSummariseCountsErrorsByStatus(t *testing.T) {
	samples := []sample{
		{latency: 1 * time.Millisecond},
		{latency: 3 * time.Millisecond, status: "500", startLag: 2 * time.Millisecond},
		{latency: 2 * time.Millisecond, status: "transport"},
		{latency: 4 * time.Millisecond, status: "500", startLag: 3 * time.Millisecond},
	}
	s := summarise(samples, 2)
	if s.Count != 4 || s.Errors["500"] != 2 || s.Errors["transport"] != 1 || s.RPS != 2 {
		t.Fatalf("summary %+v", s)
	}
	if s.P50 != 2 || s.Max != 4 {
		t.Fatalf("p50 %v max %v", s.P50, s.Max)
	}
	if s.StartLagP50 != 0 || s.StartLagP99 != 3 {
		t.Fatalf("start lag p50 %v p99 %v", s.StartLagP50, s.StartLagP99)
	}
}

func TestPickerFollowsWeightsAndCyclesPaths(t *testing.T) {
	p := newPicker([]Target{
		{Kind: "a", Paths: []string{"/a1", "/a2"}, Weight: 3},
		{Kind: "b", Paths: []string{"/b"}, Weight: 1},
	}, 7)
	counts := map[int]int{}
	var firstPaths []string
	for n := 0; n < 4000; n++ {
		i, path := p.pick()
		counts[i]++
		if i == 0 && len(firstPaths) < 3 {
			firstPaths = append(firstPaths, path)
		}
	}
	if counts[0] < 2800 || counts[0] > 3200 {
		t.Fatalf("weight 3:1 gave %v", counts)
	}
	if firstPaths[0] != "/a1" || firstPaths[1] != "/a2" || firstPaths[2] != "/a1" {
		t.Fatalf("paths %v", firstPaths)
	}
}
