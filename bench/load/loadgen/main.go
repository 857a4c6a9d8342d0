// loadgen: a small HTTP/1.1 keep-alive load generator for bench/load (stdlib only).
//
// Closed loop: -connections workers each send the next request as soon as the previous answers,
// for -duration. Open loop: requests are scheduled at a fixed -rate from a weighted mix; latency
// is measured from each request's intended start, so time spent queued behind a slow answer
// counts (no coordinated omission). Prints one JSON document on stdout.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand"
	"net"
	"net/http"
	"os"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Target is one request shape; requests of the same Kind are reported together.
type Target struct {
	Kind    string            `json:"kind"`
	Method  string            `json:"method"`
	Paths   []string          `json:"paths"`
	Body    string            `json:"body"`
	Headers map[string]string `json:"headers"`
	Weight  float64           `json:"weight"`
}

type sample struct {
	kind    int
	latency time.Duration
	// From the intended start to the moment a worker sent the request: the time the request
	// waited for a free connection or for this process to be scheduled. It is part of latency.
	startLag time.Duration
	status   string // "" when 2xx, else the HTTP status or "transport"
	intended time.Time
}

type recorder struct {
	mu      sync.Mutex
	samples []sample
	errBody map[string]string
}

func (r *recorder) add(s sample, body string) {
	r.mu.Lock()
	r.samples = append(r.samples, s)
	if s.status != "" {
		if _, seen := r.errBody[s.status]; !seen {
			r.errBody[s.status] = body
		}
	}
	r.mu.Unlock()
}

type job struct {
	target   int
	path     string
	intended time.Time
}

func send(client *http.Client, base string, t *Target, path string) (string, string) {
	var body io.Reader
	if t.Body != "" {
		body = strings.NewReader(t.Body)
	}
	req, err := http.NewRequest(t.Method, base+path, body)
	if err != nil {
		return "transport", err.Error()
	}
	for k, v := range t.Headers {
		req.Header.Set(k, v)
	}
	if t.Body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := client.Do(req)
	if err != nil {
		return "transport", err.Error()
	}
	var buf bytes.Buffer
	_, err = io.Copy(&buf, resp.Body)
	resp.Body.Close()
	if err != nil {
		return "transport", err.Error()
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		text := buf.String()
		if len(text) > 300 {
			text = text[:300]
		}
		return fmt.Sprint(resp.StatusCode), text
	}
	return "", ""
}

// Picker chooses targets by weight and cycles through each target's paths.
type picker struct {
	mu      sync.Mutex
	targets []Target
	cum     []float64
	next    []int
	rng     *rand.Rand
}

func newPicker(targets []Target, seed int64) *picker {
	p := &picker{targets: targets, next: make([]int, len(targets)), rng: rand.New(rand.NewSource(seed))}
	total := 0.0
	for _, t := range targets {
		w := t.Weight
		if w <= 0 {
			w = 1
		}
		total += w
		p.cum = append(p.cum, total)
	}
	return p
}

func (p *picker) pick() (int, string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	x := p.rng.Float64() * p.cum[len(p.cum)-1]
	i := sort.SearchFloat64s(p.cum, x)
	if i >= len(p.targets) {
		i = len(p.targets) - 1
	}
	paths := p.targets[i].Paths
	path := paths[p.next[i]%len(paths)]
	p.next[i]++
	return i, path
}

type stats struct {
	Count  int            `json:"count"`
	Errors map[string]int `json:"errors"`
	RPS    float64        `json:"rps"`
	P50    float64        `json:"p50_ms"`
	P90    float64        `json:"p90_ms"`
	P99    float64        `json:"p99_ms"`
	Max    float64        `json:"max_ms"`
	// Of the start lag (see sample): how much of the latency was spent before sending.
	StartLagP50 float64 `json:"start_lag_p50_ms"`
	StartLagP99 float64 `json:"start_lag_p99_ms"`
}

// Percentile by nearest rank on sorted milliseconds: the smallest value with at least pct% of
// samples at or below it.
func percentile(sorted []float64, pct float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(pct/100*float64(len(sorted)) + 0.999999999)
	if rank < 1 {
		rank = 1
	}
	if rank > len(sorted) {
		rank = len(sorted)
	}
	return sorted[rank-1]
}

func summarise(samples []sample, seconds float64) stats {
	ms := make([]float64, 0, len(samples))
	lag := make([]float64, 0, len(samples))
	s := stats{Errors: map[string]int{}}
	for _, x := range samples {
		s.Count++
		if x.status != "" {
			s.Errors[x.status]++
		}
		ms = append(ms, float64(x.latency.Microseconds())/1000)
		lag = append(lag, float64(x.startLag.Microseconds())/1000)
	}
	sort.Float64s(ms)
	sort.Float64s(lag)
	s.StartLagP50, s.StartLagP99 = percentile(lag, 50), percentile(lag, 99)
	if seconds > 0 {
		s.RPS = float64(s.Count) / seconds
	}
	s.P50, s.P90, s.P99 = percentile(ms, 50), percentile(ms, 90), percentile(ms, 99)
	if len(ms) > 0 {
		s.Max = ms[len(ms)-1]
	}
	return s
}

func cpuSeconds() float64 {
	var u syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &u); err != nil {
		return 0
	}
	return float64(u.Utime.Nano()+u.Stime.Nano()) / 1e9
}

func main() {
	base := flag.String("url", "http://127.0.0.1:8080", "base URL")
	targetsFile := flag.String("targets", "", "JSON file: a list of targets (kind, method, paths, body, headers, weight)")
	mode := flag.String("mode", "closed", "closed (N connections flat out) or open (fixed rate)")
	connections := flag.Int("connections", 32, "connections (closed: concurrent requests; open: worker pool)")
	duration := flag.Duration("duration", 20*time.Second, "measured duration")
	warmup := flag.Duration("warmup", 2*time.Second, "unmeasured warm-up before the measured duration")
	rate := flag.Float64("rate", 200, "requests per second (open loop)")
	window := flag.Duration("window", 0, "also report stats per window of this length (0: off)")
	timeout := flag.Duration("timeout", 10*time.Second, "per-request timeout")
	seed := flag.Int64("seed", 1, "random seed of the request mix")
	flag.Parse()

	raw, err := os.ReadFile(*targetsFile)
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen: -targets:", err)
		os.Exit(2)
	}
	var targets []Target
	if err := json.Unmarshal(raw, &targets); err != nil || len(targets) == 0 {
		fmt.Fprintln(os.Stderr, "loadgen: -targets: need a non-empty JSON list of targets", err)
		os.Exit(2)
	}
	for _, t := range targets {
		if len(t.Paths) == 0 {
			fmt.Fprintln(os.Stderr, "loadgen: target without paths:", t.Kind)
			os.Exit(2)
		}
	}
	if *mode != "closed" && *mode != "open" {
		fmt.Fprintln(os.Stderr, "loadgen: -mode must be closed or open")
		os.Exit(2)
	}

	transport := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        *connections,
		MaxIdleConnsPerHost: *connections,
		MaxConnsPerHost:     *connections,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
	client := &http.Client{Transport: transport, Timeout: *timeout}
	pick := newPicker(targets, *seed)
	rec := &recorder{errBody: map[string]string{}}

	begin := time.Now()
	measureFrom := begin.Add(*warmup)
	end := measureFrom.Add(*duration)
	cpuAtStart := 0.0
	var cpuOnce sync.Once
	markCPU := func() { cpuOnce.Do(func() { cpuAtStart = cpuSeconds() }) }
	go func() { time.Sleep(time.Until(measureFrom)); markCPU() }()

	// Every request answered, warm-up included: what the processes' CPU time over the whole run
	// divides by (the measured samples are only the requests intended inside the window).
	var answered atomic.Int64
	run := func(j job) {
		t := &targets[j.target]
		started := time.Now()
		status, body := send(client, *base, t, j.path)
		done := time.Now()
		answered.Add(1)
		if !j.intended.Before(measureFrom) && j.intended.Before(end) {
			rec.add(sample{
				kind: j.target, latency: done.Sub(j.intended), startLag: started.Sub(j.intended),
				status: status, intended: j.intended,
			}, body)
		}
	}

	var wg sync.WaitGroup
	if *mode == "closed" {
		for w := 0; w < *connections; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					now := time.Now()
					if !now.Before(end) {
						return
					}
					i, path := pick.pick()
					run(job{target: i, path: path, intended: now})
				}
			}()
		}
	} else {
		// Workers take scheduled jobs; if all are busy a job waits in the queue and its latency
		// includes the wait, as a real client's would.
		jobs := make(chan job, 1<<20)
		for w := 0; w < *connections; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := range jobs {
					run(j)
				}
			}()
		}
		interval := time.Duration(float64(time.Second) / *rate)
		for n := 0; ; n++ {
			due := begin.Add(time.Duration(n) * interval)
			if !due.Before(end) {
				break
			}
			if d := time.Until(due); d > 0 {
				time.Sleep(d)
			}
			i, path := pick.pick()
			jobs <- job{target: i, path: path, intended: due}
		}
		close(jobs)
	}
	wg.Wait()
	markCPU()
	finished := time.Now()
	cpuUsed := cpuSeconds() - cpuAtStart
	seconds := duration.Seconds()

	byKind := map[string][]sample{}
	for _, s := range rec.samples {
		k := targets[s.kind].Kind
		byKind[k] = append(byKind[k], s)
	}
	kinds := map[string]stats{}
	for k, list := range byKind {
		kinds[k] = summarise(list, seconds)
	}
	out := map[string]any{
		"mode":              *mode,
		"connections":       *connections,
		"duration_s":        seconds,
		"total":             summarise(rec.samples, seconds),
		"kinds":             kinds,
		"error_examples":    rec.errBody,
		"loadgen_cpu_s":     cpuUsed,
		"loadgen_cpu_share": cpuUsed / finished.Sub(measureFrom).Seconds(),
		"gomaxprocs":        runtime.GOMAXPROCS(0),
		"answered_total":    answered.Load(),
	}
	if *mode == "open" {
		out["rate"] = *rate
	}
	if *window > 0 {
		var windows []stats
		for from := measureFrom; from.Before(end); from = from.Add(*window) {
			to := from.Add(*window)
			var in []sample
			for _, s := range rec.samples {
				if !s.intended.Before(from) && s.intended.Before(to) {
					in = append(in, s)
				}
			}
			windows = append(windows, summarise(in, window.Seconds()))
		}
		out["windows"] = windows
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		fmt.Fprintln(os.Stderr, errors.Join(err))
		os.Exit(1)
	}
}
