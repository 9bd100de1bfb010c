// Package metrics keeps the sidecar's Prometheus metrics: actions by outcome,
// upstream exchanges by provider and status, sign-ins, retries, idempotent
// replays and in-flight actions. Labels hold only action ids, provider ids,
// problem kinds and status codes; a secret or token can never become one.
package metrics

import (
	"context"
	"net/http"
	"strconv"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tokenwarden/tokenwarden/sidecar/upstream"
)

// OutcomeOK is the outcome label of an action that answered 200; failures
// carry their problem kind (invalid-input, upstream-not-found, ...).
const OutcomeOK = "ok"

// latencyBuckets span a cached-session call on loopback (~100 µs) to an
// upstream that hits the request timeout (30 s).
var latencyBuckets = []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}

// Metrics is one process's set of collectors, on its own registry so tests
// can build as many as they like.
type Metrics struct {
	reg *prometheus.Registry

	actions        *prometheus.CounterVec
	actionDuration *prometheus.HistogramVec
	inFlight       *prometheus.GaugeVec

	upstreamRequests *prometheus.CounterVec
	upstreamDuration *prometheus.HistogramVec
	signIns          *prometheus.CounterVec

	retries *prometheus.CounterVec
	replays prometheus.Counter

	// Series handed out before, by their labels: label values are only
	// action ids, provider ids, kinds and status codes (a bounded set), so
	// these stay small.
	byAction   sync.Map // action id → *actionSeries
	byExchange sync.Map // exchangeKey → *exchangeSeries
}

// New registers every collector, plus the Go runtime and process ones
// (memory, goroutines, file descriptors).
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		actions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tokenwarden_action_requests_total",
			Help: "Action requests answered, by action id and outcome (ok or the problem kind).",
		}, []string{"action", "outcome"}),
		actionDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "tokenwarden_action_duration_seconds",
			Help:    "Time from receiving an action request to its answer, by action id and outcome.",
			Buckets: latencyBuckets,
		}, []string{"action", "outcome"}),
		inFlight: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "tokenwarden_actions_in_flight",
			Help: "Action requests being processed now, by action id.",
		}, []string{"action"}),
		upstreamRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tokenwarden_upstream_requests_total",
			Help: "HTTP exchanges with upstream systems, by provider, operation (call or signin) and status code (\"error\" when no answer came).",
		}, []string{"provider", "operation", "status"}),
		upstreamDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "tokenwarden_upstream_duration_seconds",
			Help:    "Time until an upstream system's answer headers arrived, by provider and operation.",
			Buckets: latencyBuckets,
		}, []string{"provider", "operation"}),
		signIns: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tokenwarden_upstream_signins_total",
			Help: "Sign-in requests sent to upstream systems (token endpoint, login), by provider and result (ok, refused, error).",
		}, []string{"provider", "result"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tokenwarden_upstream_retries_total",
			Help: "Upstream calls repeated after a retryable failure, by provider and reason (status code or error).",
		}, []string{"provider", "reason"}),
		replays: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tokenwarden_idempotent_replays_total",
			Help: "Action requests answered from the idempotency store (same Idempotency-Key and body) without calling upstream.",
		}),
	}
	m.reg.MustRegister(
		m.actions, m.actionDuration, m.inFlight,
		m.upstreamRequests, m.upstreamDuration, m.signIns,
		m.retries, m.replays,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// Registerer lets other parts of the process add their own collectors.
func (m *Metrics) Registerer() prometheus.Registerer { return m.reg }

// ActionStarted counts an action as in flight; the returned function ends it
// with its outcome (OutcomeOK or a problem kind) and its duration in seconds.
// The series are looked up once per action (and outcome) and kept, so a
// request costs no label hashing and no allocation.
func (m *Metrics) ActionStarted(action string) (done func(outcome string, seconds float64)) {
	s := m.actionSeries(action)
	s.inFlight.Inc()
	return s.done
}

// actionSeries is one action's cached collectors.
type actionSeries struct {
	inFlight prometheus.Gauge
	outcomes sync.Map // outcome → *outcomeSeries
	done     func(outcome string, seconds float64)
}

type outcomeSeries struct {
	count    prometheus.Counter
	duration prometheus.Observer
}

func (m *Metrics) actionSeries(action string) *actionSeries {
	if s, ok := m.byAction.Load(action); ok {
		return s.(*actionSeries)
	}
	s := &actionSeries{inFlight: m.inFlight.WithLabelValues(action)}
	s.done = func(outcome string, seconds float64) {
		s.inFlight.Dec()
		o, ok := s.outcomes.Load(outcome)
		if !ok {
			o, _ = s.outcomes.LoadOrStore(outcome, &outcomeSeries{
				count:    m.actions.WithLabelValues(action, outcome),
				duration: m.actionDuration.WithLabelValues(action, outcome),
			})
		}
		os := o.(*outcomeSeries)
		os.count.Inc()
		os.duration.Observe(seconds)
	}
	got, _ := m.byAction.LoadOrStore(action, s)
	return got.(*actionSeries)
}

// exchangeKey names one upstream series; a struct, so a lookup builds no
// string.
type exchangeKey struct {
	provider string
	signIn   bool
	status   int // -1: no answer
}

type exchangeSeries struct {
	requests prometheus.Counter
	duration prometheus.Observer
	signIns  prometheus.Counter // nil for calls
}

// Exchange counts one upstream exchange (upstream.Observer.OnExchange).
func (m *Metrics) Exchange(_ context.Context, e upstream.Exchange) {
	key := exchangeKey{provider: e.Provider, signIn: e.SignIn, status: e.Status}
	if key.provider == "" {
		key.provider = "unknown"
	}
	if e.Err != nil {
		key.status = -1
	}
	s, ok := m.byExchange.Load(key)
	if !ok {
		s, _ = m.byExchange.LoadOrStore(key, m.newExchangeSeries(key))
	}
	es := s.(*exchangeSeries)
	es.requests.Inc()
	es.duration.Observe(e.Duration.Seconds())
	if es.signIns != nil {
		es.signIns.Inc()
	}
}

func (m *Metrics) newExchangeSeries(k exchangeKey) *exchangeSeries {
	operation := "call"
	if k.signIn {
		operation = "signin"
	}
	status := "error"
	if k.status >= 0 {
		status = strconv.Itoa(k.status)
	}
	s := &exchangeSeries{
		requests: m.upstreamRequests.WithLabelValues(k.provider, operation, status),
		duration: m.upstreamDuration.WithLabelValues(k.provider, operation),
	}
	if k.signIn {
		result := "ok"
		switch {
		case k.status < 0 || k.status >= 500:
			result = "error"
		case k.status >= 400:
			result = "refused"
		}
		s.signIns = m.signIns.WithLabelValues(k.provider, result)
	}
	return s
}

// Retry counts one repeated upstream call. provider comes from the request's
// context (upstream.ProviderFrom); reason is a short, fixed class such as
// "HTTP 503" or "connection error", never an address or a message.
func (m *Metrics) Retry(provider, reason string) {
	m.retries.WithLabelValues(provider, reason).Inc()
}

// Replay counts one answer served from the idempotency store.
func (m *Metrics) Replay() { m.replays.Inc() }
