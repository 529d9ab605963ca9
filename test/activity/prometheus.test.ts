import { describe, expect, it } from 'vitest'
import { readPoolMetrics } from '../../src/activity/pool.js'
import { histogramOf, histogramQuantile, parsePrometheusText } from '../../src/activity/prometheus.js'

const PAGE = `# HELP pg_pool_total_connections Connections the pool holds, busy or idle
# TYPE pg_pool_total_connections gauge
pg_pool_total_connections 2
# TYPE pg_pool_idle_connections gauge
pg_pool_idle_connections 0
pg_pool_waiting_requests 48
pg_pool_max_connections 2
# TYPE pg_pool_acquire_duration_seconds histogram
pg_pool_acquire_duration_seconds_bucket{le="0.001"} 50
pg_pool_acquire_duration_seconds_bucket{le="0.01"} 60
pg_pool_acquire_duration_seconds_bucket{le="0.1"} 80
pg_pool_acquire_duration_seconds_bucket{le="1"} 100
pg_pool_acquire_duration_seconds_bucket{le="+Inf"} 100
pg_pool_acquire_duration_seconds_sum 12.5
pg_pool_acquire_duration_seconds_count 100
http_request_duration_seconds_bucket{route="/users/:id/orders",method="GET",status="200",le="0.1"} 7 1764072000000
`

describe('the Prometheus text parser', () => {
  it('reads samples, labels, values, timestamps and TYPE lines', () => {
    const parsed = parsePrometheusText(PAGE)
    expect(parsed.skipped.lines).toBe(0)
    expect(parsed.types.get('pg_pool_acquire_duration_seconds')).toBe('histogram')
    expect(parsed.samples.find((sample) => sample.name === 'pg_pool_waiting_requests')?.value).toBe(48)
    const http = parsed.samples.find((sample) => sample.name === 'http_request_duration_seconds_bucket')!
    expect(http.labels).toEqual({ route: '/users/:id/orders', method: 'GET', status: '200', le: '0.1' })
    expect(http.value).toBe(7)
  })

  it('unescapes label values and keeps __proto__ an ordinary label', () => {
    const parsed = parsePrometheusText('m{a="x\\"y\\\\z\\nw",__proto__="p"} 1\n')
    expect(parsed.samples[0]!.labels.a).toBe('x"y\\z\nw')
    expect(Object.getPrototypeOf(parsed.samples[0]!.labels)).toBe(Object.prototype)
    expect(Object.keys(parsed.samples[0]!.labels)).toEqual(['a', '__proto__'])
    expect(({} as Record<string, unknown>).p).toBeUndefined()
  })

  it('reads NaN, infinities, exponents, CRLF and a last line without newline', () => {
    const parsed = parsePrometheusText('a NaN\r\nb +Inf\r\nc -Inf\nd 1.5e3\ne -0.25')
    expect(parsed.samples.map((sample) => sample.value)).toEqual([
      Number.NaN,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
      1500,
      -0.25,
    ])
    expect(parsed.skipped.lines).toBe(0)
  })

  it.each([
    ['{a="1"} 1', 'no metric name'],
    ['m{a="1" 1', 'label list not closed'],
    ['m{a="1} 1', 'unterminated label value'],
    ['m{a=1} 1', 'label value not quoted'],
    ['m{a} 1', 'label without ='],
    ['m{1a="x"} 1', 'bad label name'],
    ['m{a="1",a="2"} 1', 'duplicate label'],
    ['m', 'no value'],
    ['m one', 'value is not a number'],
    ['m 1 2 3', 'extra fields after the value'],
    ['m 1 soon', 'timestamp is not an integer'],
    ['m{a="1"}1', 'no space before the value'],
    ['m 0x10', 'value is not a number'],
  ])('skips %j and counts it as %s', (line, reason) => {
    const parsed = parsePrometheusText(`ok 1\n${line}\nok 2\n`)
    expect(parsed.samples.map((sample) => sample.value)).toEqual([1, 2])
    expect(parsed.skipped).toEqual({ lines: 1, reasons: { [reason]: 1 }, first: [{ line: 2, reason }] })
  })

  it('survives hostile pages: huge lines, label floods, binary noise, truncation', () => {
    const labels = Array.from({ length: 100 }, (_, i) => `l${i}="v"`).join(',')
    const page = [
      `big ${'9'.repeat(70_000)}`,
      `flood{${labels}} 1`,
      '\u0000\u0001\u00ff garbage',
      'pg_pool_total_connections{pool="a"} 3',
      'pg_pool_idle_connections{pool="a"',
    ].join('\n')
    const parsed = parsePrometheusText(page)
    expect(parsed.samples.map((sample) => sample.name)).toEqual(['pg_pool_total_connections'])
    expect(parsed.skipped.reasons).toEqual({ 'line too long': 1, 'too many labels': 1, 'no metric name': 1, 'label list not closed': 1 })
    expect(parsePrometheusText('').samples).toEqual([])
  })
})

describe('histogram quantiles', () => {
  const histogram = histogramOf(parsePrometheusText(PAGE).samples, 'pg_pool_acquire_duration_seconds')!

  it('interpolates inside the bucket that holds the rank, as histogram_quantile does', () => {
    expect(histogram.count).toBe(100)
    expect(histogramQuantile(histogram, 0.5)).toBeCloseTo(0.001) // rank 50 = the top of the first bucket
    expect(histogramQuantile(histogram, 0.25)).toBeCloseTo(0.0005)
    expect(histogramQuantile(histogram, 0.7)).toBeCloseTo(0.01 + 0.09 * 0.5)
    expect(histogramQuantile(histogram, 0.95)).toBeCloseTo(0.1 + 0.9 * 0.75)
  })

  it('gives the highest finite bound for a rank in +Inf, and nothing for an empty histogram', () => {
    const tail = histogramOf(parsePrometheusText('h_bucket{le="1"} 1\nh_bucket{le="+Inf"} 10\n').samples, 'h')!
    expect(histogramQuantile(tail, 0.99)).toBe(1)
    const empty = histogramOf(parsePrometheusText('h_bucket{le="1"} 0\nh_bucket{le="+Inf"} 0\n').samples, 'h')!
    expect(histogramQuantile(empty, 0.5)).toBeUndefined()
    expect(histogramOf([], 'h')).toBeUndefined()
  })

  it('adds up the buckets of several label sets', () => {
    const text =
      'h_bucket{pool="a",le="1"} 1\nh_bucket{pool="a",le="+Inf"} 2\nh_bucket{pool="b",le="1"} 3\nh_bucket{pool="b",le="+Inf"} 4\n'
    expect(histogramOf(parsePrometheusText(text).samples, 'h')!.buckets).toEqual([
      { le: 1, count: 4 },
      { le: Number.POSITIVE_INFINITY, count: 6 },
    ])
  })
})

describe('the pool from /metrics', () => {
  it('reads total, idle, waiting, max and acquire times', () => {
    const reading = readPoolMetrics(PAGE, 'http://127.0.0.1:3000/metrics')
    expect(reading.ok).toBe(true)
    if (!reading.ok) return
    expect(reading.pool).toMatchObject({ total: 2, idle: 0, waiting: 48, max: 2, source: 'http://127.0.0.1:3000/metrics' })
    expect(reading.pool.acquire).toMatchObject({ count: 100, meanMs: 125 })
    expect(reading.pool.acquire!.p50Ms).toBeCloseTo(1)
  })

  it('says which gauges a page lacks', () => {
    const reading = readPoolMetrics('pg_pool_total_connections 1\nbroken{\n', 'http://x/metrics')
    expect(reading).toEqual({
      ok: false,
      reason: 'http://x/metrics has no pg_pool_idle_connections, pg_pool_waiting_requests (1 unreadable lines skipped)',
    })
  })

  it('works without the max gauge and the histogram (an older service)', () => {
    const reading = readPoolMetrics('pg_pool_total_connections 4\npg_pool_idle_connections 4\npg_pool_waiting_requests 0\n', 'u')
    expect(reading.ok && reading.pool).toEqual({ source: 'u', total: 4, idle: 4, waiting: 0, max: null, acquire: null })
  })
})
