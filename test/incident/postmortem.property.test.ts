import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { palette, redactValue } from '../../src/core/index.js'
import { createIdGenerator, type JournalEvent } from '../../src/journal/index.js'
import { POSTMORTEM_FORMATS, buildPostmortem, computeMetrics, iso, postmortemDocument, renderStatus, replayIncidents } from './internals.js'

/**
 * Random incidents, written to the journal as a store may hold them (not through the journal's own
 * redaction, so that the post-mortem's must do the work), with secrets of every supported shape
 * planted in titles, notes, alerts, summaries, commands and the changes around them. Every
 * renderer's output must read back (JSON parses, HTML tags balance, Markdown table rows keep
 * their cell count), hold no planted secret, and lose nothing: every timeline entry and figure.
 */
const secret = fc.stringMatching(/^[A-Za-z][A-Za-z0-9]{10,20}[0-9]$/)
const shapes: Array<(s: string) => string> = [
  (s) => `postgres://app:${s}@db:5432/app`,
  (s) => `Authorization: Bearer ${s}`,
  (s) => `authorization: bearer ${s}`,
  (s) => `Basic ${s}`,
  (s) => `password=${s}`,
  (s) => `api_key: ${s}`,
  (s) => `{"password": "${s}"}`,
  (s) => `https://hooks.example/cb?token=${s}&page=2`,
  (s) => `--password ${s}`,
  (s) => `mysql -uroot -p${s} shop`,
]
const word = fc.constantFrom(
  'checkout',
  'p99',
  'rollback',
  'db',
  'ok',
  'the',
  '|',
  '`',
  '<b>',
  '</td>',
  '&amp;',
  '#',
  '- ',
  '*',
  '_',
  ')',
  '"',
  "'",
  '\\',
)
const planted = fc
  .tuple(fc.integer({ min: 0, max: shapes.length - 1 }), secret)
  .map(([shape, s]) => ({ text: shapes[shape]!(s), secret: s }))

interface Text {
  text: string
  secrets: string[]
}
/** Words and planted secrets, joined by spaces or line breaks. */
const text: fc.Arbitrary<Text> = fc
  .array(
    fc.oneof(
      { weight: 3, arbitrary: word.map((w) => ({ text: w, secret: undefined as string | undefined })) },
      { weight: 1, arbitrary: planted },
    ),
    { minLength: 1, maxLength: 6 },
  )
  .chain((parts) =>
    fc.array(fc.constantFrom(' ', ' ', '\n'), { minLength: parts.length, maxLength: parts.length }).map((separators) => ({
      text: `x ${parts.map((part, i) => (i === 0 ? part.text : `${separators[i]}${part.text}`)).join('')}`,
      secrets: parts.flatMap((part) => (part.secret ? [part.secret] : [])),
    })),
  )

type Step =
  | { kind: 'note'; message: Text }
  | { kind: 'ack' }
  | { kind: 'update'; reason: Text; severity: string }
  | { kind: 'mitigate'; summary: Text }
  | { kind: 'resolve'; summary: Text }
  | { kind: 'step'; command: Text }
  | { kind: 'deploy'; version: Text }
  | { kind: 'rollback'; reason: Text }
  | { kind: 'kill'; reason: Text }
  | { kind: 'recover' }

const step: fc.Arbitrary<Step> = fc.oneof(
  text.map((message) => ({ kind: 'note' as const, message })),
  fc.constant({ kind: 'ack' as const }),
  fc.tuple(text, fc.constantFrom('SEV1', 'SEV2', 'SEV4')).map(([reason, severity]) => ({ kind: 'update' as const, reason, severity })),
  text.map((summary) => ({ kind: 'mitigate' as const, summary })),
  text.map((summary) => ({ kind: 'resolve' as const, summary })),
  text.map((command) => ({ kind: 'step' as const, command })),
  text.map((version) => ({ kind: 'deploy' as const, version })),
  text.map((reason) => ({ kind: 'rollback' as const, reason })),
  text.map((reason) => ({ kind: 'kill' as const, reason })),
  fc.constant({ kind: 'recover' as const }),
)

const scenario = fc.record({
  title: text,
  alerts: fc.array(fc.record({ summary: text, description: text, key: secret, url: secret }), { maxLength: 3 }),
  steps: fc.array(step, { maxLength: 12 }),
})

const ID = 'INC-20261125-PROP'
const BASE = Date.parse('2026-11-25T14:00:00.000Z')

/** The scenario as journal events, each a minute and some milliseconds after the last. */
function eventsOf(input: { title: Text; alerts: Array<{ summary: Text; description: Text; key: string; url: string }>; steps: Step[] }) {
  const ids = createIdGenerator()
  const events: JournalEvent[] = []
  const secrets = [...input.title.secrets]
  let minute = 0
  const push = (kind: string, data: Record<string, unknown>, incident = true, actor = 'alice') => {
    const time = BASE + minute++ * 60_123
    events.push({
      v: 1,
      id: ids.next(time),
      time: new Date(time).toISOString(),
      kind,
      actor,
      subject: incident ? ID : 'api',
      links: incident ? { incident: ID } : {},
      data,
    })
  }
  const alerts = input.alerts.map((alert, n) => {
    secrets.push(...alert.summary.secrets, ...alert.description.secrets, alert.key, alert.url)
    return {
      fingerprint: `${n}`.padStart(16, 'a'),
      name: 'HighLatency',
      status: 'firing',
      startsAt: new Date(BASE - (n + 1) * 61_001).toISOString(),
      labels: { alertname: 'HighLatency', instance: `api-${n}`, password: alert.key },
      annotations: { summary: alert.summary.text, description: alert.description.text, api_key: alert.key },
      generatorURL: `http://prometheus:9090/graph?g0.expr=up&token=${alert.url}`,
    }
  })
  push('incident.opened', {
    title: input.title.text,
    severity: 'SEV3',
    source: alerts.length ? 'alertmanager' : 'cli',
    ...(alerts.length ? { alerts, alertGroupKey: '{}:{}' } : {}),
  })
  for (const item of input.steps) {
    const add = (t: Text) => secrets.push(...t.secrets)
    switch (item.kind) {
      case 'note':
        add(item.message)
        push('incident.note', { message: item.message.text }, true, 'carol')
        break
      case 'ack':
        push('incident.acknowledged', { by: 'bob' }, true, 'bob')
        break
      case 'update':
        add(item.reason)
        push('incident.updated', { severity: { to: item.severity }, reason: item.reason.text })
        break
      case 'mitigate':
        add(item.summary)
        push('incident.mitigated', { summary: item.summary.text }, true, 'bob')
        break
      case 'resolve':
        add(item.summary)
        push('incident.resolved', { summary: item.summary.text }, true, 'bob')
        break
      case 'step':
        add(item.command)
        push('runbook.step', { runbook: 'high-latency', step: 'check', status: 'failed', command: item.command.text, exitCode: 1 })
        break
      case 'deploy':
        add(item.version)
        push('deploy.started', { version: item.version.text }, false, 'ci')
        break
      case 'rollback':
        add(item.reason)
        push('deploy.rollback', { reason: item.reason.text, to: 'v41' }, false, 'ci')
        break
      case 'kill':
        add(item.reason)
        push('flag.changed', { flag: 'checkout.new', change: 'killed', reason: item.reason.text }, false, 'bob')
        break
      case 'recover':
        if (alerts.length)
          push('incident.alerts', {
            firing: [],
            resolved: alerts.map((alert) => ({ ...alert, endsAt: new Date(BASE + minute * 60_123).toISOString() })),
          })
        break
    }
  }
  return { events, secrets }
}

/** `| a | b \| c |` has two cells: pipes escaped with a backslash are text. */
function cellCount(row: string): number {
  return row.split(/(?<!\\)\|/).length - 2
}

/** Every Markdown table: each row has the header's cell count. Returns the tables' row counts. */
function markdownTables(md: string): number[][] {
  const tables: number[][] = []
  let current: number[] | undefined
  for (const line of md.split('\n')) {
    if (line.startsWith('|')) {
      if (!current) tables.push((current = []))
      current.push(cellCount(line))
    } else current = undefined
  }
  return tables
}

const VOID = new Set(['meta', 'br', '!doctype'])
/** A strict balance check of the HTML's tags; returns the tags in the order they opened. */
function balancedTags(html: string): string[] {
  const stack: string[] = []
  const opened: string[] = []
  for (const match of html.matchAll(/<(\/?)([!a-z][a-z0-9]*)\b[^<>]*>/gi)) {
    const name = match[2]!.toLowerCase()
    if (VOID.has(name)) continue
    if (match[1]) {
      const top = stack.pop()
      if (top !== name) throw new Error(`</${name}> closes <${top}>`)
    } else {
      stack.push(name)
      opened.push(name)
    }
  }
  if (stack.length) throw new Error(`unclosed: ${stack.join(', ')}`)
  return opened
}

describe('every post-mortem renderer, over random incidents with planted secrets', () => {
  it('reads back, hides every secret, and loses no timeline entry or figure', () => {
    fc.assert(
      fc.property(scenario, (input) => {
        const { events, secrets } = eventsOf(input)
        const [incident] = replayIncidents(events).incidents
        const built = buildPostmortem(incident!, events, { generatedAt: '2026-11-25T16:00:00.000Z', leadInMs: 30 * 60_000 })
        const outputs: string[] = []
        for (const format of POSTMORTEM_FORMATS) {
          const { postmortem, text: document } = postmortemDocument(built, format)
          outputs.push(document)
          // The redacted model has every entry and figure of the built one, with their points.
          expect(postmortem.timeline.map((entry) => [entry.at, entry.kind])).toEqual(built.timeline.map((entry) => [entry.at, entry.kind]))
          expect(postmortem.metrics.map((metric) => [metric.name, metric.from?.at, metric.to?.at, metric.ms])).toEqual(
            built.metrics.map((metric) => [metric.name, metric.from?.at, metric.to?.at, metric.ms]),
          )
          if (format === 'json') {
            const parsed = JSON.parse(document) as typeof postmortem
            expect(parsed.timeline).toHaveLength(built.timeline.length)
            expect(parsed.changes).toHaveLength(built.changes.length)
            expect(parsed.metrics.map((metric) => [metric.from?.at, metric.to?.at])).toEqual(
              built.metrics.map((metric) => [metric.from?.at, metric.to?.at]),
            )
          }
          if (format === 'md') {
            const tables = markdownTables(document)
            for (const table of tables) expect(new Set(table).size).toBe(1)
            // the timeline is the last table but one or the last: header, rule, one row per entry
            expect(tables.some((table) => table.length === built.timeline.length + 2 && table[0] === 5)).toBe(true)
          }
          if (format === 'html') {
            const tags = balancedTags(document)
            expect(tags).not.toContain('script')
            expect(document.split('\n').filter((line) => line.startsWith('<tr><td>')).length).toBeGreaterThanOrEqual(built.timeline.length)
          }
          if (format !== 'json') for (const entry of built.timeline) expect(document).toContain(iso(entry.at))
        }
        outputs.push(renderStatus(redactValue({ incident: incident!, metrics: computeMetrics(incident!) }), palette(false)))
        // incident status --json: figures share their points (a declaration ends one and starts the next); each keeps both.
        const metrics = computeMetrics(incident!)
        const statusJson = JSON.stringify(redactValue({ incident, metrics }))
        expect((JSON.parse(statusJson) as { metrics: typeof metrics }).metrics).toEqual(JSON.parse(JSON.stringify(metrics)))
        outputs.push(statusJson)
        for (const output of outputs) for (const planted of secrets) expect(output).not.toContain(planted)
      }),
      { numRuns: 150, seed: 20261125 },
    )
  })
})
