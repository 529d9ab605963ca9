/**
 * The Prometheus text exposition format (0.0.4), as much of it as reading a service's pool gauges
 * and histograms needs: samples with labels and values, `# TYPE` lines. Pure. A line it cannot
 * read is skipped and counted with its reason and line number (the first few), never thrown: a
 * /metrics page with one odd line still shows the pool.
 */

export interface PrometheusSample {
  name: string
  /** Label name -> value (own properties only, so `__proto__` is an ordinary label). */
  labels: Readonly<Record<string, string>>
  value: number
}

export interface PrometheusParse {
  samples: PrometheusSample[]
  /** Metric family name -> counter, gauge, histogram, summary, untyped. */
  types: ReadonlyMap<string, string>
  skipped: { lines: number; reasons: Record<string, number>; first: Array<{ line: number; reason: string }> }
}

/** Longer lines are skipped: no pool gauge needs them, and a hostile page cannot make us scan one forever. */
const MAX_LINE = 64 * 1024
const MAX_LABELS = 64
const MAX_SAMPLES = 200_000
const FIRST_SKIPPED = 5

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/

export function parsePrometheusText(text: string): PrometheusParse {
  const samples: PrometheusSample[] = []
  const types = new Map<string, string>()
  const skipped: PrometheusParse['skipped'] = { lines: 0, reasons: {}, first: [] }
  const skip = (line: number, reason: string) => {
    skipped.lines++
    skipped.reasons[reason] = (skipped.reasons[reason] ?? 0) + 1
    if (skipped.first.length < FIRST_SKIPPED) skipped.first.push({ line, reason })
  }

  let lineNumber = 0
  let start = 0
  while (start <= text.length) {
    let end = text.indexOf('\n', start)
    if (end === -1) end = text.length
    lineNumber++
    const raw = text.slice(start, end)
    start = end + 1
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw
    if (line.trim() === '') {
      if (end === text.length) break
      continue
    }
    if (line.length > MAX_LINE) {
      skip(lineNumber, 'line too long')
      continue
    }
    if (line.startsWith('#')) {
      const type = /^#\s*TYPE\s+([a-zA-Z_:][a-zA-Z0-9_:]*)\s+(counter|gauge|histogram|summary|untyped)\s*$/.exec(line)
      if (type) types.set(type[1]!, type[2]!)
      continue
    }
    if (samples.length >= MAX_SAMPLES) {
      skip(lineNumber, 'too many samples')
      continue
    }
    const parsed = parseSampleLine(line)
    if (typeof parsed === 'string') skip(lineNumber, parsed)
    else samples.push(parsed)
  }
  return { samples, types, skipped }
}

/** One sample line, or the reason it is not one. */
function parseSampleLine(line: string): PrometheusSample | string {
  const name = METRIC_NAME.exec(line)?.[0]
  if (!name) return 'no metric name'
  let at = name.length
  const labels: Array<[string, string]> = []
  if (line[at] === '{') {
    at++
    const seen = new Set<string>()
    for (;;) {
      at = skipSpaces(line, at)
      if (line[at] === '}') {
        at++
        break
      }
      const labelName = LABEL_NAME.exec(line.slice(at, at + 1024))?.[0]
      if (!labelName) return 'bad label name'
      at = skipSpaces(line, at + labelName.length)
      if (line[at] !== '=') return 'label without ='
      at = skipSpaces(line, at + 1)
      if (line[at] !== '"') return 'label value not quoted'
      const value = readQuoted(line, at + 1)
      if (!value) return 'unterminated label value'
      if (seen.has(labelName)) return 'duplicate label'
      if (seen.size >= MAX_LABELS) return 'too many labels'
      seen.add(labelName)
      labels.push([labelName, value.text])
      at = skipSpaces(line, value.end)
      if (line[at] === ',') at++
      else if (line[at] !== '}') return 'label list not closed'
    }
  }
  const rest = line.slice(at)
  if (rest !== '' && !/^[ \t]/.test(rest)) return 'no space before the value'
  const fields = rest.trim().split(/[ \t]+/)
  if (fields.length === 0 || fields[0] === '') return 'no value'
  if (fields.length > 2) return 'extra fields after the value'
  const value = parseValue(fields[0]!)
  if (value === undefined) return 'value is not a number'
  if (fields[1] !== undefined && !/^-?\d+$/.test(fields[1])) return 'timestamp is not an integer'
  return { name, labels: Object.fromEntries(labels), value }
}

function skipSpaces(line: string, at: number): number {
  while (line[at] === ' ' || line[at] === '\t') at++
  return at
}

/** A label value from just after its opening quote: \\, \" and \n escapes; undefined when it never closes. */
function readQuoted(line: string, from: number): { text: string; end: number } | undefined {
  let text = ''
  for (let i = from; i < line.length; i++) {
    const char = line[i]
    if (char === '"') return { text, end: i + 1 }
    if (char === '\\') {
      const next = line[i + 1]
      if (next === undefined) return undefined
      text += next === 'n' ? '\n' : next
      i++
    } else text += char
  }
  return undefined
}

function parseValue(text: string): number | undefined {
  if (text === 'NaN') return Number.NaN
  if (text === '+Inf' || text === 'Inf') return Number.POSITIVE_INFINITY
  if (text === '-Inf') return Number.NEGATIVE_INFINITY
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) return undefined
  return Number(text)
}

/** The sum of a metric's samples over all label sets (several pools add up), undefined when absent. */
export function sumOf(samples: readonly PrometheusSample[], name: string): number | undefined {
  let total: number | undefined
  for (const sample of samples) {
    if (sample.name === name && Number.isFinite(sample.value)) total = (total ?? 0) + sample.value
  }
  return total
}

export interface HistogramBuckets {
  /** Upper bounds ascending, the last one +Inf, with cumulative counts. */
  buckets: Array<{ le: number; count: number }>
  count: number
  sum: number
}

/** A histogram's `_bucket`, `_count` and `_sum` series, added up over label sets; undefined when absent. */
export function histogramOf(samples: readonly PrometheusSample[], name: string): HistogramBuckets | undefined {
  const byBound = new Map<number, number>()
  for (const sample of samples) {
    if (sample.name !== `${name}_bucket`) continue
    const le = sample.labels.le
    const bound = le === undefined ? undefined : parseValue(le)
    if (bound === undefined || Number.isNaN(bound) || !Number.isFinite(sample.value)) continue
    byBound.set(bound, (byBound.get(bound) ?? 0) + sample.value)
  }
  if (byBound.size === 0) return undefined
  const buckets = [...byBound].map(([le, count]) => ({ le, count })).sort((a, b) => a.le - b.le)
  const last = buckets[buckets.length - 1]!
  const count = sumOf(samples, `${name}_count`) ?? (last.le === Number.POSITIVE_INFINITY ? last.count : 0)
  return { buckets, count, sum: sumOf(samples, `${name}_sum`) ?? 0 }
}

/**
 * Prometheus' histogram_quantile: the bucket that holds the rank, interpolated linearly inside it
 * (from 0 for the first bucket); a rank in the +Inf bucket gives the highest finite bound.
 */
export function histogramQuantile(histogram: HistogramBuckets, q: number): number | undefined {
  const { buckets } = histogram
  const total = buckets[buckets.length - 1]?.count ?? 0
  if (total <= 0 || q < 0 || q > 1) return undefined
  const rank = q * total
  let lowerBound = 0
  let lowerCount = 0
  for (const bucket of buckets) {
    if (bucket.count >= rank) {
      if (bucket.le === Number.POSITIVE_INFINITY) return lowerBound
      const inBucket = bucket.count - lowerCount
      if (inBucket <= 0) return bucket.le
      return lowerBound + (bucket.le - lowerBound) * ((rank - lowerCount) / inBucket)
    }
    lowerBound = bucket.le
    lowerCount = bucket.count
  }
  return lowerBound
}
